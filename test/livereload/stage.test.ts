import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createHandler } from '../../src/handler.js';
import { EVENTS_PATH, LIVERELOAD_PREFIX } from '../../src/livereload/index.js';
import { EVENTS_PATH as STAGE_EVENTS_PATH, LIVERELOAD_PREFIX as STAGE_PREFIX } from '../../src/stages/livereload.js';
import { cleanup, request, serveDirectory, tempDir, writeTree } from '../helpers/server.js';
import { inotifyWatchedInodes } from './inotify.js';

afterAll(cleanup);

describe('live-reload stage', () => {
  it('recognises the same reserved prefix and event-stream path as the module it loads lazily', () => {
    expect(STAGE_PREFIX).toBe(LIVERELOAD_PREFIX);
    expect(STAGE_EVENTS_PATH).toBe(EVENTS_PATH);
  });

  it('answers a ranged GET from the file untouched, and a HEAD with Range as the plain GET', async () => {
    const root = await tempDir();
    const page = '<!doctype html><title>t</title><body><p>page</p></body>';
    await writeTree(root, { 'index.html': page });
    const running = await serveDirectory(root, { watch: true });
    await running.handler.ready;

    const whole = await request(running.port, '/index.html');
    expect(whole.status).toBe(200);
    expect(whole.text).toContain(`${LIVERELOAD_PREFIX}client.js`);

    const ranged = await request(running.port, '/index.html', { headers: { Range: 'bytes=0-8' } });
    expect(ranged.status).toBe(206);
    expect(ranged.text).toBe(page.slice(0, 9));

    // RFC 9110 §14.2: Range is for GET only, so a HEAD reports what the plain GET sends.
    const head = await request(running.port, '/index.html', { method: 'HEAD', headers: { Range: 'bytes=0-8' } });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(whole.headers['content-length']);
    expect(head.headers['etag']).toBe(whole.headers['etag']);
  });
});

describe('when the watcher starts', () => {
  it('begins once the first response is out, without waiting for the delay', async () => {
    const root = await tempDir();
    await writeTree(root, { 'a.txt': 'a' });
    // Only the delay's timer is faked (and never advanced): the first response must start the watcher.
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const handler = createHandler({ directory: root, watch: true, quiet: true });
    vi.useRealTimers();
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      expect((await request(port, '/a.txt')).status).toBe(200);
      await handler.ready;
      if (process.platform === 'linux') expect(await inotifyWatchedInodes()).toContain((await stat(root)).ino);
    } finally {
      await handler.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('never begins in a handler closed before it did; pages are then served without the script', async () => {
    const root = await tempDir();
    await writeTree(root, { 'index.html': '<!doctype html><title>t</title><p>page</p>' });
    const handler = createHandler({ directory: root, watch: true, quiet: true });
    await handler.close();
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const page = await request(port, '/');
      expect(page.status).toBe(200);
      expect(page.text).not.toContain(LIVERELOAD_PREFIX);
      expect((await request(port, `${LIVERELOAD_PREFIX}client.js`)).status).toBe(404);
      if (process.platform === 'linux') expect(await inotifyWatchedInodes()).not.toContain((await stat(root)).ino);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/** The live-reload tag in a served page, and where it is. */
function findTag(body: Buffer): { at: number; tag: string } {
  const match = /<script src="\/__serve-dir\/client\.js" data-since="[^"]*"><\/script>/.exec(body.toString('latin1'));
  expect(match, 'the live-reload tag').not.toBeNull();
  return { at: match!.index, tag: match![0] };
}

describe('where the script goes', () => {
  it.each([
    ['a page whose script holds "</body>" (the end tag omitted)', '<p>x</p><script>const end = "</body>";</script>\n', '<p>x</p><script>const end = "</body>";</script>\n'.length],
    ['a page with a commented "</body>" after the real one', '<body><p>x</p></body>\n<!-- </body> -->\n', '<body><p>x</p>'.length],
  ])('%s: where a browser runs it', async (_name, page, expected) => {
    const root = await tempDir();
    await writeTree(root, { 'page.html': page });
    const running = await serveDirectory(root, { watch: true });
    const response = await request(running.port, '/page.html');
    const { at, tag } = findTag(response.body);
    expect(at).toBe(expected);
    expect(response.body.toString()).toBe(page.slice(0, at) + tag + page.slice(at));
  });

  it('sends a UTF-16 page byte for byte, without the script, and says so once', async () => {
    const root = await tempDir();
    // Odd length, and a lone surrogate: bytes no decoding round trip keeps.
    const utf16 = (text: string) => Buffer.from(text, 'utf16le');
    const page = Buffer.concat([Buffer.from([0xff, 0xfe]), utf16('<body>x'), Buffer.from([0x00, 0xd8]), utf16('</body>'), Buffer.from([0x0a])]);
    const noBom = Buffer.concat([utf16('<body>y</body>'), Buffer.from([0x0a])]);
    await writeTree(root, { 'utf16.html': page, 'no-bom.html': noBom, 'plain.html': '<body>z</body>' });
    const lines: string[] = [];
    const running = await serveDirectory(root, { watch: true, log: (line) => lines.push(line) });
    for (const [path, bytes] of [['/utf16.html', page], ['/no-bom.html', noBom], ['/utf16.html', page]] as const) {
      const response = await request(running.port, path);
      expect(response.body.equals(bytes), path).toBe(true);
      expect(response.headers['content-length']).toBe(String(bytes.length));
    }
    findTag((await request(running.port, '/plain.html')).body);
    const notes = lines.filter((line) => line.includes('UTF-16'));
    expect(notes).toEqual([expect.stringContaining('/utf16.html is in UTF-16LE')]);
  });
});

describe('a page too large to hold in memory', () => {
  /** Larger than the file cache keeps (256 KiB): streamed from the file. */
  const page = `<!doctype html><body>\n${'<p>lorem <b>ipsum</b></p>\n'.repeat(40_000)}<script>s = "</body>"</script></body>\n<!-- </body> -->\n`;
  const insertAt = page.lastIndexOf('</body>\n<!--');

  it('streams with the tag where a browser runs it; HEAD, 304 and Range stay coherent with GET', async () => {
    const root = await tempDir();
    await writeTree(root, { 'big.html': page });
    const running = await serveDirectory(root, { watch: true });
    const get = await request(running.port, '/big.html', { headers: { 'Accept-Encoding': 'gzip, br' } });
    expect(get.status).toBe(200);
    const { at, tag } = findTag(get.body);
    expect(at).toBe(insertAt);
    expect(get.body.toString()).toBe(page.slice(0, at) + tag + page.slice(at));
    expect(get.headers['content-length']).toBe(String(page.length + tag.length));
    // Spliced while streaming: neither compressed nor offered in ranges of its own.
    expect(get.headers['content-encoding']).toBeUndefined();
    expect(get.headers['accept-ranges']).toBeUndefined();

    const head = await request(running.port, '/big.html', { method: 'HEAD' });
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.headers['etag']).toBe(get.headers['etag']);

    const notModified = await request(running.port, '/big.html', { headers: { 'If-None-Match': get.headers['etag']! } });
    expect(notModified.status).toBe(304);

    // A range addresses the file's own bytes, under the file's own tag.
    const ranged = await request(running.port, '/big.html', { headers: { Range: `bytes=${insertAt}-${insertAt + 6}` } });
    expect(ranged.status).toBe(206);
    expect(ranged.text).toBe('</body>');
    expect(ranged.headers['etag']).not.toBe(get.headers['etag']);
  });
});
