// Huge folders do not take the server down: concurrent requests for a listing
// share one read of the folder, a page shows at most LISTING_PAGE_SIZE entries
// (HTML with a note and links, JSON with `offset`, `total` and `next`), and the
// sort of a big folder gives other clients turns. The 200,000-entry case, with
// the server's RSS read from /proc, is `npm run soak -- --big-folder`.

import { mkdirSync, writeFileSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ListingEntry } from '../../src/fs/read-directory.js';
import { LISTING_PAGE_SIZE } from '../../src/listing/paging.js';
import { sortEntries, sortEntriesInSlices, type SortSpec } from '../../src/listing/sort.js';
import type { RunningServer } from '../../src/index.js';
import { cleanup, request, serveDirectory, tempDir, writeTree, type RawResponse } from '../helpers/server.js';

/** Reads of a folder for a listing, counted by wrapping the real reader. */
const reads = vi.hoisted(() => ({
  count: 0,
  onRead: undefined as (() => void) | undefined,
  /** While set, reads wait for it: requests are sure to overlap, however slow the machine. */
  gate: undefined as Promise<void> | undefined,
}));
vi.mock('../../src/fs/read-directory.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/fs/read-directory.js')>();
  return {
    ...original,
    readDirectory: async (...args: Parameters<typeof original.readDirectory>) => {
      reads.count++;
      reads.onRead?.();
      await reads.gate;
      return original.readDirectory(...args);
    },
  };
});

/** More than a page: two pages, the second one short. */
const FILES = LISTING_PAGE_SIZE + 2_000;
/** Long ago: outside the racy window, so the folder's listing may be cached. */
const LONG_AGO = new Date('2020-01-01T00:00:00Z');

interface JsonListing {
  path: string;
  entries: { name: string; type: string; size: number }[];
  offset: number;
  total: number;
  next: string | null;
}

let root: string;
let port: number;
let server: RunningServer;

/**
 * Send all `targets` at once, holding the folder's read until the server has
 * received every one of them (each joins or starts a build as it arrives).
 */
async function allAtOnce(targets: Array<[string, Record<string, string>]>): Promise<RawResponse[]> {
  let open!: () => void;
  reads.gate = new Promise<void>((resolve) => (open = resolve));
  let arrived = 0;
  const allArrived = new Promise<void>((resolve) => {
    const onRequest = () => {
      if (++arrived < targets.length) return;
      server.server.off('request', onRequest);
      resolve();
    };
    server.server.on('request', onRequest);
  });
  const responses = Promise.all(targets.map(([target, headers]) => request(port, target, { headers })));
  await allArrived;
  reads.gate = undefined;
  open();
  return responses;
}

function rowCount(html: string): number {
  return html.match(/<td class="name"><a href="\.\/[^"]*"/g)?.length ?? 0;
}

async function json(target: string): Promise<JsonListing> {
  const response = await request(port, target, { headers: { Accept: 'application/json' } });
  expect(response.status).toBe(200);
  return JSON.parse(response.text) as JsonListing;
}

beforeAll(async () => {
  root = await tempDir('serve-dir-big-folder-');
  await writeTree(root, { 'small.txt': 'small', 'fresh/': '' });
  const big = join(root, 'big');
  mkdirSync(big);
  // Sizes cycle through 0..99 bytes, so a sort by size differs from one by name.
  for (let i = 0; i < FILES; i++) writeFileSync(join(big, `f${i}.txt`), 'x'.repeat((i * 37) % 100));
  await utimes(big, LONG_AGO, LONG_AGO);
  server = await serveDirectory(root);
  port = server.port;
}, 60_000);
afterAll(cleanup);

describe('concurrent requests for one listing share one read of the folder', () => {
  it('six requests at once (the same page, other formats and orders): one read', async () => {
    reads.count = 0;
    const targets: Array<[string, Record<string, string>]> = [
      ['/big/', {}],
      ['/big/', {}],
      ['/big/', { Accept: 'application/json' }],
      ['/big/', { Accept: 'application/json' }],
      ['/big/?sort=size&order=desc', {}],
      ['/big/?offset=10000', {}],
    ];
    const responses = await allAtOnce(targets);
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(responses[0]!.body.equals(responses[1]!.body)).toBe(true);
    expect(reads.count).toBe(1);
  });

  it('a folder too recently changed to be cached is still read once for requests at once', async () => {
    const fresh = join(root, 'fresh');
    for (let i = 0; i < 200; i++) writeFileSync(join(fresh, `n${i}`), '');
    reads.count = 0;
    const responses = await allAtOnce(Array.from({ length: 4 }, () => ['/fresh/', {}]));
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200]);
    expect(reads.count).toBe(1);
  });
});

