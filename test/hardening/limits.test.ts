// Request limits: header size, slow clients, idle connections and the
// connection cap. The timeouts are asserted as configured, then shortened on
// the live node:http server (which reads them on every check) so that their
// enforcement can be watched in seconds rather than the real 10 s.

import type { Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CONNECTIONS } from '../../src/server.js';
import { openConnections, parseHead, rawRequest, send, statusesOf, trickle } from '../helpers/raw.js';
import { cleanup, request, serveDirectory, settles, tempDir, writeTree } from '../helpers/server.js';

const HAS_IPV6_LOOPBACK = Object.values(networkInterfaces()).some((addresses) => addresses?.some((address) => address.address === '::1'));

let root: string;

beforeAll(async () => {
  root = await tempDir('serve-dir-limits-');
  await writeTree(root, { 'file.txt': 'plain file' });
});
afterAll(cleanup);

function connectionCount(server: Server): Promise<number> {
  return new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
}

async function expectServed(port: number, address = '127.0.0.1'): Promise<void> {
  const response = await request(port, '/file.txt', { address });
  expect(response.status).toBe(200);
  expect(response.text).toBe('plain file');
}

/** One request on an already open connection; resolves with the response's status. */
function requestOn(socket: Socket): Promise<number> {
  return new Promise((resolve) => {
    socket.once('data', (chunk: Buffer) => resolve(parseHead(chunk).status));
    socket.write(rawRequest({ target: '/file.txt', close: false }));
  });
}

describe('header size', () => {
  // [what, request]: Node's parser bounds the whole head at 16 KiB.
  it.each([
    ['one 20 KB header', rawRequest({ target: '/file.txt', headers: [['Host', 'localhost'], ['X-Big', 'a'.repeat(20_000)]] })],
    ['1000 small headers', rawRequest({ target: '/file.txt', headers: [['Host', 'localhost'], ...Array.from({ length: 1000 }, (_, i) => [`X-H${i}`, 'a'.repeat(12)] as [string, string])] })],
    ['a 20 KB request target', rawRequest({ target: '/' + 'a'.repeat(20_000) })],
  ])('%s → 431, and others are still served', async (_what, bytes) => {
    const { port } = await serveDirectory(root);
    const exchange = await send(port, bytes);
    expect(statusesOf(exchange.bytes)).toEqual([431]);
    await expectServed(port);
  });
});

describe('slow clients', () => {
  it('the timeouts are set: headers within 10 s, a whole request within 30 s, idle keep-alive 5 s', async () => {
    const { server } = await serveDirectory(root);
    expect(server.headersTimeout).toBeGreaterThan(0);
    expect(server.headersTimeout).toBeLessThanOrEqual(10_000);
    expect(server.requestTimeout).toBeGreaterThan(0);
    expect(server.requestTimeout).toBeLessThanOrEqual(30_000);
    expect(server.keepAliveTimeout).toBeGreaterThan(0);
    expect(server.keepAliveTimeout).toBeLessThanOrEqual(5_000);
  });

  it('50 clients trickling their headers starve no one, and each is cut off with 408 once the headers timeout passes', async () => {
    const { server, port } = await serveDirectory(root);
    const headersTimeout = 1_000;
    server.headersTimeout = headersTimeout;
    const slow = Array.from({ length: 50 }, () => trickle(port, `GET /file.txt HTTP/1.1\r\nHost: localhost\r\nX-Slow: ${'a'.repeat(1000)}`, 100));
    await settles(async () => (await connectionCount(server)) >= 50);

    const started = performance.now();
    await expectServed(port);
    expect(performance.now() - started).toBeLessThan(1_000);

    const closed = await Promise.all(slow.map((client) => client.closed));
    for (const { received, ms } of closed) {
      expect(received.toString('latin1')).toMatch(/^HTTP\/1\.1 408 /);
      // Cut after the timeout, within one check interval (1 s) and some scheduling slack.
      expect(ms).toBeGreaterThanOrEqual(headersTimeout - 50);
      expect(ms).toBeLessThan(headersTimeout + 1_000 + 1_500);
    }
    await expectServed(port);
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const { server, port } = await serveDirectory(root);
    const keepAliveTimeout = 300;
    server.keepAliveTimeout = keepAliveTimeout;
    const [socket] = await openConnections(port, 1);
    const closed = new Promise<number>((resolve) => socket!.once('close', () => resolve(performance.now())));
    expect(await requestOn(socket!)).toBe(200);
    const answered = performance.now();
    const idleMs = (await closed) - answered;
    expect(idleMs).toBeGreaterThanOrEqual(keepAliveTimeout - 50);
    // Node keeps the socket up to 1 s longer than it advertises, so a client's own timer fires first.
    expect(idleMs).toBeLessThan(keepAliveTimeout + 1_000 + 1_500);
  });
});

describe('connection cap', () => {
  /**
   * Open `count` idle connections a batch at a time, each batch once the server has taken
   * the one before. All at once, they overflow the listening socket's backlog (511): the
   * kernel drops the surplus handshakes, and the clients' retries come a second later.
   */
  async function openAccepted(server: Server, port: number, count: number, address: string): Promise<Socket[]> {
    const BATCH = 128;
    let accepted = 0;
    // Both listening sockets (127.0.0.1, and ::1 beside it) hand their connections to the server.
    const onConnection = () => accepted++;
    server.on('connection', onConnection);
    try {
      const open: Socket[] = [];
      while (open.length < count) {
        open.push(...(await openConnections(port, Math.min(BATCH, count - open.length), address)));
        await settles(() => accepted >= open.length, 5_000);
      }
      return open;
    } finally {
      server.off('connection', onConnection);
    }
  }

  async function expectCapHolds(address: string): Promise<void> {
    const lines: string[] = [];
    const { server, port } = await serveDirectory(root, { log: (line) => lines.push(line) });
    const open = await openAccepted(server, port, MAX_CONNECTIONS, address);
    try {
      // Past the cap, a connection is closed at once, unanswered, and says so once in the log.
      for (let extra = 0; extra < 2; extra++) {
        const refused = await send(port, rawRequest({ target: '/file.txt' }), { address });
        expect(refused.bytes.length).toBe(0);
        expect(refused.timedOut).toBe(false);
      }
      expect(lines).toEqual([`serve-dir: ${MAX_CONNECTIONS} connections open; refusing more until some close`]);
      // Those already in are still served...
      expect(await requestOn(open[0]!)).toBe(200);
      // ...and a place that frees up is taken again (once the server has seen it close).
      open.pop()!.destroy();
      await settles(async () => (await send(port, rawRequest({ target: '/file.txt' }), { address })).bytes.length > 0);
      await expectServed(port, address);
    } finally {
      for (const socket of open) socket.destroy();
    }
  }

  it(`the connection past ${MAX_CONNECTIONS} on 127.0.0.1 is refused with one log line, and the others are served`, async () => {
    await expectCapHolds('127.0.0.1');
  });

  it.runIf(HAS_IPV6_LOOPBACK)(`the same cap holds on ::1, the second address of localhost`, async () => {
    await expectCapHolds('::1');
  });
});
