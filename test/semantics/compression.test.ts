// Content-coding end to end (RFC 9110 §8.4, §12.5.3): real gzip and brotli bodies decoded
// with node:zlib and compared with the file, negotiation by q-values, Vary, a tag per
// coding, and precompressed sidecars.
import { randomBytes } from 'node:crypto';
import { symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMALL_FILE_LIMIT } from '../../src/fs/file-cache.js';
import { MIN_COMPRESS_SIZE } from '../../src/stages/compress.js';
import { decodeBody, representationHeaders, STRONG_ETAG } from '../helpers/http.js';
import { cleanup, tempDir, writeTree } from '../helpers/server.js';
import { client, serveOver, TRANSPORTS } from '../helpers/transport.js';

/** Text that compresses, but not to nothing: words in a pseudo-random order. */
function prose(length: number): Buffer {
  const words = ['static', 'server', 'range', 'etag', 'brotli', 'gzip', 'vary', 'cache', 'header', 'body', 'client'];
  const noise = randomBytes(Math.ceil(length / 4));
  let text = '';
  for (let i = 0; text.length < length; i++) text += words[noise[i % noise.length]! % words.length] + (i % 12 === 11 ? '\n' : ' ');
  return Buffer.from(text.slice(0, length));
}

const PAGE = prose(20_000);
const HUGE = prose(2 * 1024 * 1024);
const APP = prose(600); // below the on-the-fly threshold: only a sidecar can compress it
const OLD = prose(700);
const SECRET = prose(800);
const OUTSIDE = prose(900);
const BUNDLE = prose(400 * 1024);
/** Stored, not deflated: a sidecar larger than the in-memory limit, so it is streamed. */
const BUNDLE_GZ = gzipSync(BUNDLE, { level: 0 });

const FILES = {
  'page.html': PAGE,
  'huge.js': HUGE,
  'below.txt': prose(MIN_COMPRESS_SIZE - 1),
  'at.txt': prose(MIN_COMPRESS_SIZE),
  'photo.png': randomBytes(8192),
  'blob.bin': prose(8192), // unknown type: application/octet-stream, left alone
  'icon.svg': Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg">${'<rect width="1" height="1"/>'.repeat(100)}</svg>`),
  'app.js': APP,
  'app.js.br': brotliCompressSync(APP),
  'app.js.gz': gzipSync(APP),
  'old.css': OLD,
  'old.css.br': brotliCompressSync(OLD),
  '.secret.js': SECRET,
  '.secret.js.br': brotliCompressSync(SECRET),
  'linked.js': OUTSIDE,
  'bundle.js': BUNDLE,
  'bundle.js.gz': BUNDLE_GZ,
};

let root: string;

beforeAll(async () => {
  root = await tempDir();
  await writeTree(root, FILES);
  // A sidecar older than its file is stale: the file was edited after it was made.
  await utimes(join(root, 'old.css'), new Date('2024-01-02'), new Date('2024-01-02'));
  await utimes(join(root, 'old.css.br'), new Date('2024-01-01'), new Date('2024-01-01'));
  // A sidecar that is a symlink out of the root obeys the symlink rule like any file.
  const elsewhere = await tempDir();
  await writeTree(elsewhere, { 'linked.js.br': brotliCompressSync(Buffer.from('not what linked.js says')) });
  await symlink(join(elsewhere, 'linked.js.br'), join(root, 'linked.js.br'));
});
afterAll(cleanup);

