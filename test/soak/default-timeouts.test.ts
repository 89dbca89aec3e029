// The timeouts as shipped, unshortened: the main suite shortens each one through an
// option or on the live server to watch it act in a fraction of a second, and checks the
// configured values apart. Here a server with default options is left to enforce them
// itself, all at once, which takes the longest of them: half a minute.

import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STALL_TIMEOUT } from '../../src/options.js';
import { openConnections, parseHead, rawRequest, trickle } from '../helpers/raw.js';
import { serverSideOf } from '../helpers/server-side.js';
import { cleanup, request, serveDirectory, tempDir, writeTree } from '../helpers/server.js';

/** What Node and the stall watch add after a timeout: a check each second, and a busy machine's delay. */
const SLACK_MS = 1_000 + 3_000;
const HEADERS_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Larger than what the kernel's socket buffers hold on loopback. */
const LARGE = 24 * 1024 * 1024;

let server: Server;
let port: number;

beforeAll(async () => {
  const root = await tempDir('serve-dir-soak-timeouts-');
  await writeTree(root, { 'large.bin': randomBytes(LARGE), 'file.txt': 'plain file' });
  ({ server, port } = await serveDirectory(root));
});
afterAll(cleanup);

describe.concurrent('the default timeouts, enforced by the server itself', () => {
  it(`a client that stops reading is cut after the ${DEFAULT_STALL_TIMEOUT} s stall timeout, not before`, async () => {
    const find = serverSideOf(server);
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('error', () => {});
    socket.pause();
    const sent = performance.now();
    socket.write(rawRequest({ target: '/large.bin' }));
    await new Promise((resolve) => socket.once('connect', resolve));
    const side = await find(socket.localPort!);
    const ms = (await side.closedAt) - sent;
    socket.destroy();
    expect(ms).toBeGreaterThanOrEqual(DEFAULT_STALL_TIMEOUT * 1000);
    expect(ms).toBeLessThan(DEFAULT_STALL_TIMEOUT * 1000 + SLACK_MS);
  }, (DEFAULT_STALL_TIMEOUT + 30) * 1000);

  it('a client trickling its headers gets 408 after the 10 s headers timeout', async () => {
    const { received, ms } = await trickle(port, `GET /file.txt HTTP/1.1\r\nHost: localhost\r\nX-Slow: ${'a'.repeat(1000)}`, 100).closed;
    expect(received.toString('latin1')).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(ms).toBeLessThan(HEADERS_TIMEOUT_MS + SLACK_MS);
  }, 60_000);

  it('an idle keep-alive connection is closed after the 5 s keep-alive timeout', async () => {
    const [socket] = await openConnections(port, 1);
    const closed = new Promise<number>((resolve) => socket!.once('close', () => resolve(performance.now())));
    const status = new Promise<number>((resolve) => socket!.once('data', (chunk: Buffer) => resolve(parseHead(chunk).status)));
    socket!.write(rawRequest({ target: '/file.txt', close: false }));
    expect(await status).toBe(200);
    const answered = performance.now();
    const idleMs = (await closed) - answered;
    expect(idleMs).toBeGreaterThanOrEqual(KEEP_ALIVE_TIMEOUT_MS - 50);
    // Node keeps the socket up to 1 s longer than it advertises, so a client's own timer fires first.
    expect(idleMs).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS + SLACK_MS);
  }, 60_000);

  it('meanwhile, everyone else is served', async () => {
    const response = await request(port, '/file.txt');
    expect([response.status, response.text]).toEqual([200, 'plain file']);
  });
});
