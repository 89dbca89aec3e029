import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, request, serveDirectory, tempDir, writeTree } from '../helpers/server.js';

const CUSTOM_404 = '<!doctype html><title>custom not found</title>';

let withCustom404: number;
let plain: number;
let noListing: number;

beforeAll(async () => {
  const base = await tempDir();
  const tree = {
    'docs/readme.txt': 'docs',
    'both/index.html': 'index.html wins',
    'both/index.htm': 'index.htm loses',
    'htm-only/index.htm': 'index.htm used',
    'listed/a.txt': 'a',
    'file.txt': 'file',
    'a b/c.txt': 'c',
    'café/x.txt': 'x',
    'q?#/x.txt': 'x',
    'back\\slash/x.txt': 'x',
    'docs2/sub/': '',
  };
  await writeTree(join(base, 'with'), { ...tree, '404.html': CUSTOM_404 });
  await writeTree(join(base, 'plain'), tree);
  withCustom404 = (await serveDirectory(join(base, 'with'))).port;
  plain = (await serveDirectory(join(base, 'plain'))).port;
  noListing = (await serveDirectory(join(base, 'plain'), { listing: false })).port;
});
afterAll(cleanup);

describe('directories without their slash', () => {
  // [target, Location]: the query is kept; each segment is encoded, so the
  // Location is always a path on this server, never '//host' or '/\host'.
  it.each([
    ['/docs', '/docs/'],
    ['/docs?a=1', '/docs/?a=1'],
    ['/docs?a=1&b=%2F', '/docs/?a=1&b=%2F'],
    ['/docs2/sub', '/docs2/sub/'],
    ['//docs', '/docs/'],
    ['///docs', '/docs/'],
    ['/./docs', '/docs/'],
    ['/a%20b', '/a%20b/'],
    ['/caf%C3%A9', '/caf%C3%A9/'],
    ['/q%3F%23', '/q%3F%23/'],
    ['http://evil.example/docs', '/docs/'],
  ])('%s → 301 Location %s', async (target, location) => {
    const response = await request(plain, target);
    expect(response.status).toBe(301);
    expect(response.headers['location']).toBe(location);
  });

  // [target, status]: targets that would become an open redirect if echoed into Location.
  it.each([
    ['/%2fdocs', 400],
    ['/\\docs', 400],
    ['/%5cdocs', 400],
    ['/%2f%2fevil.example', 400],
    ['//evil.example', 404],
    ['//evil.example/..', 200],
    ['/\\evil.example', 400],
  ])('%s → %i, never a redirect off-site', async (target, status) => {
    const response = await request(plain, target);
    expect(response.status).toBe(status);
    expect(response.headers['location']).toBeUndefined();
  });

  it('a folder name with a backslash is refused rather than redirected to a /\\ Location', async () => {
    const response = await request(plain, '/back%5Cslash');
    expect(response.status).toBe(400);
    expect(response.headers['location']).toBeUndefined();
  });
});

describe('index files and listings', () => {
  // [target, listing?, status, body or a fragment of it]
  it.each([
    ['/both/', 200, 'index.html wins'],
    ['/htm-only/', 200, 'index.htm used'],
    ['/listed/', 200, 'a.txt'],
    ['/file.txt', 200, 'file'],
  ])('%s → %i', async (target, status, body) => {
    const response = await request(plain, target);
    expect(response.status).toBe(status);
    expect(response.text).toContain(body);
  });

  it('a directory listing carries a text/html type', async () => {
    const response = await request(plain, '/listed/');
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.text).toMatch(/^<!doctype html>/i);
  });

  it.each([
    ['/listed/', 404],
    ['/', 404],
    ['/both/', 200],
    ['/htm-only/', 200],
    ['/listed/a.txt', 200],
  ])('with listing: false, %s → %i', async (target, status) => {
    expect((await request(noListing, target)).status).toBe(status);
  });
});

describe('not found', () => {
  it.each(['/file.txt/', '/file.txt/.', '/nope', '/nope/', '/docs/nope.txt'])('%s → 404', async (target) => {
    expect((await request(plain, target)).status).toBe(404);
  });

  it.each(['/nope', '/file.txt/', '/docs/missing/deeper'])('%s uses the root 404.html as its body, status still 404', async (target) => {
    const response = await request(withCustom404, target);
    expect(response.status).toBe(404);
    expect(response.text).toBe(CUSTOM_404);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['etag']).toBeUndefined();
  });

  it('without a 404.html, the default page says 404', async () => {
    const response = await request(plain, '/nope');
    expect(response.status).toBe(404);
    expect(response.text).toContain('404 Not Found');
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('a 404.html is still a file of its own (200 when asked for)', async () => {
    const response = await request(withCustom404, '/404.html');
    expect(response.status).toBe(200);
    expect(response.text).toBe(CUSTOM_404);
  });
});
