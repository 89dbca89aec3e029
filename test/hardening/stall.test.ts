// Clients that stop reading: a response whose bytes wait and are not taken is cut
// after the stall timeout, whatever its body is made of; a client that reads,
// however slowly, and a live-reload stream quiet between events are not; at the
// connection cap a new client still gets in; and compression stops costing CPU.
// The timeout is shortened through the `stallTimeout` option (fractions of a
// second: a cut can never come before it, so a short one proves as much as 30 s),
// and the cap on the live server, so that this takes seconds and little kernel
// memory (each stalled client pins a few MiB of socket buffers); `npm run soak`
// runs 100 of them beside its load and bounds the server's descriptors and memory.

import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STALL_TIMEOUT } from '../../src/options.js';
import { rawRequest } from '../helpers/raw.js';
import { serverSideOf, type ServerSide } from '../helpers/server-side.js';
import { cleanup, openFileTargets, request, serveDirectory, settles, tempDir, writeTree } from '../helpers/server.js';

/**
 * Seconds, for clients that read nothing at all: whatever the load, the server cannot
 * cut them sooner, and a busy machine only makes the cut later (CUT_SLACK_MS).
 */
const STALL_TIMEOUT = 0.3;
/**
 * Seconds, where a client that does read must not be mistaken for a stalled one: its
 * progress comes in bursts, and a busy machine spaces them out.
 */
const READER_STALL_TIMEOUT = 1;
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
  /** The server's end of the connection. */
  serverSide: Promise<ServerSide>;
}

/** Send `bytes` and read nothing past what the socket takes in by itself. */
function stalledClient(server: Server, port: number, bytes: Buffer): Client {
  const find = serverSideOf(server);
  const socket = connect({ port, host: '127.0.0.1' });
  const serverSide = new Promise<ServerSide>((resolve) => socket.once('connect', () => resolve(find(socket.localPort!))));
  socket.pause();
  socket.on('error', () => {});
  const sent = performance.now();
  socket.write(bytes);
  return { socket, received: () => socket.bytesRead, closed: serverSide.then(async (side) => (await side.closedAt) - sent), serverSide };
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

/** Where the server has read a file it holds open up to (Linux: /proc/self/fdinfo), or undefined when it has none open. */
function readPositionOf(path: string): number | undefined {
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) !== path) continue;
      return Number(/^pos:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))?.[1]);
    } catch {
      // closed meanwhile
    }
  }
  return undefined;
}

