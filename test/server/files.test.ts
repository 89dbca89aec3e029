import { createHash, randomBytes } from 'node:crypto';
import { chmod, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMALL_FILE_LIMIT } from '../../src/fs/file-cache.js';
import type { RunningServer } from '../../src/index.js';
import { PACED_WRITE_SLICE as SLICE } from '../../src/write-slices.js';
import { parseByteranges } from '../helpers/http.js';
import { client, serveOver, TRANSPORTS } from '../helpers/transport.js';
import {
  cleanup,
  headersExceptDate,
  isOpenWhenAbortingDownload,
  nextResponseClosed,
  onCleanup,
  openFileTargets,
  request,
  settles,
  startCli,
  tempDir,
  writeTree,
} from '../helpers/server.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

afterAll(cleanup);

describe.each(TRANSPORTS)('over %s', (transport) => {
  const request = client(transport);
  // A folder per transport: the cases write, rewrite and delete the same names.
  let root: string;
  let running: RunningServer;
  let port: number;
  beforeAll(async () => {
    root = await tempDir();
    running = await serveOver(transport, root);
    port = running.port;
  });

  describe('Content-Type', () => {
    // [file name, Content-Type]
    it.each([
      ['page.html', 'text/html; charset=utf-8'],
      ['page.htm', 'text/html; charset=utf-8'],
      ['style.css', 'text/css; charset=utf-8'],
      ['app.js', 'text/javascript; charset=utf-8'],
      ['module.mjs', 'text/javascript; charset=utf-8'],
      ['data.json', 'application/json; charset=utf-8'],
      ['notes.txt', 'text/plain; charset=utf-8'],
      ['SHOUT.TXT', 'text/plain; charset=utf-8'],
      ['readme.md', 'text/markdown; charset=utf-8'],
      ['table.csv', 'text/csv; charset=utf-8'],
      ['logo.svg', 'image/svg+xml'],
      ['photo.png', 'image/png'],
      ['photo.jpg', 'image/jpeg'],
      ['font.woff2', 'font/woff2'],
      ['code.wasm', 'application/wasm'],
      ['doc.pdf', 'application/pdf'],
      ['README', 'application/octet-stream'],
      ['data.qwerty-unknown', 'application/octet-stream'],
      ['archive.tar.unknownext', 'application/octet-stream'],
    ])('%s → %s', async (name, type) => {
      await writeFile(join(root, name), 'x');
      const response = await request(port, `/${name}`);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe(type);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    });
  });

  describe('.ts: TypeScript shows as text, an HLS segment plays', () => {
    /** An MPEG transport stream: 188-byte packets, each starting with the sync byte 0x47. */
    const segment = (size: number) => {
      const bytes = Buffer.alloc(size, 0xaa);
      for (let offset = 0; offset < size; offset += 188) bytes[offset] = 0x47;
      return bytes;
    };
    const source = (size: number) => Buffer.from('export const answer: number = 42;\n'.repeat(Math.ceil(size / 34)).slice(0, size));
    // [name, bytes, Content-Type]: in memory and streamed (over SMALL_FILE_LIMIT).
    it.each<[string, Buffer, string]>([
      ['app.ts', source(400), 'text/plain; charset=utf-8'],
      ['big-app.ts', source(SMALL_FILE_LIMIT + 1000), 'text/plain; charset=utf-8'],
      ['App.tsx', source(400), 'text/plain; charset=utf-8'],
      ['server.mts', source(400), 'text/plain; charset=utf-8'],
      ['config.cts', source(400), 'text/plain; charset=utf-8'],
      ['segment0.ts', segment(188 * 10), 'video/mp2t'],
      ['segment1.ts', segment(188 * 2000), 'video/mp2t'],
    ])('%s → %s', async (name, bytes, type) => {
      await writeFile(join(root, name), bytes);
      const response = await request(port, `/${name}`);
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe(type);
      expect(response.body.equals(bytes)).toBe(true);
    });
  });

  describe('file responses', () => {
    it('carry Content-Length, Last-Modified, Accept-Ranges, ETag and nosniff', async () => {
      const path = join(root, 'headers.txt');
      await writeFile(path, 'hello headers');
      const mtime = new Date('2024-03-01T12:34:56Z');
      await utimes(path, mtime, mtime);
      const response = await request(port, '/headers.txt');
      expect(response.status).toBe(200);
      expect(response.headers).toMatchObject({
        'content-length': '13',
        'last-modified': 'Fri, 01 Mar 2024 12:34:56 GMT',
        'accept-ranges': 'bytes',
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-cache',
      });
      expect(response.headers['etag']).toMatch(/^"[\x21\x23-\x7e]+"$/);
      expect(response.text).toBe('hello headers');
    });

    it('a 5 MiB file streams byte for byte, and HEAD describes it with the same headers', async () => {
      const bytes = randomBytes(5 * 1024 * 1024);
      await writeFile(join(root, 'five.bin'), bytes);
      const response = await request(port, '/five.bin');
      expect(response.status).toBe(200);
      expect(response.headers['content-length']).toBe(String(bytes.length));
      expect(response.body.length).toBe(bytes.length);
      expect(sha256(response.body)).toBe(sha256(bytes));

      const head = await request(port, '/five.bin', { method: 'HEAD' });
      expect(head.body.length).toBe(0);
      expect(headersExceptDate(head)).toEqual(headersExceptDate(response));
    });

    // HTTP/1-only: the client drops its raw connection mid-body.
    it.runIf(transport === 'http1')('a client that disconnects mid-download releases the file descriptor', async () => {
      const path = join(root, 'fifty.bin');
      await writeFile(path, '');
      await truncate(path, 50 * 1024 * 1024); // sparse: cheap to make, slow enough to send
      const fdsBefore = (await openFileTargets()).length;
      const closed = nextResponseClosed(running.server);

      const openDuringDownload = await isOpenWhenAbortingDownload(port, 'GET /fifty.bin HTTP/1.1\r\nHost: localhost\r\n\r\n', path);
      expect(openDuringDownload).toBe(true);

      await closed;
      await settles(async () => {
        const targets = await openFileTargets();
        return !targets.includes(path) && targets.length <= fdsBefore;
      });
      // And the server carries on.
      expect((await request(port, '/headers.txt')).status).toBe(200);
    });
  });

  describe('bodies held in memory arrive whole', () => {
    // Sizes either side of the boundaries of the slices written when TCP paces, up to the
    // largest file held in memory.
    it.each([1, SLICE - 1, SLICE, SLICE + 1, 2 * SLICE, 4 * SLICE + 7, SMALL_FILE_LIMIT])(
      '%i bytes: GET byte for byte, HEAD with the same headers',
      async (size) => {
        const bytes = randomBytes(size);
        await writeFile(join(root, `sliced-${size}.bin`), bytes);
        const response = await request(port, `/sliced-${size}.bin`);
        expect(response.status).toBe(200);
        expect(response.headers['content-length']).toBe(String(size));
        expect(sha256(response.body)).toBe(sha256(bytes));

        const head = await request(port, `/sliced-${size}.bin`, { method: 'HEAD' });
        expect(head.body.length).toBe(0);
        expect(headersExceptDate(head)).toEqual(headersExceptDate(response));
      },
    );

    it('a multipart/byteranges body longer than a slice', async () => {
      const bytes = randomBytes(3 * SLICE);
      await writeFile(join(root, 'sliced-parts.bin'), bytes);
      const response = await request(port, '/sliced-parts.bin', { headers: { Range: `bytes=10-${SLICE + 20},-${SLICE}` } });
      expect(response.status).toBe(206);
      expect(Number(response.headers['content-length'])).toBe(response.body.length);
      const parts = parseByteranges(response.headers['content-type']!, response.body);
      expect(parts.map(({ start, end }) => [start, end])).toEqual([
        [10, SLICE + 20],
        [2 * SLICE, 3 * SLICE - 1],
      ]);
      for (const part of parts) expect(part.body.equals(bytes.subarray(part.start, part.end + 1))).toBe(true);
    });
  });

  describe('changes on disk show at once', () => {
    it('a deleted file is 404 on the next request, a new file 200', async () => {
      const path = join(root, 'comes-and-goes.txt');
      await writeFile(path, 'here');
      expect((await request(port, '/comes-and-goes.txt')).status).toBe(200);
      await rm(path);
      expect((await request(port, '/comes-and-goes.txt')).status).toBe(404);
      await writeFile(path, 'back');
      const again = await request(port, '/comes-and-goes.txt');
      expect(again.status).toBe(200);
      expect(again.text).toBe('back');
    });

    it('a file never requested before is served on its first request', async () => {
      await writeTree(root, { 'fresh/new.txt': 'new' });
      expect((await request(port, '/fresh/new.txt')).text).toBe('new');
    });

    // [what, size]: small files are held in memory, large ones streamed.
    it.each([
      ['small file', 1024],
      ['large file', 512 * 1024],
    ])('a %s rewritten with the same size and the same mtime → new bytes and a new ETag', async (_, size) => {
      const path = join(root, `rewritten-${size}.bin`);
      const mtime = new Date(Math.floor(Date.now() / 1000) * 1000);
      const first = Buffer.alloc(size, 'a');
      const second = Buffer.alloc(size, 'b');
      await writeFile(path, first);
      await utimes(path, mtime, mtime);
      const before = await request(port, `/rewritten-${size}.bin`);
      expect(sha256(before.body)).toBe(sha256(first));

      await writeFile(path, second);
      await utimes(path, mtime, mtime); // as a coarse (1 s) file system would leave it
      expect((await stat(path)).mtimeMs).toBe(mtime.getTime());
      const after = await request(port, `/rewritten-${size}.bin`);
      expect(sha256(after.body)).toBe(sha256(second));
      expect(after.headers['etag']).not.toBe(before.headers['etag']);
    });
  });
});

