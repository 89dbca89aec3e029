// Containment judged on what was opened. Another process renames things over a
// served name while requests for it run: a symlink leading out of the root, a
// FIFO, a device, a socket. Not one byte from outside may be sent, no request may
// hang, and every kind of response must still work afterwards. Links with ordinary
// names must hide what their targets' names hide, and a folder moved out of the
// root must stop being served at once.

import { execFileSync } from 'node:child_process';
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import { Agent, get } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { SMALL_FILE_LIMIT } from '../../src/fs/file-cache.js';
import { judgeRacedAnswer, requestRaced } from '../helpers/race-client.js';
import { rawRequest, send } from '../helpers/raw.js';
import { cleanup, onCleanup, parseResponse, request, serveDirectory, tempDir, writeTree } from '../helpers/server.js';

/**
 * How long each race runs. Eight races of half a second make thousands of swaps and
 * hundreds of requests each, which keeps `npm test` within a few seconds of racing;
 * `npm run soak` runs this file with races of 10 s (vitest.soak.config.ts), and
 * bench/soak.js races for its whole run.
 */
const RACE_MS = Number(process.env.SERVE_DIR_RACE_MS ?? 500);
/** Clients requesting the contested name at once. */
const CLIENTS = 6;
/** A request unanswered this long is parked; a busy machine answers far sooner. */
const HUNG_MS = 5000;
/**
 * How much longer a race may run until its clients have seen the file's own answer at
 * least once: on a busy machine they may miss the moments when the file holds the name,
 * and a race that never served it would prove little. Past this, the checks fail.
 */
const OVERTIME_MS = 5000;

const CANARY = 'OUTSIDE-THE-ROOT-CANARY';
const HIDDEN_CANARY = 'HIDDEN-DOTFILE-CANARY';

afterAll(cleanup);

/** `length` bytes of `text` repeated. */
function filled(text: string, length: number): Buffer {
  return Buffer.alloc(length, text);
}

interface RaceResult {
  swaps: number;
  /** Readers still waiting to open a FIFO when the race ended (a parked thread, or event loop). */
  parked: number;
  parkedAtDeadline: number;
}

/**
 * Rename the things at `spares` (kind 1, 2, ...) and the one at `name` (kind 0) over
 * `name` in turn, in a worker thread, while `load` runs; leave kind `finish` in place.
 */
async function race(
  name: string,
  spares: string[],
  finish: number,
  load: (stopped: (seenEnough: boolean) => boolean) => Promise<void>,
  byRename = false,
): Promise<RaceResult> {
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL('../helpers/rename-race.js', import.meta.url), {
    workerData: { name, spares, stop, limitMs: RACE_MS + OVERTIME_MS + HUNG_MS * 2, byRename },
  });
  onCleanup(() => worker.terminate().then(() => undefined));
  // The clock starts once the worker does: on a busy machine starting one takes a while.
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  const result = new Promise<RaceResult>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const until = Date.now() + RACE_MS;
  await load((seenEnough) => Date.now() >= until && (seenEnough || Date.now() >= until + OVERTIME_MS));
  Atomics.store(stop, 0, 1);
  worker.postMessage({ finish });
  return result;
}

/** What one exchange came to, as a word a test can count. */
function verdict(bytes: Buffer, timedOut: boolean, expected: Buffer): string {
  if (bytes.includes(CANARY)) return 'leak';
  if (timedOut) return 'hung';
  if (bytes.length === 0) return 'no answer';
  const response = parseResponse(bytes);
  // A page with live reload carries the script after the file's bytes.
  return judgeRacedAnswer(response.status, response.body, { expected, canary: CANARY, acceptSuffix: true });
}

/**
 * Request `target` from `CLIENTS` keep-alive clients until `stopped`, once the
 * file's own bytes have been seen (many more requests than a connection each);
 * count each verdict. A connection cut
 * mid-body is 'cut', one unanswered for HUNG_MS 'hung'.
 */
