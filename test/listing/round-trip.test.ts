import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDirectory } from '../../src/fs/read-directory.js';
import { renderListingHtml } from '../../src/listing/html.js';
import { renderListingJson } from '../../src/listing/json.js';
import { parseSortQuery, sortEntries } from '../../src/listing/sort.js';
import { HOSTILE_NAMES, hrefsIn } from './support.js';

// Every hostile name a file system accepts ('/' cannot be in a name), as files,
// and a few as folders too.
const ON_DISK = HOSTILE_NAMES.map(([name]) => name).filter((name) => !name.includes('/'));
// The path guard refuses a backslash in a name (Windows reads it as a separator),
// so a listing leaves such names out rather than show a link that answers 400.
const FILE_NAMES = ON_DISK.filter((name) => !name.includes('\\'));
const FOLDER_NAMES = ['dir?#%', '中文 folder', 'a:b', '%2e%2e dir', "<b>'bold'<b>"];

let base: string;
let dir: string;

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'serve-dir-roundtrip-')));
  dir = join(base, 'dir');
  await mkdir(dir);
  for (const name of ON_DISK) await writeFile(join(dir, name), name);
  for (const name of FOLDER_NAMES) await mkdir(join(dir, `${name} (folder)`));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

async function listingOfDir(query: string) {
  const sort = parseSortQuery(query);
  const entries = sortEntries(await readDirectory(dir, { root: base, dotfiles: true }), sort);
  return { urlPath: '/dir/', entries, sort };
}

describe('listing round trip: disk → HTML → URL → name', () => {
  it.each(['', 'sort=size&order=desc', 'sort=mtime'])('every link of the page (%j) leads back to its exact name', async (query) => {
    const page = await listingOfDir(query);
    const expected = [
      ...FILE_NAMES.map((name) => `/dir/${name}`),
      ...FOLDER_NAMES.map((name) => `/dir/${name} (folder)/`),
    ].sort();

    const entryPaths: string[] = [];
    for (const href of hrefsIn(renderListingHtml(page))) {
      const url = new URL(href, 'http://x/dir/');
      // Whatever the name, a link never leaves the server or the listing's tree.
      expect(url.origin).toBe('http://x');
      if (href.startsWith('./')) {
        expect(url.search).toBe('');
        expect(url.hash).toBe('');
        entryPaths.push(decodeURIComponent(url.pathname));
      } else {
        // Breadcrumbs, the parent link and the sort headers.
        expect(['/', '/dir/']).toContain(url.pathname);
      }
    }
    expect(entryPaths.sort()).toEqual(expected);
  });

  it('the JSON listing names every entry exactly as on disk', async () => {
    const parsed = JSON.parse(renderListingJson(await listingOfDir(''))) as { entries: { name: string; type: string }[] };
    const files = parsed.entries.filter((entry) => entry.type === 'file').map((entry) => entry.name);
    const folders = parsed.entries.filter((entry) => entry.type === 'directory').map((entry) => entry.name);
    expect(files.sort()).toEqual([...FILE_NAMES].sort());
    expect(folders.sort()).toEqual(FOLDER_NAMES.map((name) => `${name} (folder)`).sort());
  });
});
