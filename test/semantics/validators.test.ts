// Validators and preconditions end to end (RFC 9110 §8.8, §13): every file response
// carries a strong ETag and Last-Modified, conditional requests get 304/412 in the order
// of §13.2.2, and HEAD reports what GET would send.
import { randomBytes } from 'node:crypto';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMF_FIXDATE, representationHeaders, STRONG_ETAG } from '../helpers/http.js';
import { cleanup, tempDir, writeTree } from '../helpers/server.js';
import { client, serveOver, TRANSPORTS } from '../helpers/transport.js';

/** Every file is dated here, half a second into a Wednesday, so dates have a known form. */
const MTIME = new Date('2020-01-01T00:00:00.500Z');
const LAST_MODIFIED = 'Wed, 01 Jan 2020 00:00:00 GMT';
/** The same second in the two obsolete formats every recipient must accept (§5.6.7). */
const LAST_MODIFIED_RFC850 = 'Wednesday, 01-Jan-20 00:00:00 GMT';
const LAST_MODIFIED_ASCTIME = 'Wed Jan  1 00:00:00 2020';
const EARLIER = 'Tue, 31 Dec 2019 23:59:59 GMT';
const LATER = 'Thu, 02 Jan 2020 00:00:00 GMT';

const text = (length: number) => Buffer.from('All work and no play makes a dull server. '.repeat(Math.ceil(length / 43)).slice(0, length));

const FILES = {
  'page.html': text(3000),
  'app.js': text(2048),
  'data.json': Buffer.from('{"small":true}'),
  'image.png': randomBytes(4096),
  'empty.txt': Buffer.alloc(0),
  'big.txt': text(300 * 1024),
  'big.bin': randomBytes(300 * 1024),
  'folder/index.html': text(1500),
  'pre.txt': Buffer.from('a small text file for preconditions\n'),
  'side.js': text(2000),
  'side.js.gz': gzipSync(text(2000)),
};

let root: string;

beforeAll(async () => {
  root = await tempDir();
  await writeTree(root, FILES);
  for (const name of Object.keys(FILES)) await utimes(join(root, name), MTIME, MTIME);
});
afterAll(cleanup);