describe.each(TRANSPORTS)('over %s', (transport) => {
  const request = client(transport);
  let port: number;
  beforeAll(async () => {
    port = (await serveOver(transport, root)).port;
  });

  describe('on-the-fly compression decodes to the exact file', () => {
    // [path, Accept-Encoding, coding expected, the file]
    it.each([
      ['/page.html', 'gzip', 'gzip', PAGE],
      ['/page.html', 'br', 'br', PAGE],
      ['/page.html', 'gzip, deflate, br', 'br', PAGE],
      ['/page.html', 'x-gzip', 'gzip', PAGE],
      ['/huge.js', 'gzip', 'gzip', HUGE],
      ['/huge.js', 'br', 'br', HUGE],
      ['/icon.svg', 'gzip', 'gzip', FILES['icon.svg']],
      ['/at.txt', 'br', 'br', FILES['at.txt']],
    ])('%s, Accept-Encoding: %s -> %s', async (path, acceptEncoding, coding, file) => {
      const response = await request(port, path, { headers: { 'Accept-Encoding': acceptEncoding } });
      expect(response.status).toBe(200);
      expect(response.headers['content-encoding']).toBe(coding);
      expect(response.headers['vary']).toBe('Accept-Encoding');
      expect(response.body.length).toBeLessThan(file.length);
      if (response.headers['content-length'] !== undefined) expect(Number(response.headers['content-length'])).toBe(response.body.length);
      expect(decodeBody(response).equals(file)).toBe(true);
    });

    it('streams a 2 MiB file compressed (no Content-Length; chunked on HTTP/1.1)', async () => {
      const response = await request(port, '/huge.js', { headers: { 'Accept-Encoding': 'gzip' } });
      // HTTP/2 frames every body alike: no Transfer-Encoding there (RFC 9113 §8.2.2).
      expect(response.headers['transfer-encoding']).toBe(transport === 'h2' ? undefined : 'chunked');
      expect(response.headers['content-length']).toBeUndefined();
      expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8');
    });

  });

  describe('negotiation by Accept-Encoding (q-values, identity, *)', () => {
    // [Accept-Encoding, coding expected (undefined: identity)]
    it.each<[string | undefined, string | undefined]>([
      [undefined, undefined],
      ['', undefined],
      ['identity', undefined],
      ['deflate', undefined],
      ['zstd', undefined],
      ['br;q=0, gzip', 'gzip'],
      ['gzip;q=0, br', 'br'],
      ['gzip;q=0.5, br;q=0.8', 'br'],
      ['gzip;q=1, br;q=0.5', 'gzip'],
      ['GZIP', 'gzip'],
      ['*', 'br'],
      ['*;q=0.5, br;q=0', 'gzip'],
      ['*;q=0', undefined],
      ['gzip;q=0, br;q=0', undefined],
      ['identity;q=0', undefined], // nothing acceptable: identity anyway rather than a 406
      ['identity;q=0, gzip', 'gzip'],
      ['identity;q=1, gzip;q=0.5', undefined],
      ['gzip;q=2', undefined], // a malformed weight is ignored with its member
    ])('%j -> %s', async (acceptEncoding, coding) => {
      const headers: Record<string, string> = acceptEncoding === undefined ? {} : { 'Accept-Encoding': acceptEncoding };
      const response = await request(port, '/page.html', { headers });
      expect(response.status).toBe(200);
      expect(response.headers['content-encoding']).toBe(coding);
      expect(response.headers['vary']).toBe('Accept-Encoding');
      expect(decodeBody(response).equals(PAGE)).toBe(true);
    });
  });

  describe('what is not compressed', () => {
    // [path, why]
    it.each([
      ['/below.txt', `below ${MIN_COMPRESS_SIZE} bytes`],
      ['/photo.png', 'an image format that is compressed already'],
      ['/blob.bin', 'an unknown type'],
    ])('%s (%s)', async (path) => {
      const response = await request(port, path, { headers: { 'Accept-Encoding': 'br, gzip' } });
      expect(response.status).toBe(200);
      expect(response.headers['content-encoding']).toBeUndefined();
      expect(response.body.equals(FILES[path.slice(1) as keyof typeof FILES])).toBe(true);
    });

    it('Vary: Accept-Encoding on compressible types only, compressed or not', async () => {
      const [small, photo, plain] = await Promise.all([
        request(port, '/below.txt', { headers: { 'Accept-Encoding': 'br' } }),
        request(port, '/photo.png', { headers: { 'Accept-Encoding': 'br' } }),
        request(port, '/page.html'),
      ]);
      expect(small.headers['vary']).toBe('Accept-Encoding');
      expect(plain.headers['vary']).toBe('Accept-Encoding');
      expect(photo.headers['vary']).toBeUndefined();
    });
  });

  describe('a distinct ETag per coding', () => {
    it('each coding has its own strong tag and revalidates with it', async () => {
      const codings = ['identity', 'gzip', 'br'];
      const tags = await Promise.all(
        codings.map(async (coding) => (await request(port, '/page.html', { headers: { 'Accept-Encoding': coding } })).headers['etag']!),
      );
      for (const tag of tags) expect(tag).toMatch(STRONG_ETAG);
      expect(new Set(tags).size).toBe(3);

      for (const [index, coding] of codings.entries()) {
        const revalidated = await request(port, '/page.html', { headers: { 'Accept-Encoding': coding, 'If-None-Match': tags[index]! } });
        expect(revalidated.status).toBe(304);
        expect(revalidated.headers['etag']).toBe(tags[index]);
        expect(revalidated.headers['vary']).toBe('Accept-Encoding');
      }
    });

    it("a gzip copy's tag does not validate the br representation (200, not 304)", async () => {
      const gzipTag = (await request(port, '/page.html', { headers: { 'Accept-Encoding': 'gzip' } })).headers['etag']!;
      const response = await request(port, '/page.html', { headers: { 'Accept-Encoding': 'br', 'If-None-Match': gzipTag } });
      expect(response.status).toBe(200);
      expect(response.headers['content-encoding']).toBe('br');
      expect(decodeBody(response).equals(PAGE)).toBe(true);
    });

    it('the streamed coding of a large file revalidates too', async () => {
      const first = await request(port, '/huge.js', { headers: { 'Accept-Encoding': 'br' } });
      const revalidated = await request(port, '/huge.js', { headers: { 'Accept-Encoding': 'br', 'If-None-Match': first.headers['etag']! } });
      expect(revalidated.status).toBe(304);
      expect(revalidated.headers['etag']).toBe(first.headers['etag']);
    });
  });

  describe('precompressed sidecars', () => {
    // [Accept-Encoding, coding, the sidecar's bytes]
    it.each([
      ['br', 'br', FILES['app.js.br']],
      ['gzip', 'gzip', FILES['app.js.gz']],
      ['gzip, br', 'br', FILES['app.js.br']],
      ['br;q=0.1, gzip', 'gzip', FILES['app.js.gz']],
    ])('app.js with Accept-Encoding: %s -> app.js%s as is, with the type of app.js', async (acceptEncoding, coding, sidecar) => {
      const response = await request(port, '/app.js', { headers: { 'Accept-Encoding': acceptEncoding } });
      expect(response.status).toBe(200);
      expect(response.headers['content-encoding']).toBe(coding);
      expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(response.headers['vary']).toBe('Accept-Encoding');
      expect(response.body.equals(sidecar)).toBe(true);
      expect(Number(response.headers['content-length'])).toBe(sidecar.length);
      expect(decodeBody(response).equals(APP)).toBe(true);
    });

    it('a sidecar larger than the in-memory limit is streamed as is', async () => {
      expect(BUNDLE_GZ.length).toBeGreaterThan(SMALL_FILE_LIMIT);
      const response = await request(port, '/bundle.js', { headers: { 'Accept-Encoding': 'gzip' } });
      expect(response.headers['content-encoding']).toBe('gzip');
      expect(Number(response.headers['content-length'])).toBe(BUNDLE_GZ.length);
      expect(response.body.equals(BUNDLE_GZ)).toBe(true);
      expect(decodeBody(response).equals(BUNDLE)).toBe(true);
    });

    it('app.js without Accept-Encoding is the file itself', async () => {
      const response = await request(port, '/app.js');
      expect(response.headers['content-encoding']).toBeUndefined();
      expect(response.body.equals(APP)).toBe(true);
    });

    it('HEAD reports the sidecar GET sends', async () => {
      const headers = { 'Accept-Encoding': 'br' };
      const get = await request(port, '/app.js', { headers });
      const head = await request(port, '/app.js', { method: 'HEAD', headers });
      expect(representationHeaders(head)).toEqual(representationHeaders(get));
      expect(head.body.length).toBe(0);
    });

    it('a sidecar has its own tag and revalidates with it', async () => {
      const br = await request(port, '/app.js', { headers: { 'Accept-Encoding': 'br' } });
      const identity = await request(port, '/app.js');
      expect(br.headers['etag']).toMatch(STRONG_ETAG);
      expect(br.headers['etag']).not.toBe(identity.headers['etag']);
      const revalidated = await request(port, '/app.js', { headers: { 'Accept-Encoding': 'br', 'If-None-Match': br.headers['etag']! } });
      expect(revalidated.status).toBe(304);
    });

    it('a sidecar older than its file is ignored', async () => {
      const response = await request(port, '/old.css', { headers: { 'Accept-Encoding': 'br' } });
      expect(response.status).toBe(200);
      expect(response.headers['content-encoding']).toBeUndefined();
      expect(response.body.equals(OLD)).toBe(true);
    });

    it('a sidecar that is a symlink out of the root is not served', async () => {
      const response = await request(port, '/linked.js', { headers: { 'Accept-Encoding': 'br' } });
      expect(response.status).toBe(200);
      expect(response.headers['content-encoding']).toBeUndefined();
      expect(response.body.equals(OUTSIDE)).toBe(true);
    });

    it.each(['/.secret.js', '/.secret.js.br'])('the sidecar of a hidden file is hidden too: %s is 404', async (path) => {
      const response = await request(port, path, { headers: { 'Accept-Encoding': 'br' } });
      expect(response.status).toBe(404);
      expect(response.body.includes(FILES['.secret.js.br'])).toBe(false);
    });
  });
});
