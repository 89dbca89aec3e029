// Large pages under --watch, against the built CLI (a process of its own, so that its memory can
// be read from /proc): the script is spliced in while the page streams, never by holding it.
// The soak (bench/soak.js) runs the same with more and larger pages.

import { readFileSync } from 'node:fs';
import { chmod, open } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { request, startCli, tempDir, type StartedCli } from '../helpers/server.js';

const MiB = 1024 * 1024;
const TAG = /<script src="\/__serve-dir\/client\.js" data-since="[^"]*"><\/script>/;

/** A page of `size` bytes whose middle is a hole: no disk used, and zeros are text to a browser. */
async function writeSparsePage(path: string, size: number): Promise<void> {
  const head = Buffer.from(`<!doctype html><meta charset="utf-8"><title>large</title><body>\n<p>${' '.repeat(2000)}</p>\n`);
  const tail = Buffer.from('\n<script>const s = "</body>";</script>\n</body></html>\n');
  const handle = await open(path, 'w');
  try {
    await handle.write(head, 0, head.length, 0);
    await handle.write(tail, 0, tail.length, size - tail.length);
  } finally {
    await handle.close();
  }
}

/** A field of /proc/<pid>/status, in bytes. */
function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

interface Download {
  status: number;
  headers: http.IncomingHttpHeaders;
  length: number;
  /** The last bytes received. */
  tail: string;
}

/** GET or HEAD `path` and read the whole body, keeping only its end. */
function download(port: number, path: string, method = 'GET'): Promise<Download> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let length = 0;
      let tail = Buffer.alloc(0);
      res.on('data', (chunk: Buffer) => {
        length += chunk.length;
        tail = Buffer.concat([tail, chunk]).subarray(-512);
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, length, tail: tail.toString('latin1') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const linux = process.platform === 'linux';

describe.runIf(linux)('large pages under --watch', () => {
  it('4 concurrent GETs and 2 HEADs of a 64 MiB page keep the server within its streaming budget', async () => {
    const root = await tempDir();
    const pageSize = 64 * MiB;
    await writeSparsePage(join(root, 'large.html'), pageSize);
    const cli: StartedCli = await startCli([root, '--port', '0', '--watch']);
    const pid = cli.child.pid!;
    // Module loaded, watcher running, code warm: what is left to grow is what the pages cost.
    expect((await request(cli.port, '/')).status).toBe(200);
    await cli.waitForStdout(/watching for changes/);
    const before = statusBytes(pid, 'VmRSS');

    const responses = await Promise.all([
      ...Array.from({ length: 4 }, () => download(cli.port, '/large.html')),
      download(cli.port, '/large.html', 'HEAD'),
      download(cli.port, '/large.html', 'HEAD'),
    ]);
    const peakGrowth = statusBytes(pid, 'VmHWM') - before;
    console.log(`4 GETs + 2 HEADs of a 64 MiB page: resident ${(before / MiB).toFixed(0)} MiB before, peak +${(peakGrowth / MiB).toFixed(1)} MiB`);

    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(response.headers['content-length']).toBe(responses[0]!.headers['content-length']);
      expect(response.headers['etag']).toBe(responses[0]!.headers['etag']);
    }
    const tagLength = Number(responses[0]!.headers['content-length']) - pageSize;
    expect(tagLength).toBeGreaterThan(40);
    for (const get of responses.slice(0, 4)) {
      expect(get.length).toBe(pageSize + tagLength);
      // After the script that holds "</body>", before the real end tag.
      expect(get.tail).toMatch(new RegExp(`</script>\\n${TAG.source}</body></html>\\n$`));
    }
    // Holding one whole page would add 64 MiB, the old way (a copy per request, and the injected
    // copy) some 500; streaming costs the budget of src/stages/send.ts (16 MiB) and change.
    expect(peakGrowth).toBeLessThan(40 * MiB);
  }, 60_000);

  it('a 3 GiB page is answered, not refused with an error', async () => {
    const root = await tempDir();
    const pageSize = 3 * 1024 * MiB;
    await writeSparsePage(join(root, 'huge.html'), pageSize);
    const cli = await startCli([root, '--port', '0', '--watch', '--quiet']);
    const head = await download(cli.port, '/huge.html', 'HEAD');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(pageSize);
    expect(cli.stderr()).toBe('');
  }, 60_000);

  it('an unreadable page larger than the file cache is answered as without --watch (GET 403)', async () => {
    // Root reads any file whatever its mode, so as root the server runs as nobody.
    const unprivileged = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const root = await tempDir();
    await chmod(root, 0o755);
    await writeSparsePage(join(root, 'secret.html'), 1 * MiB);
    await chmod(join(root, 'secret.html'), 0o000);
    const watching = await startCli([root, '--port', '0', '--watch', '--quiet'], unprivileged);
    const plain = await startCli([root, '--port', '0', '--quiet'], unprivileged);
    expect((await request(watching.port, '/secret.html')).status).toBe(403);
    for (const method of ['GET', 'HEAD']) {
      const [withWatch, without] = await Promise.all([request(watching.port, '/secret.html', { method }), request(plain.port, '/secret.html', { method })]);
      expect(withWatch.status, method).toBe(without.status);
      // The same error page; under --watch it carries the live-reload script, like every page we send.
      expect(withWatch.headers['content-type'], method).toBe(without.headers['content-type']);
    }
    expect(watching.stderr()).toBe('');
  }, 30_000);
});
