// Real clients against the server: curl resuming a download (Range), curl decoding a
// compressed response, and wget, each producing the exact file.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMALL_FILE_LIMIT } from '../../src/fs/file-cache.js';
import { cleanup, tempDir, writeTree } from '../helpers/server.js';
import { baseUrl, serveOver, trustedCertificateFile, TRANSPORTS } from '../helpers/transport.js';

const run = promisify(execFile);

const text = (length: number) => Buffer.from('curl and wget fetch this line of text.\n'.repeat(Math.ceil(length / 39)).slice(0, length));

const FILES = {
  'small.bin': randomBytes(50_000),
  'large.bin': randomBytes(SMALL_FILE_LIMIT * 4),
  'small.js': text(20_000),
  'large.js': text(SMALL_FILE_LIMIT * 4),
};
type Name = keyof typeof FILES;

let root: string;

beforeAll(async () => {
  root = await tempDir();
  await writeTree(root, FILES);
});
afterAll(cleanup);

describe.each(TRANSPORTS)('over %s', (transport) => {
  let base: string;
  let downloads: string;
  // curl speaks each transport (HTTP/2 by ALPN); wget speaks HTTP/1.1 only, which the h2
  // server also answers by ALPN: on 'h2' it checks that fallback.
  const curlFlags = transport === 'http1' ? [] : ['--cacert', trustedCertificateFile(), transport === 'h2' ? '--http2' : '--http1.1'];
  const wgetFlags = transport === 'http1' ? [] : ['--ca-certificate', trustedCertificateFile()];
  beforeAll(async () => {
    downloads = await tempDir();
    base = baseUrl(transport, (await serveOver(transport, root)).port);
  });

  describe('curl -C - resumes a partial download to the exact file', () => {
    // [file, bytes already downloaded]
    it.each<[Name, number]>([
      ['small.bin', 1],
      ['small.bin', 12_345],
      ['large.bin', SMALL_FILE_LIMIT + 1],
      ['large.js', 100], // a compressible type: the range must still be the identity bytes
      ['large.bin', FILES['large.bin'].length], // complete already: a 416 that curl takes as done
    ])('%s after %i bytes', async (name, already) => {
      const output = join(downloads, `resumed-${already}-${name}`);
      await writeFile(output, FILES[name].subarray(0, already));
      await run('curl', [...curlFlags, '--silent', '--show-error', '--continue-at', '-', '--output', output, `${base}/${name}`]);
      expect((await readFile(output)).equals(FILES[name])).toBe(true);
    });
  });

  describe('curl --compressed decodes to the exact file', () => {
    it.each<Name>(['small.js', 'large.js', 'small.bin'])('%s', async (name) => {
      const output = join(downloads, `compressed-${name}`);
      const { stdout: head } = await run('curl', [...curlFlags, '--silent', '--show-error', '--fail', '--compressed', '--dump-header', '-', '--output', output, `${base}/${name}`]);
      expect(head.slice(0, head.indexOf('\r\n'))).toBe(transport === 'h2' ? 'HTTP/2 200 ' : 'HTTP/1.1 200 OK');
      // curl asks for br and gzip; the text is compressed, the random bytes are not worth it.
      expect(/^content-encoding: br\r$/im.test(head)).toBe(name.endsWith('.js'));
      expect((await readFile(output)).equals(FILES[name])).toBe(true);
    });
  });

  describe('wget', () => {
    it.each<Name>(['small.bin', 'large.bin', 'large.js'])('downloads %s exactly', async (name) => {
      const output = join(downloads, `wget-${name}`);
      await run('wget', [...wgetFlags, '--quiet', '--output-document', output, `${base}/${name}`]);
      expect((await readFile(output)).equals(FILES[name])).toBe(true);
    });

    it('wget -c resumes a partial download', async () => {
      const output = join(downloads, 'wget-resumed-large.bin');
      await writeFile(output, FILES['large.bin'].subarray(0, 300_000));
      await run('wget', [...wgetFlags, '--quiet', '--continue', '--output-document', output, `${base}/large.bin`]);
      expect((await readFile(output)).equals(FILES['large.bin'])).toBe(true);
    });
  });
});
