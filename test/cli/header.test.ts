// -H/--header end to end through the CLI (on every kind of answer, replacing built-in fields),
// and the path-scoped `headers` rules through the library.
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler, type Options } from '../../src/index.js';
import { cleanup, failingDiskPreload, onCleanup, request, runCli, serveDirectory, startCli, tempDir, writeTree, type RawResponse, type StartedCli } from '../helpers/server.js';

afterAll(cleanup);

/** How many header lines of the raw response have this name. */
const linesNamed = (response: RawResponse, name: string) => response.headerNames.filter((seen) => seen.toLowerCase() === name).length;

let root: string;
let cli: StartedCli;

beforeAll(async () => {
  root = await tempDir();
  await writeTree(root, { 'a.txt': 'hello', 'page.html': '<p>x</p>', 'docs/': '', 'docs/x.txt': 'x', 'assets/app.js': 'let a;', 'assets/deep/b.css': 'p{}' });
  cli = await startCli([
    root, '--port', '0', '--quiet',
    '-H', 'Cross-Origin-Opener-Policy: same-origin',
    '--header', 'X-Custom:  spaced value ',
    '-H', 'Cache-Control: max-age=60',
    '-H', 'X-Content-Type-Options: nosniff',
  ]);
});

describe('-H on every response', () => {
  // [what, target, request headers, method, expected status]
  const cases: Array<[string, string, Record<string, string>, string, number]> = [
    ['a file', '/a.txt', {}, 'GET', 200],
    ['a page', '/page.html', {}, 'GET', 200],
    ['HEAD', '/a.txt', {}, 'HEAD', 200],
    ['a 404', '/missing', {}, 'GET', 404],
    ['a 301', '/docs', {}, 'GET', 301],
    ['a listing', '/docs/', {}, 'GET', 200],
    ['a JSON listing', '/docs/', { Accept: 'application/json' }, 'GET', 200],
    ['a range', '/a.txt', { Range: 'bytes=0-1' }, 'GET', 206],
    ['a 416', '/a.txt', { Range: 'bytes=100-' }, 'GET', 416],
    ['a 405', '/a.txt', {}, 'DELETE', 405],
    ['a 400 (bad Host)', '/a.txt', { }, 'GET', 400],
    ['OPTIONS', '/a.txt', {}, 'OPTIONS', 204],
  ];
  it.each(cases)('%s', async (what, target, headers, method, status) => {
    const response = await request(cli.port, target, { method, headers, ...(status === 400 ? { hostHeader: 'a b' } : {}) });
    expect(response.status, what).toBe(status);
    expect(response.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(response.headers['x-custom']).toBe('spaced value');
    expect(linesNamed(response, 'cache-control')).toBe(1);
    expect(response.headers['cache-control']).toBe('max-age=60');
  });

  it('a 304, with exactly one Cache-Control line', async () => {
    const first = await request(cli.port, '/a.txt');
    const response = await request(cli.port, '/a.txt', { headers: { 'If-None-Match': first.headers['etag']! } });
    expect(response.status).toBe(304);
    expect(response.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(linesNamed(response, 'cache-control')).toBe(1);
    expect(response.headers['cache-control']).toBe('max-age=60');
  });

  it('replaces a built-in field of the same name: one line, never two', async () => {
    const response = await request(cli.port, '/a.txt');
    expect(linesNamed(response, 'x-content-type-options')).toBe(1);
    expect(linesNamed(response, 'cache-control')).toBe(1);
  });

  it('without -H, the built-in Cache-Control stays', async () => {
    const plain = await startCli([root, '--port', '0', '--quiet']);
    const response = await request(plain.port, '/a.txt');
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.headers['cross-origin-opener-policy']).toBeUndefined();
  });
});

describe('invalid -H', () => {
  // [flag value, what the one-line error says]
  const cases: Array<[string, RegExp]> = [
    ['X Frame: DENY', /the name "X Frame" must be a token/],
    ['X-A: 1\r\nSet-Cookie: a=b', /contains CR/],
    ['X-A: 1\nX-B: 2', /contains LF/],
    ['no colon here', /expected "Name: value"/],
    ['Content-Length: 5', /Content-Length is set by serve-dir/],
  ];
  it.each(cases)('%j: one line, exit 1', async (line, message) => {
    const result = await runCli([root, '--port', '0', '-H', 'X-Good: 1', '-H', line]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/^serve-dir: invalid --header [^\n]*\n$/);
  });
});

describe('path-scoped headers (the library option)', () => {
  const headers: NonNullable<Options['headers']> = [
    { source: '/assets/**', headers: { 'Cache-Control': 'max-age=31536000, immutable', 'X-Scope': 'assets' } },
    { source: '*.css', headers: { 'X-Scope': 'css' } },
  ];

  // [target, expected Cache-Control, expected X-Scope]
  const cases: Array<[string, string, string | undefined]> = [
    ['/assets/app.js', 'max-age=31536000, immutable', 'assets'],
    ['/assets/deep/b.css', 'max-age=31536000, immutable', 'css'], // later rules win
    ['/assets/missing.png', 'max-age=31536000, immutable', 'assets'], // a 404 under the rule
    ['/a.txt', 'no-cache', undefined],
    ['/docs/', 'no-cache', undefined],
  ];

  it.each(cases)('startServer: %s', async (target, cacheControl, scope) => {
    const running = await serveDirectory(root, { header: ['X-Global: 1'], headers });
    const response = await request(running.port, target);
    expect(linesNamed(response, 'cache-control')).toBe(1);
    expect(response.headers['cache-control']).toBe(cacheControl);
    expect(response.headers['x-scope']).toBe(scope);
    expect(response.headers['x-global']).toBe('1');
  });

  it('createHandler on node:http, a 304 included', async () => {
    const server = http.createServer(createHandler({ directory: root, headers }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as { port: number }).port;
    const first = await request(port, '/assets/app.js');
    expect(first.headers['cache-control']).toBe('max-age=31536000, immutable');
    const revalidated = await request(port, '/assets/app.js', { headers: { 'If-None-Match': first.headers['etag']! } });
    expect(revalidated.status).toBe(304);
    expect(linesNamed(revalidated, 'cache-control')).toBe(1);
    expect(revalidated.headers['cache-control']).toBe('max-age=31536000, immutable');
  });

  it.each([
    [{ source: 'a/b', headers: { 'X-A': '1' } }, /headers\[0\]\.source/],
    [{ source: '/x', headers: { 'X Y': '1' } }, /must be a token/],
    [{ source: '/x', headers: { 'X-Y': 'a\nb' } }, /contains LF/],
  ])('refuses %j with a UsageError', (rule, message) => {
    expect(() => createHandler({ directory: root, headers: [rule] })).toThrow(message);
  });
});

describe('-H and --cors on our own 500', () => {
  it('the internal-error answer carries them, one line per name', async () => {
    // A disk that fails on one name: stat throws an unexpected error, which is our 500.
    const preload = await failingDiskPreload();
    const failing = await startCli([root, '--port', '0', '--quiet', '--cors', '-H', 'Cache-Control: no-store', '-H', 'X-Team: web'], {
      env: { NODE_OPTIONS: `--require ${preload}` },
    });
    const response = await request(failing.port, '/boom');
    expect(response.status).toBe(500);
    expect(response.headers['x-team']).toBe('web');
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(linesNamed(response, 'cache-control')).toBe(1);
    expect(response.headers['cache-control']).toBe('no-store');
  });
});
