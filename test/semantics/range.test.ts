// Range requests over real sockets (RFC 9110 §14): single and multipart 206s compared
// byte for byte with the file, 416s, headers that are ignored, If-Range, abuse limits, and
// the same answers for a small file (held in memory), a middling one (held in memory, and
// written in slices when TCP paces) and a large one (streamed).
import { randomBytes } from 'node:crypto';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMALL_FILE_LIMIT } from '../../src/fs/file-cache.js';
import type { RunningServer } from '../../src/index.js';
import { PACED_WRITE_SLICE } from '../../src/write-slices.js';
import { decodeBody, parseByteranges } from '../helpers/http.js';
import { client, serveOver, TRANSPORTS } from '../helpers/transport.js';
import {
  cleanup,
  exchange,
  isOpenWhenAbortingDownload,
  nextResponseClosed,
  openFileTargets,
  parseResponse,
  settles,
  tempDir,
  writeTree,
} from '../helpers/server.js';

/** Compressible text, so that Accept-Encoding could apply if Range did not forbid it. */
const textOf = (length: number) => Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz\n'.repeat(Math.ceil(length / 37)).slice(0, length));

const SMALL = textOf(10_000);
const MIDDLING = Buffer.concat([randomBytes(3 * PACED_WRITE_SLICE), textOf(1234)]);
const LARGE = Buffer.concat([randomBytes(SMALL_FILE_LIMIT), textOf(100_000)]);
const FILES = { 'small.txt': SMALL, 'middling.txt': MIDDLING, 'large.txt': LARGE, 'empty.txt': Buffer.alloc(0) };
const TEXT_TYPE = 'text/plain; charset=utf-8';

let root: string;

beforeAll(async () => {
  root = await tempDir();
  await writeTree(root, FILES);
});
afterAll(cleanup);

/** [start, end] pairs, end inclusive; negative numbers count from the end (-1 is the last byte). */
type Expected = Array<[number, number]>;

interface RangeCase {
  header: string | ((size: number) => string);
  status: 200 | 206 | 416;
  /** For 206: the parts expected, in order (one part: a single-part 206). */
  parts?: Expected;
}

const RANGE_CASES: Array<[string, RangeCase]> = [
  ['first-last', { header: 'bytes=0-99', status: 206, parts: [[0, 99]] }],
  ['first-last in the middle', { header: 'bytes=1000-1999', status: 206, parts: [[1000, 1999]] }],
  ['first-', { header: 'bytes=9000-', status: 206, parts: [[9000, -1]] }],
  ['suffix -N', { header: 'bytes=-500', status: 206, parts: [[-500, -1]] }],
  ['suffix longer than the file', { header: 'bytes=-99999999', status: 206, parts: [[0, -1]] }],
  ['last-pos past the end is clamped', { header: (size) => `bytes=5-${size + 1000}`, status: 206, parts: [[5, -1]] }],
  ['a last-pos of 2^63 and beyond', { header: 'bytes=3-99999999999999999999', status: 206, parts: [[3, -1]] }],
  ['unit name in capitals', { header: 'BYTES=0-9', status: 206, parts: [[0, 9]] }],
  ['spaces around the specs', { header: 'bytes= 0-9 , 20-29 ', status: 206, parts: [[0, 9], [20, 29]] }],
  ['first and last byte: bytes=0-0,-1', { header: 'bytes=0-0,-1', status: 206, parts: [[0, 0], [-1, -1]] }],
  ['three parts in the order asked', { header: 'bytes=500-599,0-9,-10', status: 206, parts: [[500, 599], [0, 9], [-10, -1]] }],
  ['overlapping ranges become one part', { header: 'bytes=0-99,50-149', status: 206, parts: [[0, 149]] }],
  ['adjacent ranges become one part', { header: 'bytes=0-9,10-19', status: 206, parts: [[0, 19]] }],
  ['overlapping ones coalesced among others', { header: 'bytes=0-9,20-29,5-14', status: 206, parts: [[0, 14], [20, 29]] }],
  ['an unsatisfiable one among satisfiable ones is dropped', { header: (size) => `bytes=0-9,${size}-`, status: 206, parts: [[0, 9]] }],
  ['first-pos at the end: 416', { header: (size) => `bytes=${size}-`, status: 416 }],
  ['beyond the end: 416', { header: (size) => `bytes=${size + 10}-${size + 20}`, status: 416 }],
  ['bytes=-0: 416', { header: 'bytes=-0', status: 416 }],
  ['last-pos before first-pos: invalid, ignored', { header: 'bytes=5-1', status: 200 }],
  ['not a number: invalid, ignored', { header: 'bytes=abc', status: 200 }],
  ['no range-spec: invalid, ignored', { header: 'bytes=', status: 200 }],
  ['no unit: invalid, ignored', { header: '0-99', status: 200 }],
  ['one bad spec spoils the set', { header: 'bytes=0-9,x-y', status: 200 }],
  ['an unknown unit is ignored', { header: 'items=0-9', status: 200 }],
  ['ranges adding up to more than the file are ignored', { header: 'bytes=0-,0-', status: 200 }],
];