describe('a client that stops reading', () => {
  /** One server for the clients that read nothing: each test waits for its own client's end. */
  let cutting: { server: Server; port: number };
  beforeAll(async () => {
    cutting = await serveDirectory(root, { stallTimeout: STALL_TIMEOUT });
  });

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
    const { server, port } = cutting;
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
    // kernel has room for a third of its send buffer again). Reading about 10 MiB/s, far
    // below what the server could send, bytes wait on its socket all along, and a burst
    // comes every 200 ms or so even with two CPU-bound processes beside: a fifth of the
    // 1 s timeout. On a real link the buffers, and the bursts, are smaller. The file is the
    // gigabyte of zeros, still downloading when the test ends.
    const { server, port } = await serveDirectory(root, { stallTimeout: READER_STALL_TIMEOUT });
    const client = stalledClient(server, port, rawRequest({ target: '/zeros.txt' }));
    let cut = false;
    void client.closed.then(() => (cut = true));
    const SIP = 512 * 1024;
    let allowance = 0;
    client.socket.on('data', (chunk: Buffer) => {
      allowance -= chunk.length;
      if (allowance <= 0) client.socket.pause();
    });
    client.socket.pause();
    const sip = setInterval(() => {
      allowance += SIP;
      client.socket.resume();
    }, 50);
    await new Promise((resolve) => setTimeout(resolve, READER_STALL_TIMEOUT * 1000 * 2.5));
    clearInterval(sip);
    expect(cut).toBe(false);
    expect(client.received()).toBeGreaterThan(4 * SIP);
    expect(client.received()).toBeLessThan(ZEROS); // still downloading: this was a long one
    client.socket.destroy();
  });

  it('a live-reload stream with no events for several stall timeouts stays open', async () => {
    const { server, port } = await serveDirectory(root, { stallTimeout: STALL_TIMEOUT, watch: true });
    const client = stalledClient(server, port, rawRequest({ target: '/__serve-dir/events', close: false }));
    let cut = false;
    void client.closed.then(() => (cut = true));
    // Quiet from its first bytes (a busy machine may take a while to send them) on.
    const opened = new Promise((resolve) => client.socket.once('data', resolve));
    client.socket.resume();
    await opened;
    await new Promise((resolve) => setTimeout(resolve, STALL_TIMEOUT * 1000 * 3));
    expect(cut).toBe(false);
    expect(client.received()).toBeGreaterThan(0);
    client.socket.destroy();
  });

  it('stallTimeout 0 never cuts: its client outlives one that stalled as long under a timeout', async () => {
    const { server, port } = await serveDirectory(root, { stallTimeout: 0 });
    // Uncompressed (no Accept-Encoding), larger than the socket buffers: a streamed file, as large.bin.
    const client = stalledClient(server, port, rawRequest({ target: '/large.txt' }));
    let cut = false;
    void client.closed.then(() => (cut = true));
    await settles(async () => (await servedFilesOpen()).includes(join(root, 'large.txt')), 5_000);
    // The same stall, begun later, on the server with a timeout: once that one is cut,
    // and a timeout more, this one has stalled past the timeout twice over.
    const timed = stalledClient(cutting.server, cutting.port, rawRequest({ target: '/large.bin' }));
    await timed.closed;
    await new Promise((resolve) => setTimeout(resolve, STALL_TIMEOUT * 1000));
    expect(cut).toBe(false);
    expect(await servedFilesOpen()).toContain(join(root, 'large.txt'));
    client.socket.destroy();
    timed.socket.destroy();
    await settles(async () => (await servedFilesOpen()).length === 0);
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
    // Long enough for all of them to have their files open before the first is cut.
    const stallTimeout = 1;
    const lines: string[] = [];
    const { server, port } = await serveDirectory(root, { stallTimeout, log: (line) => lines.push(line) });
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
      // The server said it was full (once, however many it turned away).
      expect(lines.filter((line) => /refusing more until some close/.test(line))).toHaveLength(1);
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
  /**
   * Generous for a busy machine: a quarter of one core over the window. A window of a
   * second is enough: what is measured is a rate, and one that does not stop (a
   * compressor running on for ever, a file read into memory whatever the socket takes)
   * costs a whole core the whole time.
   */
  const MAX_CPU_SHARE = 0.25;
  const WINDOW_MS = 1_000;

  /**
   * Request `target` and stop reading after the first bytes; once the server has bytes
   * waiting on the socket (the kernel's buffers are full), measure this process's CPU time
   * over the window, and where the server's reading of the file stood before and after it
   * (a file read in order, as a compressed stream reads it; one read by position stays at 0).
   */
  async function whileStalled(target: string, headers: [string, string][]): Promise<{ seconds: number; head: string; readBefore: number; readAfter: number }> {
    const { server, port } = await serveDirectory(root);
    const find = serverSideOf(server);
    const socket = connect({ port, host: '127.0.0.1' });
    socket.on('error', () => {});
    const serverSide = new Promise<ServerSide>((resolve) => socket.once('connect', () => resolve(find(socket.localPort!))));
    const head = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
    socket.write(rawRequest({ target, headers: [['Host', 'localhost'], ...headers] }));
    const text = await head;
    socket.pause();
    const { socket: serverSocket } = await serverSide;
    // The kernel holds a few MiB, taken in well under a second; then Node keeps the rest.
    await settles(() => serverSocket.writableLength > 0, 5_000);
    const path = join(root, target.slice(1));
    const readBefore = readPositionOf(path) ?? NaN;
    const before = cpuSeconds();
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    const seconds = cpuSeconds() - before;
    const readAfter = readPositionOf(path) ?? NaN;
    socket.destroy();
    return { seconds, head: text.slice(0, text.indexOf('\r\n\r\n')), readBefore, readAfter };
  }

  it('a 1 GiB file of zeros costs no CPU while its client reads nothing: too large to compress on the fly, it is sent as is', async () => {
    const { seconds, head } = await whileStalled('/zeros.txt', [['Accept-Encoding', 'br, gzip']]);
    expect(head).toMatch(/^content-length: 1073741824$/im);
    expect(head).not.toMatch(/^content-encoding:/im);
    expect(head).toMatch(/^vary: accept-encoding$/im);
    expect(seconds).toBeLessThan((WINDOW_MS / 1000) * MAX_CPU_SHARE);
  });

  it.each(['br', 'gzip'])('a compressed stream (%s) stops compressing once the socket stops taking its output', async (coding) => {
    const { seconds, head, readBefore, readAfter } = await whileStalled('/large.txt', [['Accept-Encoding', coding]]);
    expect(head).toMatch(new RegExp(`^content-encoding: ${coding}$`, 'im'));
    expect(seconds).toBeLessThan((WINDOW_MS / 1000) * MAX_CPU_SHARE);
    // The compressor waits on the socket, and reading the file waits on the compressor: it
    // stops part of the way in. (Compressing the whole file would take a fraction of the
    // window: where it stops shows what the CPU time alone could not.)
    expect(readAfter).toBe(readBefore);
    expect(readAfter).toBeLessThan(LARGE);
  });
});
