// Live reload as a person sees it: `serve-dir --watch` started through the CLI on a temporary
// copy of a small site, pages opened in headless Chromium, files edited on disk. What is checked
// is what the page shows and keeps: the new colour, the window's state and scroll position,
// how many times it loaded.

import { writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Locator, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onCleanup, startCli, stopCli, tempDir, writeTree, type StartedCli, type Tree } from '../helpers/server.js';
import { hasChromium, launchBrowser, requireChromium } from './browser.js';

/** Bound on every wait for the page or the terminal (an edit shows within tens of milliseconds when all is well). */
const WAIT_TIMEOUT_MS = 5000;

/**
 * How long a burst is given to cause a second reload, if it were going to. Every other wait
 * in this file is for an event; this one is for a non-event, so it has to be a time. The
 * watcher's own delays add up to about 310 ms: a batch is flushed at the latest 150 ms after
 * its first change, each announced file is looked at again 60 ms later (and announced again if
 * it changed), and a file seen empty is held back up to 100 ms for the write that usually
 * follows. 600 ms leaves a busy machine room to deliver a second batch and start a navigation.
 */
const NO_SECOND_RELOAD_WAIT_MS = 600;

const siteCss = (background: string) => `body { background-color: ${background}; }\nmain { display: block; height: 4000px; }\n`;
const deepCss = (headingColour: string) => `h1 { color: ${headingColour}; }\n`;
const indexHtml = (heading: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>live reload</title>
<link rel="stylesheet" href="css/site.css">
<link rel="stylesheet" href="nested/deep.css?v=3">
</head>
<body>
<h1>${heading}</h1>
<main>A page taller than the window, to scroll.</main>
<script src="js/app.js"></script>
</body>
</html>
`;

const SITE: Tree = {
  'index.html': indexHtml('Version one'),
  'css/site.css': siteCss('rgb(255, 255, 255)'),
  'nested/deep.css': deepCss('rgb(0, 0, 0)'),
  'js/app.js': 'document.documentElement.dataset.app = "ran";\n',
};

/** Where each document of a tab adds itself to the tab's count of loads (sessionStorage lasts as long as the tab). */
const LOAD_COUNT_KEY = 'serve-dir-test-loads';

/** A page-side expression: the page's live-reload client has heard the server's "hello". */
const LISTENING = 'window.__serveDir != null && window.__serveDir.server != null';

/** A page-side expression: how many stylesheet links point at `path` (a replaced one is removed once its successor has loaded). */
const stylesheetLinkCount = (path: string) => `document.querySelectorAll('link[rel="stylesheet"][href*="${path}"]').length`;

/** What the server printed (each batch it announced, each request), to explain a failure. */
function terminal(cli: StartedCli): string {
  return `\nserve-dir printed:\n${cli.stdout()}`;
}

/** Awaits `waiting`; if it fails, the failure also shows what the server printed. */
async function explained<T>(cli: StartedCli, waiting: Promise<T>): Promise<T> {
  try {
    return await waiting;
  } catch (error) {
    if (error instanceof Error) error.message += terminal(cli);
    throw error;
  }
}

/** `waiting`, failing after WAIT_TIMEOUT_MS with a message naming `what` it waited for. */
async function bounded<T>(waiting: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`waited ${WAIT_TIMEOUT_MS} ms for ${what}`)), WAIT_TIMEOUT_MS);
  });
  try {
    return await Promise.race([waiting, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves when the server has printed a line matching `pattern`. */
function printed(cli: StartedCli, pattern: RegExp): Promise<RegExpMatchArray> {
  return explained(cli, bounded(cli.waitForStdout(pattern), `serve-dir to print ${pattern}`));
}

function startWatching(root: string, port: number): Promise<StartedCli> {
  return startCli([root, '--watch', '--port', String(port)]);
}

/** The CLI prints a line once its watcher has scanned the tree: changes from then on are seen. */
async function watcherReady(cli: StartedCli): Promise<void> {
  await printed(cli, /live reload: watching for changes/);
}

requireChromium();

describe.skipIf(!hasChromium)('live reload in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  interface LivePage {
    page: Page;
    response: Response | null;
    /** How many documents the tab has loaded (1 after opening it), as counted by the current one. */
    loads(): Promise<number>;
  }

  /** Opens `url` in a fresh browser context and waits until its live-reload client listens. */
  async function openLivePage(url: string): Promise<LivePage> {
    const context = await browser.newContext();
    onCleanup(() => context.close());
    context.setDefaultTimeout(WAIT_TIMEOUT_MS);
    // Counted by each document as it starts, before its own scripts: once a reloaded page's new
    // text is visible, the count includes it (its 'load' event may still be to come).
    await context.addInitScript(`sessionStorage.setItem('${LOAD_COUNT_KEY}', String(Number(sessionStorage.getItem('${LOAD_COUNT_KEY}')) + 1))`);
    const page = await context.newPage();
    const response = await page.goto(url);
    await page.waitForFunction(LISTENING);
    return { page, response, loads: () => page.evaluate(`Number(sessionStorage.getItem('${LOAD_COUNT_KEY}'))`) as Promise<number> };
  }

  /** A temporary copy of the site (plus `extraFiles`) served by `serve-dir --watch`, its watcher ready. */
  async function startSite(extraFiles: Tree = {}): Promise<{ root: string; cli: StartedCli }> {
    const root = await tempDir('serve-dir-browser-');
    await writeTree(root, { ...SITE, ...extraFiles });
    const cli = await startWatching(root, 0);
    await watcherReady(cli);
    return { root, cli };
  }

  async function stylesheetUrls(page: Page): Promise<URL[]> {
    const hrefs = (await page.evaluate(`[...document.querySelectorAll('link[rel="stylesheet"]')].map((link) => link.href)`)) as string[];
    return hrefs.map((href) => new URL(href));
  }

  it('swaps a changed stylesheet in place: the page keeps its state and scroll position, and does not reload', async () => {
    const { root, cli } = await startSite();
    const { page, loads } = await openLivePage(`${cli.url}/`);
    await page.evaluate('window.__marker = 42; window.scrollTo(0, 500)');
    expect(await page.evaluate('window.scrollY'), terminal(cli)).toBe(500);

    await writeFile(join(root, 'css/site.css'), siteCss('rgb(0, 128, 0)'));
    await explained(
      cli,
      page.waitForFunction(`getComputedStyle(document.body).backgroundColor === 'rgb(0, 128, 0)' && ${stylesheetLinkCount('css/site.css')} === 1`),
    );

    expect(await page.evaluate('window.__marker')).toBe(42);
    expect(await page.evaluate('window.scrollY')).toBe(500);
    expect(await loads(), terminal(cli)).toBe(1);
    // The terminal says what changed and how many pages were told.
    await printed(cli, /^↻ css\/site\.css → 1 page$/m);
  });

  it('swaps a stylesheet in a nested folder linked with a query string, keeping its query', async () => {
    const { root, cli } = await startSite();
    const { page, loads } = await openLivePage(`${cli.url}/`);
    await page.evaluate('window.__marker = 42');

    await writeFile(join(root, 'nested/deep.css'), deepCss('rgb(200, 0, 0)'));
    await explained(
      cli,
      page.waitForFunction(
        `getComputedStyle(document.querySelector('h1')).color === 'rgb(200, 0, 0)' && ${stylesheetLinkCount('nested/deep.css')} === 1`,
      ),
    );

    const [site, deep] = await stylesheetUrls(page);
    expect(deep?.pathname).toBe('/nested/deep.css');
    expect(deep?.searchParams.get('v')).toBe('3');
    expect(deep?.searchParams.has('serve-dir')).toBe(true);
    // Only the changed stylesheet is replaced.
    expect(site?.href).toBe(`${cli.url}/css/site.css`);
    expect(await page.evaluate('window.__marker')).toBe(42);
    expect(await loads(), terminal(cli)).toBe(1);
  });

  it('reloads the page once when its HTML changes', async () => {
    const { root, cli } = await startSite();
    const { page, loads } = await openLivePage(`${cli.url}/`);
    await page.evaluate('window.__marker = 42');

    await writeFile(join(root, 'index.html'), indexHtml('Version two'));
    await explained(cli, page.getByRole('heading', { name: 'Version two' }).waitFor());

    expect(await page.evaluate('window.__marker')).toBeUndefined();
    expect(await loads(), terminal(cli)).toBe(2);
  });

  it('reloads once for a burst: 20 modules and the page written at once', async () => {
    const { root, cli } = await startSite();
    const { page, loads } = await openLivePage(`${cli.url}/`);
    const printedBefore = cli.stdout().length;

    // All at once, as a build tool writes its output: one synchronous run of writes, a few
    // milliseconds long. Writes through the thread pool, interleaved with this process's other
    // work, came more than 60 ms apart on a loaded machine, and a save that comes that long
    // after the rest of a burst is rightly a batch (and a reload) of its own.
    for (let i = 0; i < 20; i++) writeFileSync(join(root, `js/module-${i}.js`), `export const n = ${i};\n`);
    writeFileSync(join(root, 'index.html'), indexHtml('After the burst'));
    await explained(cli, page.getByRole('heading', { name: 'After the burst' }).waitFor());
    await page.waitForFunction(LISTENING);

    await new Promise((resolve) => setTimeout(resolve, NO_SECOND_RELOAD_WAIT_MS));
    expect(await loads(), terminal(cli)).toBe(2);
    const batchLines = cli.stdout().slice(printedBefore).match(/^↻ .*$/gm);
    expect(batchLines, terminal(cli)).toEqual([expect.stringMatching(/\(\+20 more\) → 1 page$/)]);
  });

  it('reloads open pages once when the server restarts on the same port, showing what changed meanwhile', async () => {
    const { root, cli } = await startSite();
    const { page, loads } = await openLivePage(`${cli.url}/`);
    await page.evaluate('window.__marker = 42');

    expect((await stopCli(cli)).code).toBe(0);
    await writeFile(join(root, 'index.html'), indexHtml('Edited while stopped'));
    const restarted = await startWatching(root, cli.port);
    expect(restarted.port).toBe(cli.port);

    await explained(restarted, page.getByRole('heading', { name: 'Edited while stopped' }).waitFor());
    await page.waitForFunction(LISTENING);
    expect(await page.evaluate('window.__marker')).toBeUndefined();
    expect(await loads(), terminal(cli) + terminal(restarted)).toBe(2);
  });

  it('delivers a change made while the page was loading, before its event stream opened', async () => {
    const { root, cli } = await startSite();
    const context = await browser.newContext();
    onCleanup(() => context.close());
    context.setDefaultTimeout(WAIT_TIMEOUT_MS);
    const page = await context.newPage();
    // Hold the page's event stream until the change below has been announced to nobody.
    let releaseStream!: () => void;
    const streamHeld = new Promise<void>((resolve) => (releaseStream = resolve));
    await page.route('**/__serve-dir/events*', async (route) => {
      await streamHeld;
      await route.continue();
    });
    await page.goto(`${cli.url}/`);
    await writeFile(join(root, 'index.html'), indexHtml('Saved while loading'));
    await printed(cli, /↻ index\.html → 0 pages/);

    releaseStream();
    await explained(cli, page.getByRole('heading', { name: 'Saved while loading' }).waitFor());
  });

  interface GeneratedPageCase {
    page: string;
    extraFiles: Tree;
    path: string;
    status: number;
    /** What the page shows when opened. */
    before: (page: Page) => Locator;
    /** Files whose creation changes what the page shows ... */
    create: Tree;
    /** ... to this. */
    after: (page: Page) => Locator;
  }

  const missingPageCreated = {
    create: { 'missing.html': '<!doctype html><title>found</title><p>Now it exists</p>' },
    after: (page: Page) => page.getByText('Now it exists'),
  };

  const generatedPages: GeneratedPageCase[] = [
    {
      page: 'the built-in 404 page',
      extraFiles: {},
      path: '/missing.html',
      status: 404,
      before: (page) => page.getByRole('heading', { name: '404 Not Found' }),
      ...missingPageCreated,
    },
    {
      page: "the site's own 404.html",
      // Neither </body> nor </html>: the script is appended.
      extraFiles: { '404.html': '<!doctype html><title>lost</title><p>This page is lost' },
      path: '/missing.html',
      status: 404,
      before: (page) => page.getByText('This page is lost'),
      ...missingPageCreated,
    },
    {
      page: 'a directory listing',
      extraFiles: {},
      path: '/nested/',
      status: 200,
      before: (page) => page.getByRole('link', { name: 'deep.css' }),
      create: { 'nested/added.html': 'added' },
      after: (page) => page.getByRole('link', { name: 'added.html' }),
    },
  ];

  it.each(generatedPages)('puts the script into $page, which reloads on a change', async ({ extraFiles, path, status, before, create, after }) => {
    const { root, cli } = await startSite(extraFiles);
    const { page, response, loads } = await openLivePage(`${cli.url}${path}`);
    expect(response?.status()).toBe(status);
    await before(page).waitFor();

    await writeTree(root, create);
    await explained(cli, after(page).waitFor());
    expect(await loads(), terminal(cli)).toBe(2);
  });

  /** A page whose own script holds "</body>", with a commented-out "</body>" after its end, `padding` bytes of text in between. */
  const trickyPage = (heading: string, padding: number) =>
    `<!doctype html><meta charset="utf-8"><title>tricky</title><h1>${heading}</h1>\n` +
    `<script>document.documentElement.dataset.end = "</body>";</script>\n<p>${'x'.repeat(padding)}</p>\n` +
    '</body></html>\n<!-- </body> -->\n';

  it.each([
    ['in memory', 0],
    ['streamed (larger than the file cache holds)', 300 * 1024],
  ])('puts the script where it runs, not in a script string or a comment: a page %s', async (_how, padding) => {
    const { root, cli } = await startSite({ 'tricky.html': trickyPage('Tricky one', padding) });
    const { page, loads } = await openLivePage(`${cli.url}/tricky.html`);
    // The page's own script ran intact, and the live-reload client listens (openLivePage waited).
    expect(await page.evaluate('document.documentElement.dataset.end')).toBe('</body>');

    await writeFile(join(root, 'tricky.html'), trickyPage('Tricky two', padding));
    await explained(cli, page.getByRole('heading', { name: 'Tricky two' }).waitFor());
    expect(await loads(), terminal(cli)).toBe(2);
  });
});
