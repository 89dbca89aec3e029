// Edits show at once: a file rewritten with different bytes of the same length, in the
// same second, gets its new bytes and a new ETag (so no client keeps a stale copy through
// a 304), whether it is held in memory or streamed, identity or compressed.
import { randomBytes } from 'node:crypto';
import { rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMALL_FILE_LIMIT } from '../../src/fs/file-cache.js';
import { decodeBody } from '../helpers/http.js';
import { cleanup, tempDir } from '../helpers/server.js';
import { client, serveOver, TRANSPORTS } from '../helpers/transport.js';

afterAll(cleanup);

/** Printable text of `length` bytes, different every call, compressible enough to be compressed. */
const textVersion = (length: number) => Buffer.from(randomBytes(Math.ceil(length / 8)).toString('hex').repeat(4).slice(0, length));

/** Ways to put a new version in place, each keeping the size: [how, file name prefix, rewrite]. */
const REWRITES: Array<[string, string, (path: string, bytes: Buffer) => Promise<void>]> = [
  ['rewritten in place at once', 'in-place', (path, bytes) => writeFile(path, bytes)],
  [
    'rewritten with its mtime restored (touch -r, rsync --inplace -t)',
    'mtime-restored',
    async (path, bytes) => {
      const { atime, mtime } = await stat(path);
      await writeFile(path, bytes);
      await utimes(path, atime, mtime);
    },
  ],
  [
    'replaced by rename, as editors save',
    'renamed',
    async (path, bytes) => {
      await writeFile(`${path}.tmp`, bytes);
      await rename(`${path}.tmp`, path);
    },
  ],
];

describe.each(TRANSPORTS)('over %s', (transport) => {
  const request = client(transport);
  // A folder per transport: the cases create and delete the same names.
  let root: string;
  let port: number;
  beforeAll(async () => {
    root = await tempDir();
    port = (await serveOver(transport, root)).port;
  });

  describe.each([
    ['a small file (held in memory)', 'small.txt', 4096],
    ['a large file (streamed)', 'large.txt', SMALL_FILE_LIMIT + 64 * 1024],
  ])('%s', (_kind, name, size) => {
    // [Accept-Encoding]: the identity representation and a compressed one
    describe.each([[undefined], ['gzip'], ['br']])('Accept-Encoding: %s', (acceptEncoding) => {
      const headers: Record<string, string> = acceptEncoding === undefined ? {} : { 'Accept-Encoding': acceptEncoding };

      it.each(REWRITES)('%s: new bytes and a new ETag', async (_how, prefix, rewrite) => {
        const fileName = `${prefix}-${acceptEncoding ?? 'identity'}-${name}`;
        const path = join(root, fileName);
        const url = `/${fileName}`;
        const before = textVersion(size);
        const after = textVersion(size);
        await writeFile(path, before);

        const first = await request(port, url, { headers });
        expect(first.headers['content-encoding']).toBe(acceptEncoding);
        expect(decodeBody(first).equals(before)).toBe(true);

        await rewrite(path, after);
        const second = await request(port, url, { headers });
        expect(decodeBody(second).equals(after)).toBe(true);
        expect(second.headers['etag']).not.toBe(first.headers['etag']);

        // A client revalidating its old copy gets the new one, not a 304.
        const revalidated = await request(port, url, { headers: { ...headers, 'If-None-Match': first.headers['etag']! } });
        expect(revalidated.status).toBe(200);
        expect(decodeBody(revalidated).equals(after)).toBe(true);
        // And a resumed download of the old copy starts over.
        const resumed = await request(port, url, { headers: { Range: 'bytes=100-', 'If-Range': first.headers['etag']! } });
        expect(resumed.status).toBe(200);
        expect(resumed.body.equals(after)).toBe(true);
      });
    });
  });

  describe('files coming and going', () => {
    it('a deleted file is 404 at once', async () => {
      const path = join(root, 'doomed.txt');
      await writeFile(path, 'here today');
      expect((await request(port, '/doomed.txt')).status).toBe(200);
      await rm(path);
      expect((await request(port, '/doomed.txt')).status).toBe(404);
    });

    it('a new file is 200 at once, after a 404 for it', async () => {
      expect((await request(port, '/newcomer.txt')).status).toBe(404);
      await writeFile(join(root, 'newcomer.txt'), 'just arrived');
      const response = await request(port, '/newcomer.txt');
      expect(response.status).toBe(200);
      expect(response.text).toBe('just arrived');
    });

    it('a file that grows or shrinks is served whole, with a matching Content-Length', async () => {
      const path = join(root, 'elastic.txt');
      for (const length of [10, 5000, 3, SMALL_FILE_LIMIT + 10, 7]) {
        const bytes = textVersion(length);
        await writeFile(path, bytes);
        const response = await request(port, '/elastic.txt');
        expect(Number(response.headers['content-length'])).toBe(length);
        expect(response.body.equals(bytes)).toBe(true);
      }
    });
  });
});
