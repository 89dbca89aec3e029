// The path guard and the Host check remember their answers per request target
// and per Host value. Remembering must never change an answer: not when the
// same request comes again, not between two servers in one process, not after
// the files change, and not after a client has flooded the caches with values
// of its own.

import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CACHED_TARGET_LENGTH, MAX_CACHED_TARGETS } from '../../src/stages/guard.js';
import { MAX_CACHED_HOSTS } from '../../src/stages/host.js';
import { parseResponses, rawRequest, send, type RawRequest } from '../helpers/raw.js';
import { cleanup, request, serveDirectory, tempDir, writeTree } from '../helpers/server.js';

let root: string;
let hidden: number; // dotfiles hidden (the default)
let shown: number; // dotfiles: true, same root, same process

beforeAll(async () => {
  root = await tempDir();
  await writeTree(root, {
    'file.txt': 'plain file',
    'dir/inner.txt': 'inner',
    '.env': 'secret',
  });
  hidden = (await serveDirectory(root)).port;
  shown = (await serveDirectory(root, { dotfiles: true })).port;
});
afterAll(cleanup);

/** Send every request on one connection (pipelined); the statuses, in order. */
async function statuses(port: number, requests: RawRequest[]): Promise<number[]> {
  const bytes = Buffer.concat(requests.map((one, index) => rawRequest({ ...one, close: index === requests.length - 1 })));
  const exchange = await send(port, bytes, { timeoutMs: 20_000 });
  expect(exchange.timedOut).toBe(false);
  return parseResponses(exchange.bytes).map((response) => response.status);
}

// [target, status with dotfiles hidden]
const TARGETS: [string, number][] = [
  ['/file.txt', 200],
  ['/file.txt?v=1', 200],
  ['http://localhost/file.txt', 200],
  ['/dir/inner.txt', 200],
  ['/dir/./inner.txt', 200],
  ['/dir', 301],
  ['/dir?x=1', 301],
  ['/file.txt/', 404],
  ['/.env', 404],
  ['/%2eenv', 404],
  ['/missing.txt', 404],
  ['/../file.txt', 400],
  ['/%2e%2e/file.txt', 400],
  ['/%zz', 400],
  ['*', 400],
];

describe('path guard cache', () => {
  it('answers a target asked again exactly as the first time', async () => {
    const requests = TARGETS.map(([target]) => ({ target }));
    const expected = TARGETS.map(([, status]) => status);
    expect(await statuses(hidden, [...requests, ...requests, ...requests])).toEqual([...expected, ...expected, ...expected]);
  });

  it('keeps the answers of two servers in one process apart', async () => {
    for (let round = 0; round < 3; round++) {
      expect((await request(hidden, '/.env')).status).toBe(404);
      const revealed = await request(shown, '/.env');
      expect(revealed.status).toBe(200);
      expect(revealed.text).toBe('secret');
    }
  });

  it('remembers where a target points, never whether a file is there', async () => {
    const target = '/appears-later.txt';
    expect((await request(hidden, target)).status).toBe(404);
    await writeFile(join(root, 'appears-later.txt'), 'now here');
    const found = await request(hidden, target);
    expect(found.status).toBe(200);
    expect(found.text).toBe('now here');
    await rm(join(root, 'appears-later.txt'));
    expect((await request(hidden, target)).status).toBe(404);
  });

  it('gives the same answers after a flood of distinct and overlong targets', async () => {
    const flood: RawRequest[] = [];
    for (let i = 0; i < 2 * MAX_CACHED_TARGETS + 10; i++) flood.push({ target: `/flood-${i}.txt` });
    for (let i = 0; i < 10; i++) flood.push({ target: `/${i}${'x'.repeat(MAX_CACHED_TARGET_LENGTH)}` });
    const checks = TARGETS.map(([target]) => ({ target }));
    const answers = await statuses(hidden, [...checks, ...flood, ...checks]);
    const expected = TARGETS.map(([, status]) => status);
    expect(answers.slice(0, checks.length)).toEqual(expected);
    expect(answers.slice(checks.length, -checks.length).every((status) => status === 404)).toBe(true);
    expect(answers.slice(-checks.length)).toEqual(expected);
  });
});

describe('Host check cache', () => {
  // [Host, status] on a loopback-only server
  const HOSTS: [string, number][] = [
    ['localhost', 200],
    ['127.0.0.1', 200],
    ['evil.example', 403],
    ['EVIL.example:80', 403],
    ['bad host', 400],
    ['a/b', 400],
  ];
  const withHost = (host: string): RawRequest => ({ target: '/file.txt', headers: [['Host', host]] });

  it('answers a Host sent again exactly as the first time', async () => {
    const requests = HOSTS.map(([host]) => withHost(host));
    const expected = HOSTS.map(([, status]) => status);
    // A 400 closes the connection, so each of those goes on a connection of its own.
    for (let round = 0; round < 3; round++) {
      for (const [index, one] of requests.entries()) expect(await statuses(hidden, [one])).toEqual([expected[index]]);
    }
  });

  it('still refuses two Host lines whose value was accepted before', async () => {
    expect(await statuses(hidden, [withHost('localhost'), withHost('localhost')])).toEqual([200, 200]);
    const twice: RawRequest = { target: '/file.txt', headers: [['Host', 'localhost'], ['host', 'localhost']] };
    expect(await statuses(hidden, [twice])).toEqual([400]);
    expect(await statuses(hidden, [withHost('localhost')])).toEqual([200]);
  });

  it('gives the same answers after a flood of distinct Host values', async () => {
    const flood: RawRequest[] = [];
    for (let i = 0; i < 2 * MAX_CACHED_HOSTS + 10; i++) flood.push(withHost(i % 2 === 0 ? `evil-${i}.example` : `x${i}.localhost`));
    flood.push(withHost(`${'a'.repeat(400)}.localhost`), withHost(`${'a'.repeat(400)}.example`));
    const answers = await statuses(hidden, [withHost('localhost'), withHost('evil.example'), ...flood, withHost('localhost'), withHost('evil.example')]);
    const floodAnswers = flood.map((one) => (/\.localhost$/.test(one.headers![0]![1]) ? 200 : 403));
    expect(answers).toEqual([200, 403, ...floodAnswers, 200, 403]);
  });
});
