// Resource safety: clients that hang up mid-download, files that change under
// a response, and a process out of file descriptors. None of it may leak a
// descriptor, send bytes that belong to no version of a file, or stop the server.

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rename, truncate, unlink, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../src/index.js';
import { abortedDownload, inParallel, parseHead, rawRequest, send } from '../helpers/raw.js';
import { cleanup, descriptorsClosedByGarbageCollection, onCleanup, openFileTargets, request, serveDirectory, settles, spawnCli, tempDir, writeTree } from '../helpers/server.js';

/**
 * How many aborted downloads the test makes: a quarter of them of each kind, enough
 * for a descriptor left open by one in a hundred to show many times over. 10,000 take
 * about 17 s on an idle 2-core machine, too long for `npm test`: `npm run soak` makes
 * 20,000 (vitest.soak.config.ts), and bench/soak.js aborts downloads for its whole run.
 */
const ABORTS = Number(process.env.SERVE_DIR_ABORTS ?? 1_000);
const ABORT_CONCURRENCY = 50;
/** util-linux's prlimit lowers the descriptor limit of the spawned server alone. */
const HAS_PRLIMIT = spawnSync('prlimit', ['--version']).status === 0;

let root: string;

beforeAll(async () => {
  root = await tempDir('serve-dir-resources-');
  await writeTree(root, {
    'file.txt': 'plain file',
    'big.bin': randomBytes(1024 * 1024),
    // Compressible and larger than what is kept in memory: compressed while streaming.
    'big.txt': 'All work and no play makes a dull server.\n'.repeat(25_000),
  });
});
afterAll(cleanup);

/** Descriptors of this process open on files under `directory`. */
async function filesOpenUnder(directory: string): Promise<string[]> {
  return (await openFileTargets()).filter((target) => target.startsWith(directory));
}

describe('aborted downloads', () => {
  // [what, request]: every way a file is streamed from disk.
  const DOWNLOADS: [string, Buffer][] = [
    ['whole file', rawRequest({ target: '/big.bin' })],
    ['one range', rawRequest({ target: '/big.bin', headers: [['Host', 'localhost'], ['Range', 'bytes=1000-']] })],
    ['several ranges', rawRequest({ target: '/big.bin', headers: [['Host', 'localhost'], ['Range', 'bytes=0-99,300000-900000']] })],
    ['compressed on the fly', rawRequest({ target: '/big.txt', headers: [['Host', 'localhost'], ['Accept-Encoding', 'gzip']] })],
  ];

  it(`${ABORTS} downloads cut off mid-stream leave no descriptor open`, async () => {
    const { port } = await serveDirectory(root);
    for (const [what, bytes] of DOWNLOADS) expect([200, 206], what).toContain(await abortedDownload(port, bytes));
    await settles(async () => (await filesOpenUnder(root)).length === 0);
    const descriptorsBefore = (await openFileTargets()).length;

    const statuses = await inParallel(ABORTS, ABORT_CONCURRENCY, (i) => abortedDownload(port, DOWNLOADS[i % DOWNLOADS.length]![1]));
    const unexpected = statuses.flatMap((status, i) => (status === 200 || status === 206 ? [] : [`${DOWNLOADS[i % DOWNLOADS.length]![0]}: ${status}`]));
    expect(unexpected).toEqual([]);

    // Closing happens on the thread pool just after each connection ends.
    await settles(async () => (await filesOpenUnder(root)).length === 0, 5_000);
    await settles(async () => (await openFileTargets()).length <= descriptorsBefore + 4, 5_000);
    const response = await request(port, '/file.txt');
    expect(response.status).toBe(200);
  }, 20_000 + ABORTS * 5);
});

