// What a handler needs from its transport, checked on HTTP/2 where the socket is the
// session's and shared by every stream: the request log counts each stream's own bytes,
// a stalled stream is cut alone, a reset stream releases its file, a malformed authority
// is a plain 400 (no Connection header, no warning), and close() past its grace period
// ends sessions and HTTP/1.1 connections on the same server alike.
import { randomBytes } from 'node:crypto';
import { truncate, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { constants, type ClientHttp2Stream } from 'node:http2';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestEvent, ServerEvent } from '../../src/events.js';
import { cleanup, onCleanup, openFileTargets, settles, tempDir, writeTree } from '../helpers/server.js';
import { LIVERELOAD_PREFIX } from '../../src/stages/livereload.js';
import { client, h2Session, serveOver, trustedCertificate } from '../helpers/transport.js';
import { SseClient } from '../livereload/sse-client.js';

const h2 = client('h2');
const PROSE = Buffer.from('a line of text that compresses well enough to be compressed\n'.repeat(40_000));
const PAGE = randomBytes(20_000);

let root: string;
beforeAll(async () => {
  root = await tempDir();
  await writeTree(root, { 'prose.txt': PROSE, 'page.bin': PAGE });
  await writeFile(join(root, 'huge.bin'), '');
  await truncate(join(root, 'huge.bin'), 64 * 1024 * 1024); // sparse: cheap to make, long to send
});
afterAll(cleanup);

/** Open `target` on the shared session and stop reading once the head is in: flow control then holds the server's bytes. */
function stalledDownload(port: number, target: string): Promise<ClientHttp2Stream> {
  return new Promise((resolve, reject) => {
    const stream = h2Session(port).request({ ':path': target });
    stream.on('error', () => {}); // the reset is what is tested
    stream.once('response', () => {
      stream.pause();
      resolve(stream);
    });
    stream.once('close', () => reject(new Error('closed before its head')));
  });
}

