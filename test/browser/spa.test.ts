// A single-page app as a person uses it: `serve-dir --spa --watch` through the CLI, a small app
// with client-side routes (history.pushState) in headless Chromium. Opened at a deep route, it
// renders that route; links and the back button move between routes without a request; an edit
// to the shell reloads the page; a missing asset is a real 404, not the shell.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onCleanup, startCli, tempDir, writeTree, type StartedCli } from '../helpers/server.js';
import { hasChromium, launchBrowser, requireChromium } from './browser.js';

/** Bound on every wait for the page (each happens within milliseconds when all is well). */
const WAIT_TIMEOUT_MS = 8000;

// The app's assets are linked root-relative: at /dashboard/settings a relative `app.js` would
// mean /dashboard/app.js (see the README's "Single-page apps and clean URLs").
const shell = (title: string) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${title}</title><script type="module" src="/assets/app.js"></script></head>
<body>
<h1 id="title">${title}</h1>
<nav><a href="/">home</a> <a href="/dashboard/settings/profile">profile</a> <a href="/users/john.doe">john</a></nav>
<p id="route"></p>
</body>
</html>
`;

const APP = `
const render = () => { document.getElementById('route').textContent = 'route ' + location.pathname + location.search; };
document.addEventListener('click', (event) => {
  const link = event.target.closest('a');
  if (link === null) return;
  event.preventDefault();
  history.pushState(null, '', link.href);
  render();
});
window.addEventListener('popstate', render);
render();
`;

requireChromium();

describe.skipIf(!hasChromium)('--spa --watch in Chromium', () => {
  let browser: Browser;
  let root: string;
  let cli: StartedCli;

  beforeAll(async () => {
    root = await tempDir('serve-dir-spa-');
    await writeTree(root, { 'index.html': shell('Shell one'), 'assets/app.js': APP });
    [browser, cli] = await Promise.all([launchBrowser(), startCli([root, '--spa', '--watch', '--port', '0'])]);
    await cli.waitForStdout(/live reload: watching for changes/);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('a deep route, history navigation, reload on edit, and a real 404 for a missing asset', async () => {
    const context = await browser.newContext();
    onCleanup(() => context.close());
    context.setDefaultTimeout(WAIT_TIMEOUT_MS);
    const page = await context.newPage();
    const requested: string[] = [];
    page.on('request', (request) => requested.push(new URL(request.url()).pathname));

    // By URL: the shell loads at a deep route with a query, and its script renders the route.
    const response = await page.goto(`${cli.url}/dashboard/settings?tab=2`);
    expect(response?.status()).toBe(200);
    await page.locator('#route', { hasText: 'route /dashboard/settings?tab=2' }).waitFor();
    expect(await page.locator('#title').textContent()).toBe('Shell one');

    // By history: a click is a pushState, no request; back returns to the first route.
    const before = requested.length;
    await page.getByRole('link', { name: 'john' }).click();
    await page.locator('#route', { hasText: 'route /users/john.doe' }).waitFor();
    expect(page.url()).toBe(`${cli.url}/users/john.doe`);
    await page.goBack();
    await page.locator('#route', { hasText: 'route /dashboard/settings?tab=2' }).waitFor();
    expect(requested.slice(before)).toEqual([]);

    // A reload at a route the app pushed is a navigation the server answers with the shell.
    await page.getByRole('link', { name: 'profile' }).click();
    await page.reload();
    await page.locator('#route', { hasText: 'route /dashboard/settings/profile' }).waitFor();

    // The live-reload script is in the shell: an edit reloads the page, which stays on its route.
    await page.waitForFunction('window.__serveDir != null && window.__serveDir.server != null');
    await writeFile(join(root, 'index.html'), shell('Shell two'));
    await page.locator('#title', { hasText: 'Shell two' }).waitFor();
    await page.locator('#route', { hasText: 'route /dashboard/settings/profile' }).waitFor();

    // A missing asset is a 404, from the page as from a <script>; a navigation-like fetch gets the shell.
    const statuses = await page.evaluate(async () => {
      const asset = await fetch('/assets/missing.js');
      const image = await fetch('/img/logo.png');
      const route = await fetch('/another/route', { headers: { Accept: 'text/html' } });
      return [asset.status, image.status, route.status];
    });
    expect(statuses).toEqual([404, 404, 200]);
  });
});
