// Bodies held in memory go to the socket in slices when TCP paces (write-slices.ts):
// which congestion control gets slices, and that sliced bodies arrive whole over real
// sockets: at every size around a slice, pipelined, and to clients that hang up.
import { randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endWithSlices, PACED_WRITE_SLICE, writeSliceFor } from '../../src/write-slices.js';
import { abortedDownload, inParallel, parseResponses, rawRequest, send } from '../helpers/raw.js';
import { request } from '../helpers/server.js';

describe('writeSliceFor', () => {
  // [contents of /proc/sys/net/ipv4/tcp_congestion_control, slice]
  it.each([
    ['bbr\n', PACED_WRITE_SLICE],
    ['bbr', PACED_WRITE_SLICE],
    ['bbr2\n', PACED_WRITE_SLICE],
    ['bbr3\n', PACED_WRITE_SLICE],
    ['cubic\n', Infinity],
    ['reno\n', Infinity],
    ['dctcp\n', Infinity],
    ['bbrx\n', Infinity],
    ['', Infinity],
    [undefined, Infinity],
  ])('%j → %d', (name, slice) => {
    expect(writeSliceFor(name)).toBe(slice);
  });

  it('a slice and the HTTP head fit one 64 KiB loopback segment', () => {
    expect(PACED_WRITE_SLICE + 4096).toBeLessThan(64 * 1024);
  });
});

describe('endWithSlices over a real socket', () => {
  /** Bodies by size, made once. */
  const bodies = new Map<number, Buffer>();
  /** Write calls the last response made, end() included. */
  let calls = 0;
  /** Bytes waiting in the socket's own buffer at each of those calls. */
  let waiting: number[] = [];
  let port: number;
  const server = createServer((req, res: ServerResponse) => {
    // /SIZE/SLICE, or /SIZE/SLICE/cork for an application that corked the socket itself
    const [size, slice] = req.url!.slice(1).split('/').map(Number) as [number, number];
    if (req.url!.endsWith('/cork')) res.socket!.cork();
    let body = bodies.get(size);
    if (body === undefined) bodies.set(size, (body = randomBytes(size)));
    calls = 0;
    waiting = [];
    const count = () => {
      calls++;
      waiting.push(res.socket?.writableLength ?? -1);
    };
    const write = res.write.bind(res);
    res.write = ((chunk: Buffer) => (count(), write(chunk))) as typeof res.write;
    const end = res.end.bind(res);
    res.end = ((chunk: Buffer) => (count(), end(chunk))) as typeof res.end;
    res.writeHead(200, { 'content-length': size });
    endWithSlices(res, body, slice);
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  // [size, slice, write calls]
  it.each([
    [0, 1000, 1],
    [1, 1000, 1],
    [999, 1000, 1],
    [1000, 1000, 1],
    [1001, 1000, 2],
    [2000, 1000, 2],
    [2001, 1000, 3],
    [10_007, 7, 1430],
    [PACED_WRITE_SLICE, PACED_WRITE_SLICE, 1],
    [PACED_WRITE_SLICE + 1, PACED_WRITE_SLICE, 2],
    [138_000, PACED_WRITE_SLICE, 3],
    [256 * 1024, PACED_WRITE_SLICE, 6],
    [256 * 1024, Infinity, 1],
  ])('%i bytes in slices of %d: %i write calls, every byte in order', async (size, slice, expectedCalls) => {
    const response = await request(port, `/${size}/${slice}`);
    expect(response.status).toBe(200);
    expect(response.body.equals(bodies.get(size)!)).toBe(true);
    expect(calls).toBe(expectedCalls);
  });

  it('each slice is handed to the kernel before the next is written, not gathered into one call', async () => {
    // 5,000 bytes fit the socket's send buffer at once: nothing should wait in Node's.
    const response = await request(port, '/5000/1000');
    expect(response.body.equals(bodies.get(5000)!)).toBe(true);
    expect(waiting).toEqual([0, 0, 0, 0, 0]);
  });

  it("leaves a cork the application put on the socket: the slices wait for it, as it asked", async () => {
    const response = await request(port, '/5000/1000/cork');
    expect(response.body.equals(bodies.get(5000)!)).toBe(true);
    // Every earlier slice (and the head) still waits in Node's buffer at each call.
    expect(waiting).toHaveLength(5);
    waiting.forEach((bytes, i) => expect(bytes).toBeGreaterThanOrEqual(i * 1000));
    expect(waiting[4]).toBeGreaterThan(4000);
  });

  it('pipelined responses, the later ones queued before they have a socket, arrive whole and in order', async () => {
    const requests = Buffer.concat([
      rawRequest({ target: '/5000/1000', close: false }),
      rawRequest({ target: '/3/1000', close: false }),
      rawRequest({ target: '/4321/1000' }),
    ]);
    const { bytes, timedOut } = await send(port, requests);
    expect(timedOut).toBe(false);
    const responses = parseResponses(bytes);
    expect(responses.map((response) => response.body.length)).toEqual([5000, 3, 4321]);
    expect(responses[0]!.body.equals(bodies.get(5000)!)).toBe(true);
    expect(responses[1]!.body.equals(bodies.get(3)!)).toBe(true);
    expect(responses[2]!.body.equals(bodies.get(4321)!)).toBe(true);
  });

  it('clients that hang up mid-body leave the server serving', async () => {
    // 4 MiB in 1,000-byte slices: far more than the socket takes before the client is gone.
    const statuses = await inParallel(20, 10, () => abortedDownload(port, rawRequest({ target: `/${4 * 1024 * 1024}/1000` })));
    expect(statuses).toEqual(Array.from({ length: 20 }, () => 200));
    const response = await request(port, '/2500/1000');
    expect(response.body.equals(bodies.get(2500)!)).toBe(true);
  });
});
