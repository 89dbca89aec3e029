// A bounded, seeded fuzz test: thousands of generated and mutated requests over
// raw sockets. Client garbage must get a 4xx (or a closed connection), never a
// 5xx, never a secret, and the server must keep serving throughout.
//
// The seed is printed; rerun a failure with SERVE_DIR_FUZZ_SEED=<seed>.

import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inParallel, send } from '../helpers/raw.js';
import { cleanup, openFileTargets, request, serveDirectory, settles, tempDir, writeTree } from '../helpers/server.js';

const SEED = Number(process.env.SERVE_DIR_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32));
/**
 * Every run sends exactly this many cases: a count, not a time budget, so a busy machine
 * makes the test slower, never weaker (a budget let a loaded run fall short of its minimum).
 * More seeds over time find more than more cases in one run; the seed is in every report.
 */
const CASES = 1_500;
const CONCURRENCY = 16;
const HEALTH_CHECK_EVERY = 250;

const SECRET = `fuzz-secret-${randomUUID()}`;
let base: string;
let root: string;
let port: number;

beforeAll(async () => {
  console.log(`fuzz seed: ${SEED} (rerun with SERVE_DIR_FUZZ_SEED=${SEED})`);
  base = await tempDir('serve-dir-fuzz-');
  root = join(base, 'site');
  await writeTree(base, { 'secret.txt': SECRET, 'site-secret/secret.txt': SECRET });
  await writeTree(root, {
    'index.html': '<!doctype html><title>fuzz</title><p>home</p>',
    'file.txt': 'plain file',
    'page.html': `<!doctype html><title>page</title>${'<p>text</p>'.repeat(200)}`,
    'page.html.gz': randomBytes(64),
    'data.json': '{"a":1}',
    'big.bin': randomBytes(300 * 1024),
    'big.txt': 'compressible line of text\n'.repeat(20_000),
    'dir/inner.txt': 'inner',
    'sub dir/a b.txt': 'spaced',
    'café/ünï.txt': 'unicode',
    '.env': SECRET,
    '.git/config': SECRET,
    '404.html': '<!doctype html><title>not here</title>',
  });
  ({ port } = await serveDirectory(root));
});
afterAll(cleanup);

/** mulberry32: a tiny, fast, seedable PRNG (uniform in [0, 1)). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const int = (random: Random, max: number) => Math.floor(random() * max);
const pick = <T>(random: Random, items: readonly T[]): T => items[int(random, items.length)]!;
const chance = (random: Random, p: number) => random() < p;
const repeat = (random: Random, max: number, make: () => string, separator = '') => Array.from({ length: 1 + int(random, max) }, make).join(separator);

const METHODS = ['GET', 'GET', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'DELETE', 'TRACE', 'CONNECT', 'PATCH', 'get', 'G E T', 'BREW', '', 'GET\0'];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/0.9', 'HTTP/2.0', 'HTTP/1.2', 'http/1.1', 'HTTP/1.10', 'HTTP/1', '', 'HTTP/1.1 x'];
/** Names that exist (or nearly): requests built from them reach the later stages. */
const NAMES = [
  'file.txt', 'index.html', 'page.html', 'data.json', 'big.bin', 'big.txt', 'dir', 'dir/', 'inner.txt', 'sub%20dir', 'a%20b.txt',
  'caf%C3%A9', '%C3%BCn%C3%AF.txt', '404.html', 'missing', '.well-known', '__serve-dir', 'client.js',
];
/** Pieces that try to break out, hide, or confuse. */
const TRICKS = [
  '.env', '.git', 'config', '..', '.', '', '%2e', '%2e%2e', '%2E%2e', '%2f', '%2F', '%5c', '%00', '%', '%zz', '%c0%ae', '%e0%80%ae',
  '%ef%bc%8e', '%252e', '%ff', '%c3', '\\', ';', ':', '@', '~', '*', '+', '=', '&', '$', '!', "'", '(', ')', ',', '[', ']', '<', '>', '"',
  '{', '}', '|', '^', '`', 'a'.repeat(300), 'b'.repeat(4000), '%41'.repeat(100),
];
const VALID_TARGETS = ['/', '/file.txt', '/dir/', '/dir', '/big.bin', '/big.txt', '/page.html', '/data.json', '/sub%20dir/a%20b.txt', '/caf%C3%A9/', '/missing'];
const TARGET_PREFIXES = ['/', '/', '/', '//', '', 'http://localhost/', 'https://localhost:1/', 'http://[::1]/', 'http://[::1', '*', 'http://', 'x:'];
const HEADER_VALUES: Record<string, (random: Random) => string> = {
  Range: (random) => pick(random, ['bytes=', 'Bytes=', 'bytes =', 'lines=', '']) + repeat(random, 8, () => rangeSpec(random), pick(random, [',', ', ', ',,', ' , '])),
  'If-Range': (random) => pick(random, ['"x"', 'W/"x"', 'Thu, 01 Jan 1970 00:00:00 GMT', '', '"', '*', randomDate(random)]),
  'If-None-Match': (random) => repeat(random, 5, () => pick(random, ['*', '"a"', 'W/"a"', '"', 'W/', '""', `"${randomUUID()}"`, ' ']), ','),
  'If-Match': (random) => repeat(random, 3, () => pick(random, ['*', '"a"', 'W/"a"', 'x']), ','),
  'If-Modified-Since': randomDate,
  'If-Unmodified-Since': randomDate,
  'Accept-Encoding': (random) => repeat(random, 6, () => pick(random, ['gzip', 'br', 'identity', '*', 'deflate', 'zstd', 'GZIP']) + pick(random, ['', ';q=0', ';q=1', ';q=0.5', ';q=', ';q=2', ';q=-1', ';q=0.0001', ';;']), pick(random, [',', ', '])),
  Accept: (random) => pick(random, ['application/json', 'text/html', '*/*', 'application/json;q=0', 'text/html, application/json', '', ';;;']),
  Host: (random) => pick(random, ['localhost', 'localhost', 'localhost', '127.0.0.1', '[::1]', 'evil.example', '', 'localhost:0', 'localhost:99999', '[::1', 'a b', 'localhost.', 'LOCALHOST']),
  'Content-Length': (random) => pick(random, ['0', '1', '5', '-1', '+1', '0x10', '99999999999999999999', '1, 1', '', ' 3 ']),
  'Transfer-Encoding': (random) => pick(random, ['chunked', 'identity', 'chunked, identity', 'gzip, chunked', 'xchunked', 'chunked ', '']),
  Connection: (random) => pick(random, ['close', 'keep-alive', 'Upgrade', 'close, Upgrade', '']),
  Expect: (random) => pick(random, ['100-continue', 'something', '']),
  Upgrade: (random) => pick(random, ['websocket', 'h2c', 'HTTP/2.0', '']),
  Origin: (random) => pick(random, ['http://localhost', 'null', 'http://evil.example', '']),
};