describe.each(TRANSPORTS)('over %s', (transport) => {
  const request = client(transport);
  let port: number;
  beforeAll(async () => {
    port = (await serveOver(transport, root)).port;
  });

  describe('every file response carries a strong ETag and Last-Modified', () => {
    // [path, request headers]
    it.each([
      ['/page.html', {}],
      ['/page.html', { 'Accept-Encoding': 'gzip' }],
      ['/page.html', { 'Accept-Encoding': 'br' }],
      ['/app.js', {}],
      ['/data.json', {}],
      ['/image.png', {}],
      ['/empty.txt', {}],
      ['/big.txt', {}],
      ['/big.txt', { 'Accept-Encoding': 'gzip' }],
      ['/big.bin', {}],
      ['/folder/', {}],
      ['/big.bin', { Range: 'bytes=0-9' }],
      ['/page.html', { Range: 'bytes=0-9,20-29' }],
    ])('GET %s %j', async (path, headers) => {
      const response = await request(port, path, { headers });
      expect(response.status).toBeLessThan(300);
      expect(response.headers['etag']).toMatch(STRONG_ETAG);
      expect(response.headers['last-modified']).toMatch(IMF_FIXDATE);
      expect(response.headers['last-modified']).toBe(LAST_MODIFIED);
    });

    it('gives different files different tags', async () => {
      const tags = await Promise.all(Object.keys(FILES).map(async (name) => (await request(port, `/${name}`)).headers['etag']));
      expect(new Set(tags).size).toBe(tags.length);
    });
  });

  describe('304 Not Modified', () => {
    // [path, request headers]: each revalidated with the tag it was given
    it.each([
      ['/page.html', {}],
      ['/page.html', { 'Accept-Encoding': 'gzip' }],
      ['/page.html', { 'Accept-Encoding': 'br' }],
      ['/big.txt', { 'Accept-Encoding': 'gzip' }],
      ['/big.bin', {}],
    ])('%s %j: validators, Cache-Control and Vary, no body, no other metadata', async (path, headers) => {
      const first = await request(port, path, { headers });
      const etag = first.headers['etag']!;
      const revalidated = await request(port, path, { headers: { ...headers, 'If-None-Match': etag } });
      expect(revalidated.status).toBe(304);
      expect(revalidated.body.length).toBe(0);
      expect(revalidated.headers['etag']).toBe(etag);
      expect(revalidated.headers['last-modified']).toBe(LAST_MODIFIED);
      expect(revalidated.headers['cache-control']).toBe('no-cache');
      expect(revalidated.headers['vary']).toBe(first.headers['vary']);
      expect(revalidated.headers['content-type']).toBeUndefined();
      expect(revalidated.headers['content-encoding']).toBeUndefined();
      expect(revalidated.headers['transfer-encoding']).toBeUndefined();
      // Representation metadata other than the above is left out (RFC 9110 §15.4.5): the
      // cache keeps what the 200 said.
      expect(revalidated.headers['accept-ranges']).toBeUndefined();
      expect(revalidated.headers['x-content-type-options']).toBeUndefined();
      expect(revalidated.headers['content-length']).toBeUndefined();
    });

    it('says Vary: Accept-Encoding for a compressible type, also when answered by date', async () => {
      const revalidated = await request(port, '/page.html', { headers: { 'If-Modified-Since': LAST_MODIFIED } });
      expect(revalidated.status).toBe(304);
      expect(revalidated.headers['vary']).toBe('Accept-Encoding');
      expect(revalidated.headers['etag']).toMatch(STRONG_ETAG);
      expect(revalidated.headers['cache-control']).toBe('no-cache');
      expect(revalidated.headers['content-type']).toBeUndefined();
    });
  });

  describe('preconditions, in the order of RFC 9110 §13.2.2', () => {
    let etag: string;
    beforeAll(async () => {
      etag = (await request(port, '/pre.txt')).headers['etag']!;
    });

    // [case, headers (ETAG stands for the current tag), method, status]
    it.each<[string, Record<string, string>, string, number]>([
      ['no precondition', {}, 'GET', 200],
      ['If-None-Match: the tag', { 'If-None-Match': 'ETAG' }, 'GET', 304],
      ['If-None-Match: the tag, on HEAD', { 'If-None-Match': 'ETAG' }, 'HEAD', 304],
      ['If-None-Match: a list with the tag', { 'If-None-Match': '"nope", ETAG, "other"' }, 'GET', 304],
      ['If-None-Match: *', { 'If-None-Match': '*' }, 'GET', 304],
      ['If-None-Match: the tag in W/ form (weak comparison)', { 'If-None-Match': 'W/ETAG' }, 'GET', 304],
      ['If-None-Match: another tag', { 'If-None-Match': '"other"' }, 'GET', 200],
      ['If-None-Match: malformed', { 'If-None-Match': 'ETAG-without-quotes' }, 'GET', 200],
      ['If-Match: another tag', { 'If-Match': '"other"' }, 'GET', 412],
      ['If-Match: *', { 'If-Match': '*' }, 'GET', 200],
      ['If-Match: the tag', { 'If-Match': 'ETAG' }, 'GET', 200],
      ['If-Match: a list with the tag', { 'If-Match': '"other", ETAG' }, 'GET', 200],
      ['If-Match: the tag in W/ form (strong comparison)', { 'If-Match': 'W/ETAG' }, 'GET', 412],
      ['If-Match fails before If-None-Match matches', { 'If-Match': '"other"', 'If-None-Match': 'ETAG' }, 'GET', 412],
      ['If-Unmodified-Since: earlier than Last-Modified', { 'If-Unmodified-Since': EARLIER }, 'GET', 412],
      ['If-Unmodified-Since: equal', { 'If-Unmodified-Since': LAST_MODIFIED }, 'GET', 200],
      ['If-Unmodified-Since: later', { 'If-Unmodified-Since': LATER }, 'GET', 200],
      ['If-Unmodified-Since: invalid date, ignored', { 'If-Unmodified-Since': 'yesterday' }, 'GET', 200],
      ['If-Unmodified-Since: ignored when If-Match passes', { 'If-Match': 'ETAG', 'If-Unmodified-Since': EARLIER }, 'GET', 200],
      ['If-Modified-Since: equal', { 'If-Modified-Since': LAST_MODIFIED }, 'GET', 304],
      ['If-Modified-Since: equal, on HEAD', { 'If-Modified-Since': LAST_MODIFIED }, 'HEAD', 304],
      ['If-Modified-Since: equal, rfc850-date', { 'If-Modified-Since': LAST_MODIFIED_RFC850 }, 'GET', 304],
      ['If-Modified-Since: equal, asctime-date', { 'If-Modified-Since': LAST_MODIFIED_ASCTIME }, 'GET', 304],
      ['If-Modified-Since: later', { 'If-Modified-Since': LATER }, 'GET', 304],
      ['If-Modified-Since: earlier', { 'If-Modified-Since': EARLIER }, 'GET', 200],
      ['If-Modified-Since: invalid date, ignored', { 'If-Modified-Since': '2020-01-01T00:00:00Z' }, 'GET', 200],
      ['If-Modified-Since: a list of dates, ignored', { 'If-Modified-Since': `${LAST_MODIFIED}, ${LATER}` }, 'GET', 200],
      ['If-Modified-Since: in the future (a skewed clock), ignored', { 'If-Modified-Since': 'Fri, 01 Jan 9999 00:00:00 GMT' }, 'GET', 200],
      ['If-Modified-Since: ignored when If-None-Match does not match', { 'If-None-Match': '"other"', 'If-Modified-Since': LAST_MODIFIED }, 'GET', 200],
      ['If-None-Match decides over an earlier If-Modified-Since', { 'If-None-Match': 'ETAG', 'If-Modified-Since': EARLIER }, 'GET', 304],
      ['If-Unmodified-Since: rfc850-date, earlier', { 'If-Unmodified-Since': 'Tuesday, 31-Dec-19 23:59:59 GMT' }, 'GET', 412],
      ['If-Unmodified-Since: asctime-date, earlier', { 'If-Unmodified-Since': 'Tue Dec 31 23:59:59 2019' }, 'GET', 412],
    ])('%s', async (_case, headers, method, status) => {
      const withTag = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, value.replace('ETAG', etag)]));
      const response = await request(port, '/pre.txt', { method, headers: withTag });
      expect(response.status).toBe(status);
      if (status === 200) {
        expect(response.headers['etag']).toBe(etag);
        if (method === 'GET') expect(response.text).toBe(FILES['pre.txt'].toString());
      }
      if (status === 304) {
        expect(response.body.length).toBe(0);
        expect(response.headers['etag']).toBe(etag);
      }
      if (status === 412) {
        // The failure says nothing about the representation it refused.
        expect(response.headers['etag']).toBeUndefined();
        expect(response.text).not.toContain(FILES['pre.txt'].toString());
      }
    });

    // [path, how its gzip form is made]
    it.each([
      ['/page.html', 'compressed in memory'],
      ['/big.txt', 'compressed while streaming'],
      ['/side.js', 'a precompressed sidecar'],
    ])('a 412 to a request accepting gzip is the error page, never %s (%s)', async (path) => {
      const failing: Array<Record<string, string>> = [{ 'If-Match': '"other"' }, { 'If-Unmodified-Since': EARLIER }];
      for (const precondition of failing) {
        const response = await request(port, path, { headers: { ...precondition, 'Accept-Encoding': 'gzip' } });
        expect(response.status).toBe(412);
        expect(response.headers['content-encoding']).toBeUndefined();
        expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(Number(response.headers['content-length'])).toBe(response.body.length);
        expect(response.text).toContain('412 Precondition Failed');
      }
    });

    it('answers a 1,500-tag If-None-Match and a 50,000-space If-Match in milliseconds', async () => {
      // Short tags keep the head under Node's 16 KiB limit (a longer one is a 431 at once).
      const tags = Array.from({ length: 1500 }, (_, i) => `"t${i}"`).join(',');
      const started = performance.now();
      const [many, blank] = await Promise.all([
        request(port, '/pre.txt', { headers: { 'If-None-Match': `${tags},${etag}` } }),
        request(port, '/pre.txt', { headers: { 'If-Match': `${' '.repeat(50_000)}"x"` } }),
      ]);
      expect(many.status).toBe(304);
      expect(blank.status).toBe(412);
      expect(performance.now() - started).toBeLessThan(2000);
    });
  });

  describe('HEAD reports exactly what GET would send', () => {
    // [path, request headers]
    it.each([
      ['/page.html', {}],
      ['/page.html', { 'Accept-Encoding': 'gzip' }],
      ['/page.html', { 'Accept-Encoding': 'br' }],
      ['/app.js', { 'Accept-Encoding': 'gzip, deflate, br' }],
      ['/data.json', { 'Accept-Encoding': 'br' }],
      ['/image.png', { 'Accept-Encoding': 'br' }],
      ['/empty.txt', {}],
      ['/big.txt', {}],
      ['/big.txt', { 'Accept-Encoding': 'br' }],
      ['/big.bin', {}],
      ['/folder/', {}],
    ])('%s %j', async (path, headers) => {
      const get = await request(port, path, { headers });
      const head = await request(port, path, { method: 'HEAD', headers });
      expect(head.status).toBe(get.status);
      expect(head.body.length).toBe(0);
      expect(representationHeaders(head)).toEqual(representationHeaders(get));
      if (get.headers['content-length'] !== undefined) expect(Number(head.headers['content-length'])).toBe(get.body.length);
    });

    // [path, request headers besides Range]
    it.each([
      ['/big.bin', {}],
      ['/page.html', { 'Accept-Encoding': 'gzip' }],
    ])('ignores Range, defined for GET only (RFC 9110 §14.2): HEAD %s %j with Range is the plain 200', async (path, headers) => {
      const get = await request(port, path, { headers });
      const head = await request(port, path, { method: 'HEAD', headers: { ...headers, Range: 'bytes=0-9' } });
      expect(head.status).toBe(200);
      expect(head.headers['content-range']).toBeUndefined();
      expect(representationHeaders(head)).toEqual(representationHeaders(get));
    });
  });
});
