// Error pages as a client gets them from a real server: the policy header, the way back
// (the root, and for a 404 the nearest folder that exists, escaped and mount-aware), and
// the sentences that say what to do.

import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../src/index.js';
import { ERROR_PAGE_POLICY } from '../../src/page-style.js';
import { cleanup, onCleanup, request, serveDirectory, tempDir, writeTree, type RawResponse } from '../helpers/server.js';

/** The links of an error page's way back: [href, label], HTML references undone. */
function wayBack(response: RawResponse): [string, string][] {
  const unescape = (text: string) =>
    text.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[name] as string);
  return [...response.text.matchAll(/<li><a href="([^"]*)"><span class="path" dir="auto">([^<]*)<\/span>/g)].map((match) => [
    unescape(match[1] as string),
    unescape(match[2] as string),
  ]);
}

const TREE = {
  'docs/guide/a.txt': 'a',
  'docs/<b>&x/readme.txt': 'b',
  'a  b/c.txt': 'c',
  'with-index/index.html': '<p>home',
  'plain/file.txt': 'p',
  '.secret/inside/file.txt': 's',
};

const ROOT: [string, string] = ['/', '/'];

describe('the 404 page links back', () => {
  let port: number;
  let unlistedPort: number;

  beforeAll(async () => {
    const root = await tempDir('serve-dir-pages-');
    await writeTree(root, TREE);
    [port, unlistedPort] = await Promise.all([
      serveDirectory(root).then((server) => server.port),
      serveDirectory(root, { listing: false }).then((server) => server.port),
    ]);
  });
  afterAll(cleanup);

  it.each<[string, [string, string][]]>([
    ['/missing.txt', [ROOT]],
    ['/missing/deeper/still', [ROOT]],
    ['/docs/missing.txt', [['/docs/', '/docs/'], ROOT]],
    ['/docs/guide/x/y/z.txt', [['/docs/guide/', '/docs/guide/'], ROOT]],
    // A file asked for as a folder, and a path through a file.
    ['/docs/guide/a.txt/', [['/docs/guide/', '/docs/guide/'], ROOT]],
    ['/docs/guide/a.txt/more', [['/docs/guide/', '/docs/guide/'], ROOT]],
    ['/docs/%3Cb%3E%26x/nope', [['/docs/%3Cb%3E%26x/', '/docs/<b>&x/'], ROOT]],
    ['/a%20%20b/nope', [['/a%20%20b/', '/a  b/'], ROOT]],
    // Dot files are not served, so a folder below one is no way back.
    ['/.secret/inside/nope', [ROOT]],
    [`/docs/${'x/'.repeat(1000)}end`, [['/docs/', '/docs/'], ROOT]],
  ])('%.60s', async (target, links) => {
    const response = await request(port, target);
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['content-security-policy']).toBe(ERROR_PAGE_POLICY);
    expect(response.text).toContain('<h1>404 Not Found</h1>');
    expect(wayBack(response)).toEqual(links);
  });

  it('writes a hostile folder name escaped, and nothing of the request', async () => {
    const response = await request(port, '/docs/%3Cb%3E%26x/%3Cscript%3Ealert(1)');
    expect(response.text).toContain('<a href="/docs/%3Cb%3E%26x/"><span class="path" dir="auto">/docs/&lt;b&gt;&amp;x/</span>');
    expect(response.text).not.toMatch(/<b>&|script/i);
  });

  it.each<[string, [string, string][]]>([
    // Without listings a folder is a way back only when it has an index page.
    ['/with-index/missing', [['/with-index/', '/with-index/'], ROOT]],
    ['/plain/missing', [ROOT]],
    ['/docs/guide/missing', [ROOT]],
  ])('with --no-listing: %s', async (target, links) => {
    const response = await request(unlistedPort, target);
    expect(response.status).toBe(404);
    expect(wayBack(response)).toEqual(links);
  });
});

describe('other error pages', () => {
  let port: number;
  beforeAll(async () => {
    const root = await tempDir('serve-dir-pages-');
    await writeTree(root, TREE);
    port = (await serveDirectory(root)).port;
  });
  afterAll(cleanup);

  it.each<[string, string, Parameters<typeof request>[2], number, string]>([
    ['a malformed target', '/%zz', {}, 400, 'malformed'],
    ['a method not served', '/docs/', { method: 'POST' }, 405, 'GET and HEAD'],
    ['a Host that is not this server', '/', { hostHeader: 'evil.example' }, 403, '<code>--allowed-host NAME</code>'],
    ['a failed precondition', '/plain/file.txt', { headers: { 'If-Match': '"nope"' } }, 412, 'Reload'],
  ])('%s: a styled page that says what to do, and links the root', async (_, target, options, status, sentence) => {
    const response = await request(port, target, options);
    expect(response.status).toBe(status);
    expect(response.headers['content-security-policy']).toBe(ERROR_PAGE_POLICY);
    expect(response.text).toContain('<style>');
    expect(response.text).toContain(sentence);
    expect(wayBack(response)).toEqual([ROOT]);
  });
});

describe('the page of an internal error', () => {
  it('is styled, says the rest still works, and links the root', async () => {
    const root = await tempDir('serve-dir-pages-');
    await writeTree(root, TREE);
    // An app hook that throws is a bug the server answers with 500 (and an error event).
    const events: string[] = [];
    const { port } = await serveDirectory(root, {
      setHeaders: () => {
        throw new Error('a bug in the hook');
      },
      onEvent: (event) => events.push(event.type),
    });
    const response = await request(port, '/plain/file.txt');
    expect(response.status).toBe(500);
    expect(response.headers['content-security-policy']).toBe(ERROR_PAGE_POLICY);
    expect(response.text).toContain('<h1>500 Internal Server Error</h1>');
    expect(response.text).toContain('other requests are still served');
    expect(response.text).not.toContain('a bug in the hook');
    expect(wayBack(response)).toEqual([ROOT]);
    expect(events).toContain('error');
  });
});

describe('mounted in an Express app', () => {
  it('links the mount point as the root', async () => {
    const root = await tempDir('serve-dir-pages-');
    await writeTree(root, TREE);
    const app = express();
    app.use('/static', createHandler({ directory: root }));
    app.use('/caf%C3%A9', createHandler({ directory: root }));
    const server: Server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onCleanup(() => new Promise<void>((done) => server.close(() => done())));
    const { port } = server.address() as AddressInfo;

    const plain = await request(port, '/static/%zz');
    expect(plain.status).toBe(400);
    expect(wayBack(plain)).toEqual([['/static/', '/static/']]);
    const encoded = await request(port, '/caf%C3%A9/%zz');
    expect(wayBack(encoded)).toEqual([['/caf%C3%A9/', '/café/']]);
  });
});