async function hammer(port: number, target: string, expected: Buffer, stopped: (seenEnough: boolean) => boolean): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  onCleanup(() => agent.destroy());
  // A page with live reload carries the script after the file's bytes.
  const once = () => requestRaced({ port, path: target, agent, expected, canary: CANARY, hungMs: HUNG_MS, acceptSuffix: true });
  const client = async () => {
    while (!stopped((counts['200'] ?? 0) > 0)) {
      const word = await once();
      counts[word] = (counts[word] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return counts;
}

/** Every kind of response the server makes, each answered in time and in full. */
async function everythingStillAnswers(port: number, bigText: Buffer): Promise<void> {
  const small = await request(port, '/ok.txt');
  expect([small.status, small.text]).toEqual([200, 'ok']);
  const other = await send(port, rawRequest({ target: '/other.bin' }), { timeoutMs: HUNG_MS });
  expect(other.timedOut, 'streamed file').toBe(false);
  expect(parseResponse(other.bytes).body.length).toBe(SMALL_FILE_LIMIT * 4);
  const listing = await send(port, rawRequest({ target: '/sub/' }), { timeoutMs: HUNG_MS });
  expect(listing.timedOut, 'listing').toBe(false);
  expect(parseResponse(listing.bytes).status).toBe(200);
  const gzip = await send(port, rawRequest({ target: '/big.txt', headers: [['Host', 'localhost'], ['Accept-Encoding', 'gzip']] }), {
    timeoutMs: HUNG_MS,
  });
  expect(gzip.timedOut, 'compressed while streaming').toBe(false);
  const gzipped = parseResponse(gzip.bytes);
  expect([gzipped.status, gzipped.headers['content-encoding']]).toEqual([200, 'gzip']);
  expect(gzipped.body.length).toBeLessThan(bigText.length);
}

/** A served root with what every case needs, the canary outside it, and a folder for spares. */
async function site(): Promise<{ base: string; root: string; spares: string; bigText: Buffer }> {
  const base = await tempDir('serve-dir-races-');
  const root = join(base, 'site');
  const bigText = filled('All work and no play makes a dull server.\n', SMALL_FILE_LIMIT * 2);
  await writeTree(base, {
    'site/ok.txt': 'ok',
    'site/other.bin': filled('other', SMALL_FILE_LIMIT * 4),
    'site/big.txt': bigText,
    'site/sub/a.txt': 'a',
    'spares/': '',
  });
  return { base, root, spares: join(base, 'spares'), bigText };
}

describe('a name renamed between a regular file and a symlink leading out', () => {
  it.each([
    ['held in memory', 'file.bin', 4 * 1024, false],
    ['held in memory', 'file.bin', 4 * 1024, true],
    ['streamed', 'file.bin', 1024 * 1024, false],
    ['streamed', 'file.bin', 1024 * 1024, true],
    // Too large to keep: read whole for the live-reload script.
    ['read for live reload', 'page.html', SMALL_FILE_LIMIT * 2, true],
  ])('a file %s (%s, %i bytes, watch %s): no byte from outside, and the link left in place is 404', async (_how, name, size, watch) => {
    const { base, root, spares, bigText } = await site();
    const inside = filled('inside ', size);
    await writeFile(join(root, name), inside);
    await writeFile(join(base, 'secret.bin'), filled(CANARY, size));
    await symlink(join(base, 'secret.bin'), join(spares, 'link'));
    const running = await serveDirectory(root, { watch });
    await running.handler.ready;
    const { port } = running;

    let counts: Record<string, number> = {};
    const { swaps } = await race(join(root, name), [join(spares, 'file'), join(spares, 'link')], 1, async (stopped) => {
      counts = await hammer(port, `/${name}`, inside, stopped);
    });
    if (process.env.SERVE_DIR_RACE_REPORT) console.log(JSON.stringify({ name, size, watch, swaps, counts }));
    expect(swaps).toBeGreaterThan(0);
    expect(counts['200'], JSON.stringify(counts)).toBeGreaterThan(0);
    // Only whole, correct answers: the file's own bytes, or 404 while a link holds the name.
    expect(Object.keys(counts).filter((word) => word !== '200' && word !== '404')).toEqual([]);

    // The link now holds the name, whatever the cache filled during the race.
    for (let i = 0; i < 5; i++) {
      const answer = await request(port, `/${name}`);
      expect(answer.body.includes(CANARY)).toBe(false);
      expect(answer.status).toBe(404);
    }
    await everythingStillAnswers(port, bigText);
  });
});

describe('a folder renamed between a real folder and a symlink leading out', () => {
  it('its listing never names what is outside', async () => {
    const { base, root, spares, bigText } = await site();
    await writeTree(base, { 'site/listed/inside.txt': 'inside', 'outside/listed/secret-name-CANARY.txt': 'x' });
    await symlink(join(base, 'outside', 'listed'), join(spares, 'link'));
    const { port } = await serveDirectory(root);
    const counts: Record<string, number> = {};
    const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
    onCleanup(() => agent.destroy());
    await race(
      join(root, 'listed'),
      [join(spares, 'folder'), join(spares, 'link')],
      1,
      async (stopped) => {
        const client = async () => {
          while (!stopped((counts['200'] ?? 0) > 0)) {
            const word = await new Promise<string>((resolve) => {
              get({ host: '127.0.0.1', port, path: '/listed/', agent, headers: { accept: 'application/json' } }, (res) => {
                let body = '';
                res.on('data', (chunk: Buffer) => (body += chunk.toString()));
                res.on('end', () => resolve(body.includes('CANARY') ? 'leak' : String(res.statusCode)));
              }).on('error', () => resolve('cut'));
            });
            counts[word] = (counts[word] ?? 0) + 1;
          }
        };
        await Promise.all(Array.from({ length: CLIENTS }, client));
      },
      true,
    );
    if (process.env.SERVE_DIR_RACE_REPORT) console.log(JSON.stringify({ listing: counts }));
    expect(counts['200'], JSON.stringify(counts)).toBeGreaterThan(0);
    expect(Object.keys(counts).filter((word) => word !== '200' && word !== '404')).toEqual([]);
    expect((await request(port, '/listed/')).status).toBe(404);
    await everythingStillAnswers(port, bigText);
  });
});

describe('a name renamed between a regular file, a FIFO, a device and a socket', () => {
  it.each([
    ['held in memory', 4 * 1024, false],
    ['streamed', 1024 * 1024, true],
  ])('a file %s (%i bytes, watch %s): nothing parks, and every kind of response still works', async (_how, size, watch) => {
    const { root, spares, bigText } = await site();
    const inside = filled('inside ', size);
    await writeFile(join(root, 'file.bin'), inside);
    execFileSync('mkfifo', [join(spares, 'fifo')]);
    // /dev/zero would never end, were a device ever read like a file.
    await symlink('/dev/zero', join(spares, 'device'));
    const socketServer: Server = createServer();
    await new Promise<void>((resolve) => socketServer.listen(join(spares, 'socket'), resolve));
    onCleanup(() => new Promise<void>((resolve) => socketServer.close(() => resolve())));
    const running = await serveDirectory(root, { watch });
    await running.handler.ready;
    const { port } = running;

    let counts: Record<string, number> = {};
    const kinds = ['file', 'fifo', 'device', 'socket'].map((kind) => join(spares, kind));
    const { swaps, parked, parkedAtDeadline } = await race(join(root, 'file.bin'), kinds, 0, async (stopped) => {
      counts = await hammer(port, '/file.bin', inside, stopped);
    });
    if (process.env.SERVE_DIR_RACE_REPORT) console.log(JSON.stringify({ size, watch, swaps, counts, parked, parkedAtDeadline }));
    expect(swaps).toBeGreaterThan(0);
    expect({ parked, parkedAtDeadline }).toEqual({ parked: 0, parkedAtDeadline: 0 });
    expect(Object.keys(counts).filter((word) => word !== '200' && word !== '404'), JSON.stringify(counts)).toEqual([]);

    const answer = await send(port, rawRequest({ target: '/file.bin' }), { timeoutMs: HUNG_MS });
    expect(verdict(answer.bytes, answer.timedOut, inside)).toBe('200');
    await everythingStillAnswers(port, bigText);
  });
});

describe('a link with an ordinary name is as hidden as its target', () => {
  async function linkedSite(): Promise<string> {
    const base = await tempDir('serve-dir-hidden-links-');
    const root = join(base, 'site');
    await writeTree(root, {
      // Written first: the sidecar link below is newer than it, so it would be chosen.
      'app.js': 'console.log("app");\n'.repeat(100),
      '.env': HIDDEN_CANARY,
      '.git/config': HIDDEN_CANARY,
      'ok.txt': 'ok',
    });
    await symlink('.env', join(root, 'leak'));
    await symlink('.git/config', join(root, 'cfg'));
    await symlink('.git', join(root, 'gitdir'));
    await symlink('.git', join(root, '.well-known'));
    await symlink('.env', join(root, 'app.js.gz'));
    await symlink('.env', join(root, '404.html'));
    return root;
  }

  it.each([
    ['/leak', {}],
    ['/cfg', {}],
    ['/gitdir/', {}],
    ['/gitdir/config', {}],
    ['/.well-known/config', {}],
    ['/app.js', { 'Accept-Encoding': 'gzip' }],
    ['/missing', {}],
  ])('%s shows nothing hidden', async (target, headers) => {
    const { port } = await serveDirectory(await linkedSite());
    const answer = await request(port, target, { headers });
    expect(answer.body.includes(HIDDEN_CANARY)).toBe(false);
    if (target === '/app.js') expect(answer.status).toBe(200);
    else expect(answer.status).toBe(404);
    expect((await request(port, '/ok.txt')).status).toBe(200);
  });

  it('the listing leaves such links out', async () => {
    const { port } = await serveDirectory(await linkedSite());
    const listing = await request(port, '/', { headers: { Accept: 'application/json' } });
    expect(listing.status).toBe(200);
    for (const name of ['leak', 'cfg', 'gitdir', '.well-known', 'app.js.gz', '404.html']) expect(listing.text).not.toContain(`"${name}"`);
    expect(listing.text).toContain('"ok.txt"');
  });

  it('with --dotfiles they are served', async () => {
    const { port } = await serveDirectory(await linkedSite(), { dotfiles: true });
    for (const target of ['/leak', '/cfg', '/gitdir/config']) expect((await request(port, target)).text).toBe(HIDDEN_CANARY);
  });

  it('a real /.well-known/ folder is still served', async () => {
    const root = await tempDir('serve-dir-well-known-');
    await writeTree(root, { '.well-known/security.txt': 'Contact: x' });
    const { port } = await serveDirectory(root);
    expect((await request(port, '/.well-known/security.txt')).text).toBe('Contact: x');
  });
});

describe('a folder moved out of the root and symlinked back', () => {
  it.each([false, true])('its cached files are 404 at once (watch %s)', async (watch) => {
    const base = await tempDir('serve-dir-moved-out-');
    const root = join(base, 'site');
    await writeTree(root, { 'dir/old.txt': 'old', 'dir/deeper/old.txt': 'deeper', 'ok.txt': 'ok' });
    const running = await serveDirectory(root, { watch });
    await running.handler.ready;
    const { port } = running;
    expect((await request(port, '/dir/old.txt')).text).toBe('old');
    expect((await request(port, '/dir/deeper/old.txt')).text).toBe('deeper');

    await mkdir(join(base, 'outside'));
    await rename(join(root, 'dir'), join(base, 'outside', 'dir'));
    await symlink(join(base, 'outside', 'dir'), join(root, 'dir'));
    expect((await request(port, '/dir/old.txt')).status).toBe(404);
    expect((await request(port, '/dir/deeper/old.txt')).status).toBe(404);
    expect((await request(port, '/ok.txt')).status).toBe(200);
  });
});