describe('what the listing cache keeps', () => {
  it('a folder with over 1,000 sub-folders is read again rather than checked by 1,001 stats per request', async () => {
    const folders = join(root, 'folders');
    for (let i = 0; i < 1_001; i++) mkdirSync(join(folders, `d${i}`), { recursive: true });
    await utimes(folders, LONG_AGO, LONG_AGO);
    reads.count = 0;
    await request(port, '/folders/');
    await request(port, '/folders/');
    expect(reads.count).toBe(2);
  });

  it('the 12,000-file folder is kept: a later request does not read it again', async () => {
    reads.count = 0;
    expect((await request(port, '/big/?sort=mtime&order=desc')).status).toBe(200);
    expect((await request(port, '/big/?sort=mtime&order=desc')).status).toBe(200);
    expect(reads.count).toBe(0);
  });
});

describe(`a page lists at most ${LISTING_PAGE_SIZE} entries`, () => {
  it('HTML: the first page in the requested order, a note, and a link to the rest', async () => {
    const first = await request(port, '/big/?sort=name&order=desc');
    expect(first.status).toBe(200);
    expect(rowCount(first.text)).toBe(LISTING_PAGE_SIZE);
    expect(first.text).toContain(`Entries 1–10,000 of ${FILES.toLocaleString('en-US')}`);
    expect(first.text).toContain('href="?sort=name&amp;order=desc&amp;offset=10000" rel="next"');
    // Descending by name (numbers by value): f11999 down to f2000, then the next page.
    expect(first.text).toContain('>f11999.txt<');
    expect(first.text).toContain('>f2000.txt<');
    expect(first.text).not.toContain('>f1999.txt<');

    const second = await request(port, '/big/?sort=name&order=desc&offset=10000');
    expect(rowCount(second.text)).toBe(FILES - LISTING_PAGE_SIZE);
    expect(second.text).toContain(`Entries 10,001–${FILES.toLocaleString('en-US')} of ${FILES.toLocaleString('en-US')}`);
    expect(second.text).toContain('href="?sort=name&amp;order=desc&amp;offset=0" rel="prev"');
    expect(second.text).not.toContain('rel="next"');
  });

  it('JSON: pages through `next` to every entry exactly once, in order', async () => {
    const spec: SortSpec = { key: 'size', order: 'desc' };
    const pages: JsonListing[] = [await json('/big/?sort=size&order=desc')];
    while (pages.at(-1)!.next !== null) pages.push(await json(`/big/${pages.at(-1)!.next}`));
    expect(pages.map((page) => [page.offset, page.entries.length, page.total])).toEqual([
      [0, LISTING_PAGE_SIZE, FILES],
      [LISTING_PAGE_SIZE, FILES - LISTING_PAGE_SIZE, FILES],
    ]);
    const listed = pages.flatMap((page) => page.entries);
    const expected = sortEntries(
      listed.map((entry) => ({ name: entry.name, type: 'file', size: entry.size, mtimeMs: 0 })),
      spec,
    );
    expect(new Set(listed.map((entry) => entry.name)).size).toBe(FILES);
    expect(listed.map((entry) => entry.name)).toEqual(expected.map((entry) => entry.name));
    expect(listed[0]!.size).toBe(99);
  });

  it('an offset past the end is an empty page with the total; a malformed one is the first page', async () => {
    const past = await json('/big/?offset=999999');
    expect(past).toMatchObject({ entries: [], offset: 999_999, total: FILES, next: null });
    const malformed = await json('/big/?offset=-5');
    expect(malformed.offset).toBe(0);
    expect(malformed.entries).toHaveLength(LISTING_PAGE_SIZE);
  });
});

describe('a big listing gives other clients turns', () => {
  it('a small file requested after a big listing starts is answered before the listing', async () => {
    // A new entry: the cached listing is dropped, and the next request reads the folder again.
    writeFileSync(join(root, 'big', 'new.txt'), '');
    let listingDone = false;
    // Resolves when the server is busy with the listing: the folder is being read.
    const reading = new Promise<void>((resolve) => (reads.onRead = resolve));
    const listing = request(port, '/big/?sort=mtime').then((response) => {
      listingDone = true;
      return response;
    });
    await reading;
    reads.onRead = undefined;
    const small = await request(port, '/small.txt');
    expect(small.text).toBe('small');
    expect(listingDone).toBe(false);
    expect((await listing).status).toBe(200);
  });

  it('sorting 60,000 entries gives the event loop turns, and the same order as in one go', async () => {
    const entries: ListingEntry[] = Array.from({ length: 60_000 }, (_, i) => ({
      name: `e${(i * 7919) % 60_000}`,
      type: i % 50 === 0 ? 'directory' : 'file',
      size: i % 1000,
      mtimeMs: i % 777,
    }));
    for (const spec of [{ key: 'name', order: 'desc' }] as const) {
      let turns = 0;
      let counting = true;
      const count = () => {
        turns++;
        if (counting) setImmediate(count);
      };
      setImmediate(count);
      const sorted = await sortEntriesInSlices(entries, spec);
      counting = false;
      expect(sorted.map((entry) => entry.name)).toEqual(sortEntries(entries, spec).map((entry) => entry.name));
      // Sorted in one go, the result would come before any turn.
      expect(turns).toBeGreaterThanOrEqual(2);
    }
  });
});