function rangeSpec(random: Random): string {
  const number = () => pick(random, ['0', '1', '99', '1000', '307199', '307200', '999999999', '9'.repeat(30), '-1', '', 'x', '01']);
  return pick(random, [`${number()}-${number()}`, `-${number()}`, `${number()}-`, number(), '-', `${number()}--${number()}`]);
}

function randomDate(random: Random): string {
  return pick(random, [
    'Thu, 01 Jan 1970 00:00:00 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT', 'Sun, 06 Nov 1994 08:49:37 GMT', 'Sunday, 06-Nov-94 08:49:37 GMT',
    'Sun Nov  6 08:49:37 1994', new Date().toUTCString(), 'yesterday', '', '0', 'Thu, 32 Jan 2020 25:61:61 GMT',
  ]);
}

function randomTarget(random: Random): string {
  const piece = () => pick(random, chance(random, 0.7) ? NAMES : TRICKS);
  let target = pick(random, TARGET_PREFIXES) + repeat(random, 4, piece, pick(random, ['/', '/', '/', '//', '\\']));
  if (chance(random, 0.2)) target += '?' + repeat(random, 3, () => pick(random, ['sort=name', 'order=desc', 'sort=size', 'x', '=', '&', '%', 'a=%0d%0a', 'last=5']), '&');
  if (chance(random, 0.05)) target += '#' + piece();
  return target;
}

/** A request built from plausible and implausible parts. */
function generatedRequest(random: Random): Buffer {
  const lines = [`${pick(random, METHODS)} ${randomTarget(random)} ${pick(random, VERSIONS)}`];
  if (chance(random, 0.95)) lines.push(`Host: ${HEADER_VALUES.Host!(random)}`);
  const names = Object.keys(HEADER_VALUES);
  for (let i = int(random, 6); i > 0; i--) {
    const name = pick(random, names);
    lines.push(`${chance(random, 0.1) ? name.toLowerCase() : name}: ${HEADER_VALUES[name]!(random)}`);
  }
  if (chance(random, 0.1)) lines.push(`${pick(random, ['X-Junk', 'x\0y', ' Leading', 'Trailing ', 'Colon:In', ''])}: ${pick(random, ['v', '\x7f', 'é', ' \t', ''])}`);
  const body = chance(random, 0.1) ? pick(random, ['0\r\n\r\n', 'hello', '5\r\nhello\r\n0\r\n\r\n', 'zz\r\n', 'GET /file.txt HTTP/1.1\r\nHost: localhost\r\n\r\n']) : '';
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body, 'latin1');
}

