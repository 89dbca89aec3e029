// The HTTP-semantics flags through the real CLI (dist/, as users run it): Cache-Control from
// --cache and --immutable, and --no-compress.
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, tempDir, writeTree, type StartedCli } from '../helpers/server.js';
import { client, startCliOver, TRANSPORTS } from '../helpers/transport.js';

const SCRIPT = Buffer.from('export const answer = 42;\n'.repeat(400));
const LARGE = Buffer.from('console.log("a line of a large script");\n'.repeat(20_000));

const FLAGS = {
  default: [],
  cache: ['--cache', '600'],
  immutable: ['--cache', '600', '--immutable'],
  noCompress: ['--no-compress'],
} as const;

let root: string;

beforeAll(async () => {
  root = await tempDir();
  await writeTree(root, {
    'app.js': SCRIPT,
    'app.js.br': brotliCompressSync(SCRIPT),
    'app.js.gz': gzipSync(SCRIPT),
    'large.js': LARGE,
    'index.html': '<!doctype html><title>a page</title>\n',
  });
});
afterAll(cleanup);

describe.each(TRANSPORTS)('over %s', (transport) => {
  const request = client(transport);
  const cli = {} as Record<keyof typeof FLAGS, StartedCli>;
  beforeAll(async () => {
    await Promise.all(
      Object.entries(FLAGS).map(async ([name, flags]) => {
        cli[name as keyof typeof FLAGS] = await startCliOver(transport, [root, '--port', '0', '--quiet', ...flags]);
      }),
    );
  });

  describe('Cache-Control', () => {
    // [server, Cache-Control of file responses]
    it.each<[keyof typeof FLAGS, string]>([
      ['default', 'no-cache'],
      ['cache', 'public, max-age=600'],
      ['immutable', 'public, max-age=600, immutable'],
    ])('%s: %s on 200, 206 and 304', async (server, cacheControl) => {
      const { port } = cli[server];
      const full = await request(port, '/app.js');
      expect(full.status).toBe(200);
      expect(full.headers['cache-control']).toBe(cacheControl);
      const partial = await request(port, '/app.js', { headers: { Range: 'bytes=0-9' } });
      expect(partial.status).toBe(206);
      expect(partial.headers['cache-control']).toBe(cacheControl);
      const notModified = await request(port, '/app.js', { headers: { 'If-None-Match': full.headers['etag']! } });
      expect(notModified.status).toBe(304);
      expect(notModified.headers['cache-control']).toBe(cacheControl);
    });

    it.each(['cache', 'immutable'] as const)('%s: HTML pages keep no-cache, so a deploy shows at once', async (server) => {
      for (const target of ['/', '/index.html']) {
        const page = await request(cli[server].port, target);
        expect(page.status).toBe(200);
        expect(page.headers['cache-control']).toBe('no-cache');
        const notModified = await request(cli[server].port, target, { headers: { 'If-None-Match': page.headers['etag']! } });
        expect(notModified.status).toBe(304);
        expect(notModified.headers['cache-control']).toBe('no-cache');
      }
    });

    it.each(['cache', 'immutable'] as const)('%s: an error is never cached (no-cache on a 404)', async (server) => {
      const missing = await request(cli[server].port, '/missing.js');
      expect(missing.status).toBe(404);
      expect(missing.headers['cache-control']).toBe('no-cache');
    });
  });

  describe('--no-compress', () => {
    // [path, Accept-Encoding]: a sidecar, a small file, a streamed one, and "anything goes"
    it.each([
      ['/app.js', 'br'],
      ['/app.js', 'gzip'],
      ['/large.js', 'br, gzip'],
      ['/large.js', '*'],
    ])('%s with Accept-Encoding: %s is sent as is', async (path, acceptEncoding) => {
      const response = await request(cli.noCompress.port, path, { headers: { 'Accept-Encoding': acceptEncoding } });
      expect(response.status).toBe(200);
      expect(response.headers['content-encoding']).toBeUndefined();
      // Nothing is negotiated, so nothing varies.
      expect(response.headers['vary']).toBeUndefined();
      expect(response.body.equals(path === '/app.js' ? SCRIPT : LARGE)).toBe(true);
    });

    it('while the same server without the flag compresses', async () => {
      const response = await request(cli.default.port, '/large.js', { headers: { 'Accept-Encoding': 'br, gzip' } });
      expect(response.headers['content-encoding']).toBe('br');
    });
  });
});