describe.each(TRANSPORTS)('over %s', (transport) => {
  const request = client(transport);
  let running: RunningServer;
  let port: number;
  beforeAll(async () => {
    running = await serveOver(transport, root);
    port = running.port;
  });

  describe.each([
    ['small.txt', SMALL],
    ['middling.txt', MIDDLING],
    ['large.txt', LARGE],
  ])('Range on %s', (name, file) => {
    const size = file.length;
    const at = (position: number) => (position < 0 ? size + position : position);

    it.each(RANGE_CASES)('%s', async (_case, { header, status, parts }) => {
      const response = await request(port, `/${name}`, { headers: { Range: typeof header === 'string' ? header : header(size) } });
      expect(response.status).toBe(status);
      if (status === 200) {
        expect(response.headers['accept-ranges']).toBe('bytes');
        expect(response.headers['content-range']).toBeUndefined();
        expect(response.body.equals(file)).toBe(true);
        return;
      }
      if (status === 416) {
        expect(response.headers['content-range']).toBe(`bytes */${size}`);
        expect(response.headers['content-length']).toBe('0');
        expect(response.body.length).toBe(0);
        return;
      }
      expect(response.headers['accept-ranges']).toBe('bytes');
      expect(response.headers['etag']).toBeDefined();
      expect(Number(response.headers['content-length'])).toBe(response.body.length);
      const expected = parts!.map(([start, end]) => ({ start: at(start), end: at(end) }));
      if (expected.length === 1) {
        const [{ start, end }] = expected as [{ start: number; end: number }];
        expect(response.headers['content-type']).toBe(TEXT_TYPE);
        expect(response.headers['content-range']).toBe(`bytes ${start}-${end}/${size}`);
        expect(response.body.equals(file.subarray(start, end + 1))).toBe(true);
        return;
      }
      expect(response.headers['content-range']).toBeUndefined();
      const received = parseByteranges(response.headers['content-type']!, response.body);
      expect(received.map(({ start, end }) => ({ start, end }))).toEqual(expected);
      for (const part of received) {
        expect(part.contentType).toBe(TEXT_TYPE);
        expect(part.contentRange).toBe(`bytes ${part.start}-${part.end}/${size}`);
        expect(part.body.equals(file.subarray(part.start, part.end + 1))).toBe(true);
      }
    });

    it('If-Range with the current ETag: 206', async () => {
      const etag = (await request(port, `/${name}`, { method: 'HEAD' })).headers['etag']!;
      const response = await request(port, `/${name}`, { headers: { Range: 'bytes=10-19', 'If-Range': etag } });
      expect(response.status).toBe(206);
      expect(response.body.equals(file.subarray(10, 20))).toBe(true);
    });

    it('If-Range with the exact Last-Modified date: 206', async () => {
      const lastModified = (await request(port, `/${name}`, { method: 'HEAD' })).headers['last-modified']!;
      const response = await request(port, `/${name}`, { headers: { Range: 'bytes=10-19', 'If-Range': lastModified } });
      expect(response.status).toBe(206);
      expect(response.body.equals(file.subarray(10, 20))).toBe(true);
    });

    // [case, If-Range value]: each means "the copy I have is not the current one"
    it.each([
      ['a stale ETag', '"stale-tag"'],
      ['the current ETag marked weak', 'W/CURRENT'],
      ['another date', 'Tue, 31 Dec 2019 23:59:59 GMT'],
      ['garbage', 'whenever'],
    ])('If-Range with %s: the whole file, 200', async (_case, value) => {
      const etag = (await request(port, `/${name}`, { method: 'HEAD' })).headers['etag']!;
      const response = await request(port, `/${name}`, {
        headers: { Range: 'bytes=10-19', 'If-Range': value.replace('CURRENT', etag) },
      });
      expect(response.status).toBe(200);
      expect(response.headers['content-range']).toBeUndefined();
      expect(response.body.equals(file)).toBe(true);
    });

    it('multipart with If-Range and the current ETag', async () => {
      const etag = (await request(port, `/${name}`, { method: 'HEAD' })).headers['etag']!;
      const response = await request(port, `/${name}`, { headers: { Range: 'bytes=0-0,-1', 'If-Range': etag } });
      expect(response.status).toBe(206);
      const parts = parseByteranges(response.headers['content-type']!, response.body);
      expect(parts.map((part) => part.body.toString('latin1'))).toEqual([file.toString('latin1', 0, 1), file.toString('latin1', size - 1)]);
    });

    it.each(['br', 'gzip', 'br, gzip, *'])('with Accept-Encoding: %s the 206 is identity', async (acceptEncoding) => {
      const response = await request(port, `/${name}`, { headers: { Range: 'bytes=100-199', 'Accept-Encoding': acceptEncoding } });
      expect(response.status).toBe(206);
      expect(response.headers['content-encoding']).toBeUndefined();
      expect(response.headers['vary']).toBe('Accept-Encoding');
      expect(response.headers['content-range']).toBe(`bytes 100-199/${size}`);
      expect(response.body.equals(file.subarray(100, 200))).toBe(true);
      const multipart = await request(port, `/${name}`, { headers: { Range: 'bytes=0-0,-1', 'Accept-Encoding': acceptEncoding } });
      expect(multipart.status).toBe(206);
      expect(multipart.headers['content-encoding']).toBeUndefined();
      expect(parseByteranges(multipart.headers['content-type']!, multipart.body)).toHaveLength(2);
    });

    it('ignores Range on HEAD (defined for GET only, RFC 9110 §14.2)', async () => {
      const response = await request(port, `/${name}`, { method: 'HEAD', headers: { Range: 'bytes=0-9' } });
      expect(response.status).toBe(200);
      expect(response.headers['content-range']).toBeUndefined();
      expect(Number(response.headers['content-length'])).toBe(size);
      expect(response.body.length).toBe(0);
    });

    it('stays fast with 300 small ranges (more than the limit: the whole file)', async () => {
      const specs = Array.from({ length: 300 }, (_, i) => `${i * 3}-${i * 3 + 1}`).join(',');
      const started = performance.now();
      const responses = await Promise.all(Array.from({ length: 5 }, () => request(port, `/${name}`, { headers: { Range: `bytes=${specs}` } })));
      expect(performance.now() - started).toBeLessThan(2000);
      for (const response of responses) {
        expect(response.status).toBe(200);
        expect(response.body.equals(file)).toBe(true);
      }
    });

    it('sends 99 separate ranges as 99 parts, without piling up listeners', async () => {
      const warnings: Error[] = [];
      const onWarning = (warning: Error) => warnings.push(warning);
      process.on('warning', onWarning);
      try {
        const specs = Array.from({ length: 99 }, (_, i) => `${i * 100}-${i * 100 + 9}`).join(',');
        const response = await request(port, `/${name}`, { headers: { Range: `bytes=${specs}` } });
        expect(response.status).toBe(206);
        const parts = parseByteranges(response.headers['content-type']!, response.body);
        expect(parts).toHaveLength(99);
        for (const part of parts) expect(part.body.equals(file.subarray(part.start, part.end + 1))).toBe(true);
      } finally {
        process.off('warning', onWarning);
      }
      expect(warnings.map(String)).toEqual([]);
    });

    it('stays fast with 100 overlapping ranges (coalesced into one part)', async () => {
      const specs = Array.from({ length: 100 }, (_, i) => `${i}-${i + 10}`).join(',');
      const response = await request(port, `/${name}`, { headers: { Range: `bytes=${specs}` } });
      expect(response.status).toBe(206);
      expect(response.headers['content-range']).toBe(`bytes 0-109/${size}`);
      expect(response.body.equals(file.subarray(0, 110))).toBe(true);
    });
  });

  describe('Range on an empty file', () => {
    it('bytes=0- selects nothing: 416 with bytes */0', async () => {
      const response = await request(port, '/empty.txt', { headers: { Range: 'bytes=0-' } });
      expect(response.status).toBe(416);
      expect(response.headers['content-range']).toBe('bytes */0');
    });

    it('a suffix range gets the whole (empty) file: 200', async () => {
      const response = await request(port, '/empty.txt', { headers: { Range: 'bytes=-5' } });
      expect(response.status).toBe(200);
      expect(response.headers['content-length']).toBe('0');
      expect(response.body.length).toBe(0);
    });
  });

  describe('a range request is never compressed, while the same request without Range is', () => {
    it('the full response to Accept-Encoding: br is brotli', async () => {
      const response = await request(port, '/large.txt', { headers: { 'Accept-Encoding': 'br' } });
      expect(response.headers['content-encoding']).toBe('br');
      expect(decodeBody(response).equals(LARGE)).toBe(true);
    });
  });

  // HTTP/1-only: two requests pipelined on one connection, read as raw bytes. (Over h2 a cut
  // body is a reset stream, which cannot be mistaken for the next response.)
  if (transport === 'http1') describe('a streamed file that shrinks after its headers are decided', () => {
    // [case, Range header (none: the whole file)]
    it.each([
      ['the whole file', undefined],
      ['one range', 'bytes=1000-'],
      ['several ranges', 'bytes=0-9,100000-'],
    ])('%s: the connection is cut, never left looking complete', async (_case, range) => {
      const name = `shrinking-${range ?? 'whole'}.txt`;
      const path = join(root, name);
      writeFileSync(path, Buffer.alloc(SMALL_FILE_LIMIT * 2, 'x'));
      // Runs after the handler's synchronous part, while the file is being opened.
      running.server.once('request', () => truncateSync(path, 200_000));
      const first = [`GET /${name} HTTP/1.1`, 'Host: localhost', ...(range === undefined ? [] : [`Range: ${range}`]), '', ''];
      const second = ['GET /small.txt HTTP/1.1', 'Host: localhost', 'Connection: close', '', ''];
      const received = await exchange(port, first.join('\r\n') + second.join('\r\n'));
      // Had the short body ended normally, the next response would follow it on the same
      // connection and be read as the missing bytes of this one.
      expect(received.toString('latin1').match(/HTTP\/1\.1 \d{3}/g)).toHaveLength(1);
      const response = parseResponse(received);
      expect(response.body.length).toBeLessThan(Number(response.headers['content-length']));
    });
  });

  // HTTP/1-only: the client drops its raw connection mid-body.
  if (transport === 'http1') describe('a client that leaves during a multipart response', () => {
    it('releases the file descriptor and the server carries on', async () => {
      const path = join(root, 'sparse.bin');
      writeFileSync(path, '');
      truncateSync(path, 50 * 1024 * 1024); // sparse: cheap to make, slow enough to send
      const closed = nextResponseClosed(running.server);
      const openDuringDownload = await isOpenWhenAbortingDownload(port, 'GET /sparse.bin HTTP/1.1\r\nHost: localhost\r\nRange: bytes=0-9,1000000-\r\n\r\n', path);
      expect(openDuringDownload).toBe(true);
      await closed;
      await settles(async () => !(await openFileTargets()).includes(path));
      expect((await request(port, '/small.txt', { headers: { Range: 'bytes=0-0,-1' } })).status).toBe(206);
    });
  });
});