describe('a connection lost between two writes', () => {
  // Node drops the callback of a write made after the socket is destroyed but before
  // the response hears of it ('close' comes a tick later). A client that vanishes at
  // that moment must still let the download finish and close its file; the garbage
  // collector closing it later ("Closing file descriptor N on garbage collection") is
  // a leak until then, and a deprecation warning. Destroying the socket inside the
  // first write is that moment, every time.
  const STREAMED: [string, [string, string][]][] = [
    ['whole file', []],
    ['one range', [['Range', 'bytes=1000-']]],
    ['several ranges', [['Range', 'bytes=0-99,300000-900000']]],
    ['compressed on the fly', [['Accept-Encoding', 'gzip']]],
  ];

  it.each(STREAMED)('%s: the file is closed once the response is gone', async (what, headers) => {
    const handler = createHandler({ directory: root, log: () => {} });
    const server = createServer((req, res) => {
      const write = res.write;
      res.write = function (this: ServerResponse, ...args: Parameters<ServerResponse['write']>) {
        res.write = write;
        req.socket.destroy();
        return write.apply(this, args);
      } as ServerResponse['write'];
      handler(req, res);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onCleanup(() => new Promise<void>((done) => server.close(() => done())));
    const { port } = server.address() as AddressInfo;
    const target = what === 'compressed on the fly' ? '/big.txt' : '/big.bin';

    const closed = once(server, 'request').then(([, res]) => once(res as ServerResponse, 'close'));
    await abortedDownload(port, rawRequest({ target, headers: [['Host', 'localhost'], ...headers] }));
    await closed;
    expect(await descriptorsClosedByGarbageCollection(), what).toEqual([]);
    await settles(async () => (await filesOpenUnder(root)).length === 0);
  });
});

describe('a file that changes while it streams', () => {
  /** Large enough that the kernel's socket buffers cannot hold it all while the client waits. */
  const SIZE = 48 * 1024 * 1024;

  interface Download {
    /** Resolves once the server has begun sending, with the file open. */
    started: Promise<void>;
    /** Read everything, until the server ends or cuts the connection. */
    finish(): Promise<Buffer>;
  }

  /** A download whose client stops reading after the first bytes, until told to go on. */
  function pausedDownload(port: number, target: string): Download {
    const socket = connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    const started = new Promise<void>((resolve) => {
      socket.once('data', (chunk: Buffer) => {
        chunks.push(chunk);
        socket.pause();
        socket.on('data', (more: Buffer) => chunks.push(more));
        resolve();
      });
    });
    socket.write(rawRequest({ target }));
    return {
      started,
      finish: async () => {
        socket.resume();
        await closed;
        return Buffer.concat(chunks);
      },
    };
  }

  // [what is done to the file, whether the response completes]: a replaced or deleted
  // file keeps its old bytes for readers that have it open; a truncated one cannot.
  it.each([
    ['truncated', false],
    ['replaced', true],
    ['deleted', true],
  ] as const)('%s: the response is a prefix of the old bytes, complete or cut, and the server serves the new state', async (change, completes) => {
    const original = randomBytes(SIZE);
    const path = join(root, `changing-${change}.bin`);
    await writeFile(path, original);
    const { port } = await serveDirectory(root);

    const download = pausedDownload(port, `/changing-${change}.bin`);
    await download.started;
    await settles(async () => (await filesOpenUnder(path)).length > 0);
    const replacement = Buffer.from(`the ${change} file's new contents`);
    if (change === 'truncated') await truncate(path, 1000);
    if (change === 'replaced') {
      await writeFile(`${path}.new`, replacement);
      await rename(`${path}.new`, path);
    }
    if (change === 'deleted') await unlink(path);
    const received = await download.finish();

    const head = parseHead(received);
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(SIZE);
    const body = received.subarray(head.bodyStart);
    // Never more than declared, never bytes of the new version, never padding.
    expect(body.length === SIZE).toBe(completes);
    expect(body.equals(original.subarray(0, body.length))).toBe(true);

    await settles(async () => (await filesOpenUnder(path)).length === 0);
    const after = await request(port, `/changing-${change}.bin`);
    if (change === 'truncated') expect(after.body.equals(original.subarray(0, 1000))).toBe(true);
    if (change === 'replaced') expect(after.text).toBe(replacement.toString());
    if (change === 'deleted') expect(after.status).toBe(404);
  });
});

describe('out of file descriptors', () => {
  const LIMIT = 64;
  const HELD = 100;

  /** Open a download and stop reading once the status line arrives; resolves with that status, or 0 if the connection was refused. */
  function heldDownload(port: number, target: string): Promise<{ status: number; release: () => void }> {
    return new Promise((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' });
      const release = () => socket.destroy();
      socket.on('error', () => {});
      socket.once('data', (chunk: Buffer) => {
        socket.pause();
        resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString('latin1', 0, 12))?.[1] ?? 0), release });
      });
      socket.once('close', () => resolve({ status: 0, release }));
      socket.write(rawRequest({ target, close: false }));
    });
  }

  it.runIf(HAS_PRLIMIT)(`with ${LIMIT} descriptors and ${HELD} downloads held open, the excess gets 503 and the server recovers`, async () => {
    const cli = spawnCli([root, '--port', '0', '--quiet'], { wrapper: ['prlimit', `--nofile=${LIMIT}:${LIMIT}`] });
    const port = Number((await cli.waitForStdout(/http:\/\/\S+:(\d+)/))[1]);
    // Small files are answered from memory: read this one before descriptors run out.
    expect((await request(port, '/file.txt')).status).toBe(200);

    // One at a time, so that each takes its descriptors before the next arrives.
    const held: { status: number; release: () => void }[] = [];
    for (let i = 0; i < HELD; i++) held.push(await heldDownload(port, '/big.bin'));
    const statuses = held.map((download) => download.status);
    // Served while descriptors lasted, 503 once opening the file failed, or refused at accept.
    expect(statuses.filter((status) => ![200, 503, 0].includes(status))).toEqual([]);
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);

    for (const download of held) download.release();
    await settles(async () => (await send(port, rawRequest({ target: '/big.bin' }), { headOnly: true })).bytes.length > 0, 5_000);
    const after = await request(port, '/big.bin');
    expect(after.status).toBe(200);
    expect(after.body.length).toBe(1024 * 1024);
    expect(cli.child.exitCode).toBeNull();
    // One line about the shortage, not a stack trace per refused request.
    expect(cli.stderr()).not.toMatch(/\n\s+at /);
  });
});
