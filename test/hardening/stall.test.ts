// Clients that stop reading: a response whose bytes wait and are not taken is cut
// after the stall timeout, whatever its body is made of; a client that reads,
// however slowly, and a live-reload stream quiet between events are not; at the
// connection cap a new client still gets in; and compression stops costing CPU.
// The timeout is shortened through the `stallTimeout` option, and the cap on the
// live server, so that this takes seconds and little kernel memory (each stalled
// client pins a few MiB of socket buffers); `npm run soak` runs 100 of them
// beside its load and bounds the server's descriptors and memory.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STALL_TIMEOUT } from '../../src/options.js';
import { rawRequest } from '../helpers/raw.js';
import { cleanup, openFileTargets, request, serveDirectory, settles, tempDir, writeTree } from '../helpers/server.js';

/** Seconds; long enough that a busy machine does not look like a stalled client. */
const STALL_TIMEOUT = 1;
/** After the timeout, a cut may take another tenth of it to be noticed, plus scheduling on a busy machine. */
const CUT_SLACK_MS = 4_000;
/** Larger than what the kernel's socket buffers hold on loopback (a few MiB), so a client that stops reading leaves bytes waiting. */
const LARGE = 24 * 1024 * 1024;

/** A sparse file of zeros: compresses to almost nothing, so the socket never pushes back. */
const ZEROS = 1024 * 1024 * 1024;
/** CPU time of this process (every thread: compression runs on libuv's pool), in seconds, from /proc. */
function cpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'latin1').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
}
const HAS_PROC = existsSync('/proc/self/stat');

let root: string;

beforeAll(async () => {
  root = await tempDir('serve-dir-stall-');
  await writeTree(root, {
    'large.bin': randomBytes(LARGE),
    // Compressible (base64 shrinks by a quarter), streamed through the compressor.
    'large.txt': randomBytes((LARGE * 3) / 4).toString('base64'),
    // Held in memory and written in slices.
    'small.bin': randomBytes(200 * 1024),
    'zeros.txt': '',
  });
  // 1 GiB of zeros without writing them (a sparse file): compressible beyond any socket buffer.
  await truncate(join(root, 'zeros.txt'), ZEROS);
});
afterAll(cleanup);

interface Client {
  socket: Socket;
  /** Bytes received so far. */
  received(): number;
  /**
   * Resolves when the server closes its end, with the milliseconds since the request.
   * (A client that does not read sees the end only once it reads up to it.)
   */
  closed: Promise<number>;
}

/** Send `bytes` and read nothing past what the socket takes in by itself. */
function stalledClient(server: Server, port: number, bytes: Buffer): Client {
  const socket = connect({ port, host: '127.0.0.1' });
  const closed = new Promise<number>((resolve) => {
    const onConnection = (serverSide: Socket) => {
      if (serverSide.remotePort !== socket.localPort) return;
      server.off('connection', onConnection);
      serverSide.once('close', () => resolve(performance.now() - sent));
    };
    server.on('connection', onConnection);
  });
  socket.pause();
  socket.on('error', () => {});
  const sent = performance.now();
  socket.write(bytes);
  return { socket, received: () => socket.bytesRead, closed };
}

/** Read what is left, until the end; resolves with the bytes read since `resume`. */
function readToEnd(socket: Socket): Promise<number> {
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
  socket.resume();
  return new Promise((resolve) => socket.once('close', () => resolve(bytes)));
}

/** Files under the served folder that this process has open. */
async function servedFilesOpen(): Promise<string[]> {
  return (await openFileTargets()).filter((target) => target.startsWith(root));
}

