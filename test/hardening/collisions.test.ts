// Validators that survive a deliberate collision: a file rewritten with the same
// size, its mtime set back, and its bytes chosen to keep the old CRC-32 must
// still get a new ETag, so no client is told its old copy is current and no
// compressed variant of the old bytes is served for the new ones.

import { stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBody } from '../helpers/http.js';
import { cleanup, request, serveDirectory, tempDir } from '../helpers/server.js';

/** A whole second well in the past: restorable exactly, and outside the racy window. */
const MTIME = new Date('2020-01-01T00:00:00Z');

/**
 * `bytes` with 4 bytes at `at` changed so that its CRC-32 equals `wanted`.
 * CRC-32 is affine over GF(2): for equal lengths, crc(b ^ v) ^ crc(b) is linear in v,
 * so the 32 bits of the patch are a linear system, solved by Gaussian elimination.
 */
function forgeCrc32(bytes: Buffer, at: number, wanted: number): Buffer {
  const base = crc32(bytes);
  const rows: Array<{ effect: number; patch: number }> = [];
  for (let bit = 0; bit < 32; bit++) {
    const flipped = Buffer.from(bytes);
    flipped.writeUInt32BE((flipped.readUInt32BE(at) ^ (1 << bit)) >>> 0, at);
    rows.push({ effect: (crc32(flipped) ^ base) >>> 0, patch: (1 << bit) >>> 0 });
  }
  // Reduce to one row per pivot bit of the effect.
  const pivots = new Map<number, { effect: number; patch: number }>();
  for (const row of rows) {
    let { effect, patch } = row;
    for (let bit = 31; bit >= 0 && effect !== 0; bit--) {
      if (((effect >>> bit) & 1) === 0) continue;
      const pivot = pivots.get(bit);
      if (pivot === undefined) {
        pivots.set(bit, { effect, patch });
        effect = 0;
        break;
      }
      effect = (effect ^ pivot.effect) >>> 0;
      patch = (patch ^ pivot.patch) >>> 0;
    }
  }
  let target = (wanted ^ base) >>> 0;
  let patch = 0;
  for (let bit = 31; bit >= 0; bit--) {
    if (((target >>> bit) & 1) === 0) continue;
    const pivot = pivots.get(bit);
    if (pivot === undefined) throw new Error('no patch reaches this CRC');
    target = (target ^ pivot.effect) >>> 0;
    patch = (patch ^ pivot.patch) >>> 0;
  }
  const forged = Buffer.from(bytes);
  forged.writeUInt32BE((forged.readUInt32BE(at) ^ patch) >>> 0, at);
  return forged;
}

let root: string;
let port: number;

beforeAll(async () => {
  root = await tempDir('serve-dir-collisions-');
  port = (await serveDirectory(root)).port;
});
afterAll(cleanup);

describe('a same-size rewrite with the mtime restored and the CRC-32 forged', () => {
  const OLD = Buffer.from('The old version of the script. '.repeat(80));
  const NEW_TEXT = Buffer.from('THE NEW VERSION OF THE SCRIPT! '.repeat(80));

  it('the forge itself works: same size, same CRC-32, other bytes', () => {
    const forged = forgeCrc32(NEW_TEXT, 0, crc32(OLD));
    expect(forged.length).toBe(OLD.length);
    expect(crc32(forged)).toBe(crc32(OLD));
    expect(forged.equals(OLD)).toBe(false);
  });

  it('gets a new ETag; gzip clients get the new bytes; the old tag no longer earns a 304', async () => {
    const path = join(root, 'app.js');
    await writeFile(path, OLD);
    await utimes(path, MTIME, MTIME);
    const before = await request(port, '/app.js');
    const gzipBefore = await request(port, '/app.js', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(before.body.equals(OLD)).toBe(true);
    expect(gzipBefore.headers['content-encoding']).toBe('gzip');

    // Keep the old bytes' head (so the patch lands in bytes an attacker controls), forge the CRC.
    const forged = forgeCrc32(NEW_TEXT, 100, crc32(OLD));
    await writeFile(path, forged);
    await utimes(path, MTIME, MTIME);
    const stats = await stat(path);
    expect(stats.size).toBe(OLD.length);
    expect(stats.mtimeMs).toBe(MTIME.getTime());

    const after = await request(port, '/app.js');
    expect(after.body.equals(forged)).toBe(true);
    expect(after.headers.etag).not.toBe(before.headers.etag);

    const gzipAfter = await request(port, '/app.js', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(gzipAfter.headers['content-encoding']).toBe('gzip');
    expect(decodeBody(gzipAfter).equals(forged)).toBe(true);
    expect(gzipAfter.headers.etag).not.toBe(gzipBefore.headers.etag);

    const revalidated = await request(port, '/app.js', { headers: { 'If-None-Match': before.headers.etag! } });
    expect(revalidated.status).toBe(200);
    expect(revalidated.body.equals(forged)).toBe(true);
    const revalidatedGzip = await request(port, '/app.js', {
      headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': gzipBefore.headers.etag! },
    });
    expect(revalidatedGzip.status).toBe(200);
  });

  it('a large, streamed file (not hashed) gets a new ETag too: its ctime moved', async () => {
    // Over the in-memory limit, so its tag is size, mtime, inode and ctime. No
    // program can set a ctime back, so restoring the mtime does not hide the write.
    const size = 300 * 1024;
    const path = join(root, 'big.txt');
    await writeFile(path, Buffer.alloc(size, 'a'));
    await utimes(path, MTIME, MTIME);
    const before = await request(port, '/big.txt');
    await writeFile(path, Buffer.alloc(size, 'b'));
    await utimes(path, MTIME, MTIME);
    const after = await request(port, '/big.txt');
    expect(after.body.equals(Buffer.alloc(size, 'b'))).toBe(true);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    const revalidated = await request(port, '/big.txt', { headers: { 'If-None-Match': before.headers.etag! } });
    expect(revalidated.status).toBe(200);
  });
});

describe('the ETag of a body held in memory is a cryptographic digest of it', () => {
  it('differs for two same-size bodies with the same CRC-32 and the same mtime, in separate servers', async () => {
    // No cache state involved: each server sees only one version.
    const OLD = Buffer.from('x'.repeat(2000));
    const forged = forgeCrc32(Buffer.from('y'.repeat(2000)), 0, crc32(OLD));
    const tags: string[] = [];
    for (const body of [OLD, forged]) {
      const dir = await tempDir('serve-dir-collisions-');
      await writeFile(join(dir, 'f.txt'), body);
      await utimes(join(dir, 'f.txt'), MTIME, MTIME);
      const server = await serveDirectory(dir);
      tags.push((await request(server.port, '/f.txt')).headers.etag!);
    }
    expect(tags[0]).not.toBe(tags[1]);
  });
});