// Over HTTP/1.1 only: about the file system, through a CLI run as another user.
describe('permissions', () => {
  // Root reads any file whatever its mode, so as root the server runs as nobody.
  const asRoot = process.getuid?.() === 0;
  const unprivileged = asRoot ? { uid: 65534, gid: 65534 } : {};
  it(`a file made unreadable (chmod 000) → 403 and the server carries on (server run as ${asRoot ? 'nobody, since tests run as root' : 'this user'})`, async () => {
    const site = await tempDir();
    await chmod(site, 0o755);
    await writeTree(site, { 'secret.txt': 'unreadable', 'ok.txt': 'readable', 'locked/index.html': 'x' });
    await chmod(join(site, 'secret.txt'), 0o000);
    await chmod(join(site, 'locked'), 0o311); // traversable, not readable: its index still is
    await chmod(join(site, 'locked', 'index.html'), 0o000);
    onCleanup(() => chmod(join(site, 'locked'), 0o755)); // so that the temp tree can be removed
    const cli = await startCli([site, '--port', '0', '--quiet'], unprivileged);

    const forbidden = await request(cli.port, '/secret.txt');
    expect(forbidden.status).toBe(403);
    expect(forbidden.text).not.toContain('unreadable');
    expect(forbidden.text).not.toContain(site);
    expect((await request(cli.port, '/locked/')).status).toBe(403);
    expect((await request(cli.port, '/ok.txt')).text).toBe('readable');
  });
});