/** A well-formed request for a real file whose headers ask for every feature at once, oddly. */
function oddHeadersRequest(random: Random): Buffer {
  const lines = [`${pick(random, ['GET', 'GET', 'HEAD'])} ${pick(random, VALID_TARGETS)} HTTP/1.1`, 'Host: localhost'];
  const names = Object.keys(HEADER_VALUES).filter((name) => !['Host', 'Content-Length', 'Transfer-Encoding', 'Expect', 'Upgrade'].includes(name));
  for (let i = 1 + int(random, 5); i > 0; i--) {
    const name = pick(random, names);
    lines.push(`${name}: ${HEADER_VALUES[name]!(random)}`);
  }
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
}

/** A valid request with a few bytes flipped, inserted, deleted, duplicated or cut. */
function mutatedRequest(random: Random): Buffer {
  const valid = generatedValidRequest(random);
  const bytes = [...valid];
  for (let i = 1 + int(random, 4); i > 0; i--) {
    const at = int(random, bytes.length + 1);
    switch (int(random, 5)) {
      case 0:
        bytes[at] = (bytes[at] ?? 0) ^ (1 << int(random, 8));
        break;
      case 1:
        bytes.splice(at, 0, pick(random, [0x0d, 0x0a, 0x00, 0x20, 0x09, 0x3a, 0x25, 0x2f, 0x5c, 0x2e, 0xff, 0x80]));
        break;
      case 2:
        bytes.splice(at, 1 + int(random, 4));
        break;
      case 3:
        bytes.splice(at, 0, ...bytes.slice(at, at + int(random, 40)));
        break;
      default:
        bytes.length = Math.min(bytes.length, at);
    }
  }
  return Buffer.from(bytes);
}

function generatedValidRequest(random: Random): Buffer {
  const target = pick(random, VALID_TARGETS);
  const headers = ['Host: localhost'];
  if (chance(random, 0.5)) headers.push(`Range: bytes=${int(random, 1000)}-${int(random, 400_000)}`);
  if (chance(random, 0.5)) headers.push('Accept-Encoding: gzip, br');
  if (chance(random, 0.3)) headers.push('If-None-Match: "x", W/"y"');
  return Buffer.from(`${pick(random, ['GET', 'HEAD'])} ${target} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`, 'latin1');
}

interface Outcome {
  statuses: number[];
  timedOut: boolean;
  leaked: boolean;
}

async function runCase(request: Buffer): Promise<Outcome> {
  // Half-close after writing: a request left incomplete must still be answered or closed.
  const exchange = await send(port, request, { endAfterWrite: true, timeoutMs: 5_000 });
  const text = exchange.bytes.toString('latin1');
  const statuses = [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((match) => Number(match[1]));
  return { statuses, timedOut: exchange.timedOut, leaked: text.includes(SECRET) || text.includes(base) };
}

describe('fuzzing the request parser and the pipeline', () => {
  it('thousands of generated and mutated requests: no 5xx, no leak, no hang, and the server keeps serving', async () => {
    // Drawn up front, so the cases depend on the seed alone, not on the order replies arrive in.
    const random = mulberry32(SEED);
    const makers = [oddHeadersRequest, oddHeadersRequest, generatedRequest, generatedRequest, mutatedRequest];
    const requests = Array.from({ length: CASES }, () => pick(random, makers)(random));
    const descriptorsBefore = (await openFileTargets()).length;
    const failures: string[] = [];
    let cases = 0;
    const report = (index: number, outcome: Outcome, problem: string) =>
      `${problem} (seed ${SEED}, case ${index}): ${JSON.stringify(requests[index]!.toString('latin1').slice(0, 300))} → ${JSON.stringify(outcome.statuses)}`;

    await inParallel(CASES, CONCURRENCY, async (index) => {
      if (failures.length >= 10) return;
      const outcome = await runCase(requests[index]!);
      cases++;
      if (outcome.statuses.some((status) => status >= 500)) failures.push(report(index, outcome, '5xx'));
      if (outcome.timedOut) failures.push(report(index, outcome, 'no answer and no close'));
      if (outcome.leaked) failures.push(report(index, outcome, 'leaked a secret or a path'));
      if (cases % HEALTH_CHECK_EVERY === 0) {
        const health = await request(port, '/file.txt');
        if (health.status !== 200) failures.push(`health check failed after ${cases} cases (seed ${SEED}): ${health.status}`);
      }
    });

    expect(failures).toEqual([]);
    expect(cases).toBe(CASES);
    const health = await request(port, '/file.txt');
    expect(health.text).toBe('plain file');
    await settles(async () => (await openFileTargets()).filter((target) => target.startsWith(root)).length === 0, 5_000);
    await settles(async () => (await openFileTargets()).length <= descriptorsBefore + 4, 5_000);
  }, 90_000);
});