describe('the request log over HTTP/2', () => {
  let port: number;
  const requests: RequestEvent[] = [];
  const logged = (path: string) => settles(() => requests.some((event) => event.path === path)).then(() => requests.find((event) => event.path === path)!);
  beforeAll(async () => {
    const emit = (event: ServerEvent) => event.type === 'request' && requests.push(event);
    port = (await serveOver('h2', root, { quiet: false, onEvent: emit })).port;
  });

  it("counts a stream's own body bytes, also for a compressed body sent without a length", async () => {
    const compressed = await h2(port, '/prose.txt?gzip', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(compressed.headers['content-encoding']).toBe('gzip');
    expect(compressed.headers['content-length']).toBeUndefined();
    expect(gunzipSync(compressed.body).equals(PROSE)).toBe(true);
    // Another stream on the same session, at the same time as nothing else: its count is its own.
    const plain = await h2(port, '/page.bin');
    expect((await logged('/prose.txt?gzip')).bytes).toBe(compressed.body.length);
    expect((await logged('/page.bin')).bytes).toBe(PAGE.length);
    expect(plain.body.length).toBe(PAGE.length);
  });

  it('counts what a reset stream took, and marks it aborted', async () => {
    const stream = await stalledDownload(port, '/huge.bin?reset');
    // Some of it read, then cancelled.
    let received = 0;
    stream.on('data', (chunk: Buffer) => (received += chunk.length));
    stream.resume();
    await settles(() => received >= 3 * 1024 * 1024);
    stream.close(constants.NGHTTP2_CANCEL);
    const event = await logged('/huge.bin?reset');
    expect(event.aborted).toBe(true);
    // Counted by whole writes (64 KiB on HTTP/2): what the client read, give or take one.
    expect(event.bytes).toBeGreaterThanOrEqual(received - 1024 * 1024 - 65_535);
    expect(event.bytes).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('one stalled stream on a busy session', () => {
  it('is cut alone after the stall timeout, its file closed, while the session serves on', async () => {
    const running = await serveOver('h2', root, { stallTimeout: 1 });
    const stalled = await stalledDownload(running.port, '/huge.bin');
    const path = join(root, 'huge.bin');
    expect(await openFileTargets()).toContain(path);
    // The session stays busy meanwhile: a socket-wide rule would see progress, and never cut.
    let served = 0;
    const closed = new Promise<number>((resolve) => stalled.once('close', () => resolve(stalled.rstCode ?? -1)));
    let open = true;
    void closed.then(() => (open = false));
    while (open) {
      expect((await h2(running.port, '/page.bin')).body.equals(PAGE)).toBe(true);
      served++;
    }
    expect(await closed).toBe(constants.NGHTTP2_CANCEL);
    expect(served).toBeGreaterThan(0);
    await settles(async () => !(await openFileTargets()).includes(path));
    expect((await h2(running.port, '/page.bin')).status).toBe(200);
  });
});

describe('a slow stream that keeps moving', () => {
  it('is not cut: it must move 64 KiB per stall timeout, as on HTTP/1.1, not a whole 1 MiB read', async () => {
    const running = await serveOver('h2', root, { stallTimeout: 1 });
    const want = 1536 * 1024;
    // A range keeps the test short.
    const slow = h2Session(running.port).request({ ':path': '/huge.bin', range: `bytes=0-${want - 1}` });
    let received = 0;
    let allowance = 0;
    slow.on('data', (chunk: Buffer) => {
      received += chunk.length;
      allowance -= chunk.length;
      if (allowance <= 0) slow.pause();
    });
    slow.pause();
    // About 640 KiB/s: ten times the least the stall rule asks, far below what one read held.
    const pace = setInterval(() => {
      allowance = 32 * 1024;
      slow.resume();
    }, 50);
    onCleanup(() => clearInterval(pace));
    const [rstCode] = await new Promise<[number | undefined]>((resolve) => slow.once('close', () => resolve([slow.rstCode])));
    clearInterval(pace);
    expect(rstCode).toBe(constants.NGHTTP2_NO_ERROR);
    expect(received).toBe(want);
  });
});

describe('a client that resets its stream mid-download', () => {
  it('releases the file, and the session serves on', async () => {
    const running = await serveOver('h2', root);
    const path = join(root, 'huge.bin');
    const stream = await stalledDownload(running.port, '/huge.bin');
    expect(await openFileTargets()).toContain(path);
    stream.close(constants.NGHTTP2_CANCEL);
    await settles(async () => !(await openFileTargets()).includes(path));
    expect((await h2(running.port, '/page.bin')).body.equals(PAGE)).toBe(true);
  });
});

describe('a malformed authority over HTTP/2', () => {
  it('is a 400 without a Connection header, and raises no warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(String(warning));
    process.on('warning', onWarning);
    onCleanup(() => void process.off('warning', onWarning));
    const running = await serveOver('h2', root);
    const response = await h2(running.port, '/page.bin', { hostHeader: 'user@localhost' });
    expect(response.status).toBe(400);
    expect(response.headers['connection']).toBeUndefined();
    // Warnings are emitted on a later tick: one more exchange lets them through.
    expect((await h2(running.port, '/page.bin')).status).toBe(200);
    expect(warnings).toEqual([]);
  });
});

describe('close() past its grace period', () => {
  it('ends HTTP/2 streams and HTTP/1.1 connections on the same server, and resolves', async () => {
    const running = await serveOver('h2', root);
    const stalled = await stalledDownload(running.port, '/huge.bin');
    // An HTTP/1.1 client on the same server (ALPN), its download stalled too.
    const overHttp1 = tlsConnect({ port: running.port, host: '127.0.0.1', servername: 'localhost', ca: trustedCertificate(), ALPNProtocols: ['http/1.1'] });
    overHttp1.on('error', () => {});
    overHttp1.write('GET /huge.bin HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await new Promise((resolve) => overHttp1.once('data', resolve));
    overHttp1.pause();
    expect(overHttp1.alpnProtocol).toBe('http/1.1');
    const streamEnded = once(stalled, 'close');
    await running.close(100);
    await streamEnded;
    expect(stalled.rstCode).not.toBe(constants.NGHTTP2_NO_ERROR);
    // A paused socket hears of its end only once it reads again.
    const connectionEnded = once(overHttp1, 'close');
    overHttp1.resume();
    await connectionEnded;
  });
});

describe('the live-reload stream over HTTP/2', () => {
  it("switches off its own stream's timeout, not its session's idle limit", async () => {
    const site = await tempDir();
    await writeTree(site, { 'index.html': 'home' });
    const running = await serveOver('h2', site, { watch: true });
    await running.handler.ready;
    // Sessions opened from now on are closed after this long without a frame.
    running.server.setTimeout(300);
    const stream = await SseClient.over('h2', running.port, `${LIVERELOAD_PREFIX}events`);
    expect((await stream.next()).data.type).toBe('hello');
    // The hub set no timeout on the stream (an idle page waits for saves), and that did
    // not reach the session: a session with nothing but a quiet stream still ends when idle.
    // (startServer's real limit is longer than the stream's heartbeat, so a page's session lives.)
    const session = h2Session(running.port);
    await once(session, 'close');
    await stream.ended;
  });
});
