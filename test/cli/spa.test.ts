// --spa (alias -s, --single) and --clean-urls end to end through the CLI: which misses get the
// app's page, which keep their 404, clean-URL redirects, the config keys, and as middleware.
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../src/index.js';
import { cleanup, onCleanup, request, runCli, startCli, tempDir, writeTree, type StartedCli } from '../helpers/server.js';

afterAll(cleanup);

/** Chromium's Accept for a navigation. */
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';
const SHELL = '<!doctype html><html><head><base href="/"></head><body>app shell</body></html>\n';

const SITE = {
  'index.html': SHELL,
  'custom.html': '<!doctype html><html><body>custom shell</body></html>\n',
  'app.js': 'console.log(1)\n',
  'about.html': '<!doctype html><html><body>about page</body></html>\n',
  'docs/index.html': 'docs index\n',
  'docs/guide.html': 'docs guide\n',
  'files/a.txt': 'a\n',
  'empty/': '',
  '.secret.html': 'secret\n',
  '.env': 'TOKEN=x\n',
  'both.html': 'both page\n',
  'both/index.html': 'both folder\n',
};

let root: string;
let spa: StartedCli;
let single: StartedCli;
let noListing: StartedCli;
let clean: StartedCli;
let spaClean: StartedCli;
let plain: StartedCli;

beforeAll(async () => {
  root = await tempDir();
  await writeTree(root, SITE);
  [spa, single, noListing, clean, spaClean, plain] = await Promise.all([
    startCli([root, '--port', '0', '--quiet', '--spa']),
    startCli([root, '--port', '0', '--quiet', '-s', 'custom.html']),
    startCli([root, '--port', '0', '--quiet', '--single', '--no-listing']),
    startCli([root, '--port', '0', '--quiet', '--clean-urls']),
    startCli([root, '--port', '0', '--quiet', '--spa', '--clean-urls']),
    startCli([root, '--port', '0', '--quiet']),
  ]);
}, 30_000);

/** The status and, for 200s, what was served. */
async function answer(port: number, target: string, accept: string | null = BROWSER, method = 'GET') {
  const response = await request(port, target, { method, headers: accept === null ? {} : { Accept: accept } });
  return { status: response.status, body: response.text, location: response.headers['location'] };
}