describe('a client that stops reading', () => {
  it('the default stall timeout is 30 s', () => {
    expect(DEFAULT_STALL_TIMEOUT).toBe(30);
  });

  // [what, request]: every kind of body: a streamed file, a range of it, several
  // ranges, a compressed stream, and in-memory bodies (write slices) piling up
  // behind pipelined requests.
  const STALLS: [string, Buffer][] = [
    ['a streamed file', rawRequest({ target: '/large.bin' })],
    ['one range', rawRequest({ target: '/large.bin', headers: [['Host', 'localhost'], ['Range', 'bytes=1000-']] })],
    ['several ranges', rawRequest({ target: '/large.bin', headers: [['Host', 'localhost'], ['Range', 'bytes=0-99,1000-']] })],
    ['a compressed stream (br)', rawRequest({ target: '/large.txt', headers: [['Host', 'localhost'], ['Accept-Encoding', 'br']] })],
    ['a compressed stream (gzip)', rawRequest({ target: '/large.txt', headers: [['Host', 'localhost'], ['Accept-Encoding', 'gzip']] })],
    ['100 pipelined in-memory bodies', Buffer.concat(Array.from({ length: 100 }, () => rawRequest({ target: '/small.bin', close: false })))],
  ];

  it.each(STALLS)('%s: the connection is cut once the stall timeout passes, and its file is closed', async (_what, bytes) => {
    const { server, port } = await serveDirectory(root, { stallTimeout: STALL_TIMEOUT });
    const client = stalledClient(server, port, bytes);
    const ms = await Promise.race([client.closed, new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), STALL_TIMEOUT * 1000 + CUT_SLACK_MS))]);
    expect(ms).toBeGreaterThanOrEqual(STALL_TIMEOUT * 1000);
    expect(ms).toBeLessThan(STALL_TIMEOUT * 1000 + CUT_SLACK_MS);
    // What it had been sent is still there to read, and then the end: far short of everything it asked for.
    const total = client.received() + (await readToEnd(client.socket));
    expect(total).toBeGreaterThan(0);
    expect(total).toBeLessThan(LARGE / 2);
    await settles(async () => (await servedFilesOpen()).length === 0);
    expect((await request(port, '/small.bin')).status).toBe(200);
  });

  it('a client that keeps reading, if slowly, is not cut however long its download takes', async () => {
    // Over loopback the server sees progress in bursts of a megabyte or two (each time the
    // kernel has room for a third of its send buffer again), so "slowly" here is about
    // 2.5 MiB/s against a 2 s timeout; on a real link the buffers, and the bursts, are smaller.
    const stallTimeout = 2;
    const { server, port } = await serveDirectory(root, { stallTimeout });
    const client = stalledClient(server, port, rawRequest({ target: '/large.bin' }));
    let cut = false;
    void client.closed.then(() => (cut = true));
    const SIP = 256 * 1024;
    let allowance = 0;
    client.socket.on('data', (chunk: Buffer) => {
      allowance -= chunk.length;
      if (allowance <= 0) client.socket.pause();
    });
    client.socket.pause();
    const sip = setInterval(() => {
      allowance += SIP;
      client.socket.resume();
    }, 100);
    await new Promise((resolve) => setTimeout(resolve, stallTimeout * 1000 * 2.5));
    clearInterval(sip);
    expect(cut).toBe(false);
    expect(client.received()).toBeGreaterThan(4 * SIP);
    expect(client.received()).toBeLessThan(LARGE); // still downloading: this was a long one
    client.socket.destroy();
  });

  it('a live-reload stream with no events for several stall timeouts stays open', async () => {
    const { server, port } = await serveDirectory(root, { stallTimeout: STALL_TIMEOUT, watch: true });
    const client = stalledClient(server, port, rawRequest({ target: '/__serve-dir/events', close: false }));
    client.socket.resume();
    let cut = false;
    void client.closed.then(() => (cut = true));
    await new Promise((resolve) => setTimeout(resolve, STALL_TIMEOUT * 1000 * 3));
    expect(cut).toBe(false);
    expect(client.received()).toBeGreaterThan(0);
    client.socket.destroy();
  });

  it('stallTimeout 0 never cuts', async () => {
    const { server, port } = await serveDirectory(root, { stallTimeout: 0 });
    const client = stalledClient(server, port, rawRequest({ target: '/large.bin' }));
    let cut = false;
    void client.closed.then(() => (cut = true));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(cut).toBe(false);
    expect((await servedFilesOpen()).some((path) => path === join(root, 'large.bin'))).toBe(true);
    client.socket.destroy();
  });

  it.each([-1, Number.NaN, Infinity])('stallTimeout %s is refused', async (stallTimeout) => {
    await expect(serveDirectory(root, { stallTimeout })).rejects.toThrow(/invalid stall timeout/);
  });
});