describe('--spa: navigations to missing paths get the app; everything else keeps its answer', () => {
  // [what, target, Accept, method, status, body contains]
  const cases: Array<[string, string, string | null, string, number, string]> = [
    ['a route', '/dashboard', BROWSER, 'GET', 200, 'app shell'],
    ['a deep route', '/dashboard/settings/profile', BROWSER, 'GET', 200, 'app shell'],
    ['a route with a query', '/dashboard?tab=2&x=%20', BROWSER, 'GET', 200, 'app shell'],
    ['a percent-encoded route', '/caf%C3%A9/men%C3%BC', BROWSER, 'GET', 200, 'app shell'],
    ['a route with a dot that is no extension', '/user/john.doe', BROWSER, 'GET', 200, 'app shell'],
    ['a route with a slash', '/dashboard/', BROWSER, 'GET', 200, 'app shell'],
    ['a route under a real folder', '/docs/nope', BROWSER, 'GET', 200, 'app shell'],
    ['HEAD of a route', '/dashboard', BROWSER, 'HEAD', 200, ''],
    ['Accept text/html alone', '/dashboard', 'text/html', 'GET', 200, 'app shell'],
    ['a missing script', '/app2.js', BROWSER, 'GET', 404, '404'],
    ['a missing image, deep', '/img/x.png', BROWSER, 'GET', 404, '404'],
    ['a missing page.html', '/missing.html', BROWSER, 'GET', 404, '404'],
    ['a route fetched with */*', '/dashboard', '*/*', 'GET', 404, '404'],
    ['a route fetched as JSON', '/dashboard', 'application/json', 'GET', 404, '404'],
    ['a route without Accept', '/dashboard', null, 'GET', 404, '404'],
    ['text/html refused', '/dashboard', 'text/html;q=0', 'GET', 404, '404'],
    ['a hidden name', '/.env', BROWSER, 'GET', 404, '404'],
    ['a hidden route', '/.config/app', BROWSER, 'GET', 404, '404'],
    ['an encoded hidden name', '/%2Eenv', BROWSER, 'GET', 404, '404'],
    ['a climb out of the root', '/../etc/passwd', BROWSER, 'GET', 400, '400'],
    ['POST to a route', '/dashboard', BROWSER, 'POST', 405, '405'],
    ['DELETE of a route', '/dashboard', BROWSER, 'DELETE', 405, '405'],
    ['a real file', '/app.js', BROWSER, 'GET', 200, 'console.log'],
    ['a real page', '/about.html', BROWSER, 'GET', 200, 'about page'],
    ['a real folder with an index', '/docs/', BROWSER, 'GET', 200, 'docs index'],
    ['a real folder without its slash', '/docs', BROWSER, 'GET', 301, '301'],
    ['a real folder without an index: its listing', '/files/', BROWSER, 'GET', 200, 'a.txt'],
    ['a file asked for as a folder', '/files/a.txt/', BROWSER, 'GET', 404, '404'],
  ];
  it.each(cases)('%s: %s', async (_what, target, accept, method, status, body) => {
    const got = await answer(spa.port, target, accept, method);
    expect(got.status).toBe(status);
    expect(got.body).toContain(body);
    if (status === 200 && body === 'app shell') {
      // Without --spa the same request is a 404: the test can fail.
      expect((await answer(plain.port, target, accept, method)).status).toBe(404);
    }
  });

  it('the page is a file like any other: ETag, a 304, and Vary: Accept', async () => {
    const first = await request(spa.port, '/dashboard/x', { headers: { Accept: BROWSER } });
    expect(first.headers['etag']).toMatch(/^"/);
    expect(first.headers['vary']).toMatch(/\bAccept\b/);
    expect(first.headers['content-type']).toBe('text/html; charset=utf-8');
    const again = await request(spa.port, '/other/route', { headers: { Accept: BROWSER, 'If-None-Match': first.headers['etag']! } });
    expect(again.status).toBe(304);
  });

  it('--no-listing: a real folder without an index keeps its 404', async () => {
    expect(await answer(noListing.port, '/empty/')).toMatchObject({ status: 404 });
    expect(await answer(noListing.port, '/files/')).toMatchObject({ status: 404 });
    expect(await answer(noListing.port, '/dashboard')).toMatchObject({ status: 200, body: SHELL });
  });

  it('-s custom.html serves that file', async () => {
    expect(await answer(single.port, '/dashboard/settings')).toMatchObject({ status: 200, body: expect.stringContaining('custom shell') });
    expect(await answer(single.port, '/')).toMatchObject({ status: 200, body: SHELL }); // the real index still wins
  });
});

describe('--spa: start-up errors are one line, exit 1', () => {
  it.each([
    ['a page that does not exist', ['--spa', 'missing.html'], /^serve-dir: --spa: missing\.html not found in \S+ \(name the app's page: --spa 200\.html\)\n$/],
    ['a hidden page', ['--spa', '.secret.html'], /^serve-dir: invalid --spa: must name a file inside the served folder.*\n$/],
    ['a page outside the root', ['--spa', '../index.html'], /^serve-dir: invalid --spa: must name a file inside the served folder.*\n$/],
    ['a folder, as `serve -s build` is written', ['-s', 'docs'], /^serve-dir: --spa "docs" names the page to serve, not the folder .*serve-dir docs --spa\)\n$/],
    ['both spellings', ['--spa', '--single'], /^serve-dir: .*cannot be used with.*\n$/],
  ])('%s', async (_what, flags, expected) => {
    // -s docs is read relative to the working directory, where `docs` is a folder.
    const args = flags[1] === 'docs' ? flags : [root, ...flags];
    const { code, stdout, stderr } = await runCli([...args, '--port', '0'], { cwd: root });
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr).toMatch(expected);
  });
});

describe('--clean-urls', () => {
  // [what, target, status, body or Location]
  const cases: Array<[string, string, number, string]> = [
    ['a page without .html', '/about', 200, 'about page'],
    ['a page in a folder', '/docs/guide', 200, 'docs guide'],
    ['a page with a query', '/about?x=1', 200, 'about page'],
    ['.html redirects, query kept', '/about.html?x=1&y=%20', 301, '/about?x=1&y=%20'],
    ['the slash form redirects', '/about/', 301, '/about'],
    ['the slash form keeps its query', '/about/?q=2', 301, '/about?q=2'],
    ['index.html redirects to its folder', '/docs/index.html', 301, '/docs/'],
    ['a folder keeps its slash redirect', '/docs', 301, '/docs/'],
    ['a folder keeps its index', '/docs/', 200, 'docs index'],
    ['a folder and a page of one name: the folder wins', '/both', 301, '/both/'],
    ['...and both.html is not redirected onto the folder', '/both.html', 200, 'both page'],
    ['a hidden page stays hidden', '/.secret', 404, '404'],
    ['...in any spelling', '/.secret.html', 404, '404'],
    ['a missing page', '/nothing', 404, '404'],
    ['other files are untouched', '/app.js', 200, 'console.log'],
  ];
  it.each(cases)('%s: %s', async (_what, target, status, expected) => {
    const got = await answer(clean.port, target);
    expect(got.status).toBe(status);
    if (status === 301) expect(got.location).toBe(expected);
    else expect(got.body).toContain(expected);
  });

  it('without --clean-urls, /about is a 404 and /about.html is served', async () => {
    expect((await answer(plain.port, '/about')).status).toBe(404);
    expect((await answer(plain.port, '/about.html')).status).toBe(200);
  });

  it('a hidden page stays hidden under --dotfiles too', async () => {
    const cli = await startCli([root, '--port', '0', '--quiet', '--clean-urls', '--dotfiles']);
    expect((await answer(cli.port, '/.secret')).status).toBe(404);
  });
});

describe('--spa --clean-urls together', () => {
  // A page's clean URL comes first, then the app; assets still 404.
  it.each([
    ['/about', 200, 'about page'],
    ['/about.html', 301, '/about'],
    ['/dashboard/settings', 200, 'app shell'],
    ['/docs/guide', 200, 'docs guide'],
    ['/docs/nope', 200, 'app shell'],
    ['/app2.js', 404, '404'],
    ['/.secret', 404, '404'],
  ] as const)('%s -> %s', async (target, status, expected) => {
    const got = await answer(spaClean.port, target);
    expect(got.status).toBe(status);
    if (status === 301) expect(got.location).toBe(expected);
    else expect(got.body).toContain(expected);
  });
});

describe('config keys spa and cleanUrls', () => {
  it('apply as the flags do, and a flag overrides the file', async () => {
    const dir = await tempDir();
    await writeTree(dir, { ...SITE });
    await writeFile(join(dir, 'serve-dir.config.json'), JSON.stringify({ spa: 'custom.html', cleanUrls: true }));
    const cli = await startCli([dir, '--port', '0', '--quiet'], { cwd: dir });
    expect(await answer(cli.port, '/route')).toMatchObject({ status: 200, body: expect.stringContaining('custom shell') });
    expect(await answer(cli.port, '/about')).toMatchObject({ status: 200, body: expect.stringContaining('about page') });
    const overridden = await startCli([dir, '--port', '0', '--quiet', '--spa', 'index.html'], { cwd: dir });
    expect(await answer(overridden.port, '/route')).toMatchObject({ status: 200, body: SHELL });
  });
});

describe('as Express middleware', () => {
  let port: number;
  beforeAll(async () => {
    const app = express();
    app.get('/api/me', (_req, res) => {
      res.json({ me: true });
    });
    app.use(createHandler({ directory: root, spa: true, cleanUrls: true }));
    app.use('/static', createHandler({ directory: root, cleanUrls: true }));
    app.use((_req, res) => {
      res.status(404).type('text/plain').send('app 404');
    });
    const server: Server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onCleanup(() => new Promise<void>((done) => server.close(() => done())));
    port = (server.address() as AddressInfo).port;
  });

  // Navigations get the app's page (the app asked for it); other misses reach the app's next handler.
  it.each([
    ['/dashboard/settings', BROWSER, 200, 'app shell'],
    ['/about', BROWSER, 200, 'about page'],
    ['/api/me', BROWSER, 200, '{"me":true}'],
    ['/app2.js', BROWSER, 404, 'app 404'],
    ['/dashboard', '*/*', 404, 'app 404'],
    ['/dashboard', 'application/json', 404, 'app 404'],
  ] as const)('%s (Accept %s) -> %s', async (target, accept, status, body) => {
    const got = await answer(port, target, accept);
    expect(got.status).toBe(status);
    expect(got.body).toContain(body);
  });

  it('clean-URL redirects keep the mount prefix', async () => {
    // The first handler (spa, at /) answers /static/... navigations only when nothing matches: use a
    // non-navigation Accept so the request reaches the mounted one.
    const got = await answer(port, '/static/about.html?x=1', '*/*');
    expect(got).toMatchObject({ status: 301, location: '/static/about?x=1' });
  });

  it('POST to a route goes to the app', async () => {
    expect(await answer(port, '/dashboard', BROWSER, 'POST')).toMatchObject({ status: 404, body: 'app 404' });
  });
});