describe('stalled clients at the connection cap', () => {
  /** A stand-in for MAX_CONNECTIONS, lowered on the live server: each stalled client pins a few MiB of kernel memory on loopback. */
  const CAP = 20;

  /** One request on a new connection, retried every 100 ms until answered; resolves with the milliseconds that took. */
  async function answeredAfter(port: number, giveUpMs: number): Promise<number> {
    const started = performance.now();
    while (performance.now() - started < giveUpMs) {
      const response = await request(port, '/small.bin').catch(() => undefined);
      if (response?.status === 200) return performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return Infinity;
  }

  it(`with every place taken by clients that stopped reading, a new client is answered within the stall timeout, and descriptors return to where they were`, async () => {
    const stallTimeout = 2;
    const { server, port } = await serveDirectory(root, { stallTimeout });
    server.maxConnections = CAP;
    const descriptorsBefore = (await openFileTargets()).length;
    const stalled = Array.from({ length: CAP }, () => stalledClient(server, port, rawRequest({ target: '/large.bin' })));
    try {
      await settles(async () => (await servedFilesOpen()).length === CAP, 5_000);
      // Full: a connection now is refused...
      const refusedAt = performance.now();
      // ...until a place frees up: at once for a client that stalled a tenth of the timeout ago, at the latest when the timeout cuts it.
      const ms = await answeredAfter(port, stallTimeout * 1000 + CUT_SLACK_MS);
      expect(ms).toBeLessThan(stallTimeout * 1000 + CUT_SLACK_MS);
      expect(performance.now() - refusedAt).toBeLessThan(stallTimeout * 1000 + CUT_SLACK_MS);
      // The rest are cut by the timeout: every file closed, every descriptor given back.
      await Promise.all(stalled.map((client) => client.closed));
      await settles(async () => (await servedFilesOpen()).length === 0);
      for (const client of stalled) client.socket.destroy();
      await settles(async () => (await openFileTargets()).length <= descriptorsBefore, 5_000);
    } finally {
      for (const client of stalled) client.socket.destroy();
    }
  });
});

describe.runIf(HAS_PROC)('compression for a client that stops reading', () => {
  /** Generous for a busy machine: a quarter of one core over the window. */
  const MAX_CPU_SHARE = 0.25;
  const WINDOW_MS = 4_000;

  async function cpuWhileStalled(port: number, target: string, headers: [string, string][], settleMs: number): Promise<{ seconds: number; head: string }> {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('error', () => {});
    const head = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
    socket.write(rawRequest({ target, headers: [['Host', 'localhost'], ...headers] }));
    const text = await head;
    socket.pause();
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    const before = cpuSeconds();
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    const seconds = cpuSeconds() - before;
    socket.destroy();
    return { seconds, head: text.slice(0, text.indexOf('\r\n\r\n')) };
  }

  it('a 1 GiB file of zeros costs no CPU while its client reads nothing: too large to compress on the fly, it is sent as is', async () => {
    const { port } = await serveDirectory(root);
    const { seconds, head } = await cpuWhileStalled(port, '/zeros.txt', [['Accept-Encoding', 'br, gzip']], 0);
    expect(seconds).toBeLessThan((WINDOW_MS / 1000) * MAX_CPU_SHARE);
    expect(head).toMatch(/^content-length: 1073741824$/im);
    expect(head).not.toMatch(/^content-encoding:/im);
    expect(head).toMatch(/^vary: accept-encoding$/im);
  });

  it.each(['br'])('a compressed stream (%s) stops compressing once the socket stops taking its output', async (coding) => {
    const { port } = await serveDirectory(root);
    // Once the kernel's buffers are full (well within a second), the compressor waits on the socket.
    const { seconds, head } = await cpuWhileStalled(port, '/large.txt', [['Accept-Encoding', coding]], 1_000);
    expect(head).toMatch(new RegExp(`^content-encoding: ${coding}$`, 'im'));
    expect(seconds).toBeLessThan((WINDOW_MS / 1000) * MAX_CPU_SHARE);
  });
});
