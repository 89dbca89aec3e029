import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, tempDir, writeTree } from '../helpers/server.js';
import { client, serveOver, TRANSPORTS } from '../helpers/transport.js';

interface JsonListing {
  path: string;
  entries: { name: string; type: 'file' | 'directory'; size: number; mtime: string }[];
}

/** File names special in HTML, in URLs, or in how text is shown. Each file's content is its own name. */
const TRICKY_NAMES = [
  '<b>bold.txt',
  'say "hi".txt',
  "it's.txt",
  'Tom & Jerry.txt',
  '&amp;.txt',
  'what?.txt',
  'c#.txt',
  '#top',
  '100%.txt',
  '%2e%2e',
  '%2F.txt',
  'a:b.txt',
  'javascript:alert(1)',
  'with space.txt',
  ' padded ',
  'a=b&c=d.txt',
  'plus+sign.txt',
  '😀 party.txt',
  '中文文件名.txt',
  'café.txt',
  '...',
  '..a',
];
const TRICKY_FOLDERS = ['dir ?#%', '中文 folder', 'x:y', '<i>'];

let base: string;
let root: string;

const ACCEPT_JSON = { Accept: 'application/json' };

/** Every href of a page, with HTML character references undone as a browser would. */
function hrefs(html: string): string[] {
  const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return [...html.matchAll(/<a href="([^"]*)"/g)].map((match) =>
    match[1]!.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, ref: string) => {
      if (ref[0] !== '#') return entities[ref.toLowerCase()] ?? whole;
      return String.fromCodePoint(ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1)));
    }),
  );
}

beforeAll(async () => {
  base = await tempDir();
  root = join(base, 'site');
  const tree: Record<string, string> = {};
  for (const name of TRICKY_NAMES) tree[`tricky/${name}`] = name;
  for (const name of TRICKY_FOLDERS) tree[`tricky/${name}/inside.txt`] = `inside ${name}`;
  await writeTree(root, {
    ...tree,
    'sorted/small.txt': 'x',
    'sorted/medium.txt': 'x'.repeat(100),
    'sorted/large.txt': 'x'.repeat(10_000),
    'sorted/b-folder/': '',
    'sorted/a-folder/': '',
    'hidden/.env': 'secret',
    'hidden/.config/x': 'secret',
    'hidden/visible.txt': 'v',
    '.well-known/security.txt': 'contact',
    'outside.txt': 'o',
    'links/target.txt': 'linked',
  });
  await writeFile(join(base, 'secret.txt'), 'outside the root');
  await symlink(join(root, 'links', 'target.txt'), join(root, 'links', 'inside-link.txt'));
  await symlink(join(base, 'secret.txt'), join(root, 'links', 'escaping-file.txt'));
  await symlink(base, join(root, 'links', 'escaping-dir'));
  // Distinct modification times, in an order unlike the names' and sizes'.
  const times: [string, string][] = [
    ['small.txt', '2021-01-01T00:00:00Z'],
    ['large.txt', '2022-01-01T00:00:00Z'],
    ['medium.txt', '2023-01-01T00:00:00Z'],
  ];
  for (const [name, time] of times) await utimes(join(root, 'sorted', name), new Date(time), new Date(time));
});
afterAll(cleanup);

describe.each(TRANSPORTS)('over %s', (transport) => {
  const request = client(transport);
  let port: number;
  let dotPort: number;
  beforeAll(async () => {
    port = (await serveOver(transport, root)).port;
    dotPort = (await serveOver(transport, root, { dotfiles: true })).port;
  });

  async function listJson(target: string, onPort = port): Promise<JsonListing> {
    const response = await request(onPort, target, { headers: ACCEPT_JSON });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    return JSON.parse(response.text) as JsonListing;
  }

  describe('the listing link round trip', () => {
    // [query, dotfiles served]: names starting with '.' ('...', '..a') are listed only with dotfiles.
    it.each([
      ['', false],
      ['?sort=size&order=desc', false],
      ['?sort=mtime', true],
    ])(
      'every entry link of /tricky/%s (dotfiles: %s), resolved as a browser would and followed, returns that exact file',
      async (query, dotfiles) => {
        const onPort = dotfiles ? dotPort : port;
        const listingUrl = `http://localhost/tricky/${query}`;
        const page = await request(onPort, `/tricky/${query}`);
        expect(page.status).toBe(200);
        const reached = new Map<string, string>();
        for (const href of hrefs(page.text)) {
          const url = new URL(href, listingUrl);
          expect(url.origin).toBe('http://localhost');
          const response = await request(onPort, url.pathname + url.search);
          expect(response.status, `${href} → ${url.pathname}${url.search}`).toBe(200);
          if (url.search === '' && url.pathname.startsWith('/tricky/') && url.pathname !== '/tricky/') {
            reached.set(url.pathname, response.text);
          }
        }
        for (const name of TRICKY_NAMES.filter((name) => dotfiles || !name.startsWith('.'))) {
          const link = [...reached].find(([, body]) => body === name);
          expect(link, `a link to ${JSON.stringify(name)}`).toBeDefined();
        }
        for (const name of TRICKY_FOLDERS) {
          const folder = [...reached.keys()].find((path) => decodeURIComponent(path) === `/tricky/${name}/`);
          expect(folder, `a link to the folder ${JSON.stringify(name)}`).toBeDefined();
          const inside = await request(onPort, `${folder}inside.txt`);
          expect(inside.text).toBe(`inside ${name}`);
        }
      },
    );

    it('names are HTML-escaped in the page text', async () => {
      const page = await request(port, '/tricky/');
      expect(page.text).toContain('&lt;b&gt;bold.txt');
      expect(page.text).not.toContain('<b>bold');
      expect(page.text).not.toContain('<i>');
      expect(page.text).toContain('Tom &amp; Jerry.txt');
      expect(page.text).toContain('&amp;amp;.txt');
    });

    it('the JSON listing names every entry exactly', async () => {
      const listing = await listJson('/tricky/', dotPort);
      expect(listing.path).toBe('/tricky/');
      expect(listing.entries.map((entry) => entry.name).sort()).toEqual([...TRICKY_NAMES, ...TRICKY_FOLDERS].sort());
    });
  });

  describe('sorting', () => {
    const names = async (query: string) => (await listJson(`/sorted/${query}`)).entries.map((entry) => entry.name);

    // [query, order]: folders always come first.
    it.each([
      ['', ['a-folder', 'b-folder', 'large.txt', 'medium.txt', 'small.txt']],
      ['?sort=name&order=desc', ['b-folder', 'a-folder', 'small.txt', 'medium.txt', 'large.txt']],
      ['?sort=size', ['a-folder', 'b-folder', 'small.txt', 'medium.txt', 'large.txt']],
      ['?sort=size&order=desc', ['a-folder', 'b-folder', 'large.txt', 'medium.txt', 'small.txt']],
      ['?sort=mtime', [undefined, undefined, 'small.txt', 'large.txt', 'medium.txt']],
      ['?sort=mtime&order=desc', [undefined, undefined, 'medium.txt', 'large.txt', 'small.txt']],
    ])('%s → %j', async (query, expected) => {
      const actual = await names(query);
      // Folders' mtimes are "now": only their place (first) is fixed when sorting by time.
      expect(actual.slice(0, 2).sort()).toEqual(['a-folder', 'b-folder']);
      expected.forEach((name, index) => name !== undefined && expect(actual[index]).toBe(name));
    });

    it('the HTML page lists in the same order', async () => {
      const page = await request(port, '/sorted/?sort=size&order=desc');
      const order = ['a-folder/', 'b-folder/', 'large.txt', 'medium.txt', 'small.txt'].map((name) => page.text.indexOf(`>${name}<`));
      expect(order.every((position) => position !== -1)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
    });
  });

  describe('JSON listing', () => {
    it('has path and entries with name, type, size and mtime', async () => {
      const listing = await listJson('/sorted/');
      expect(listing.path).toBe('/sorted/');
      expect(listing.entries).toContainEqual({ name: 'medium.txt', type: 'file', size: 100, mtime: '2023-01-01T00:00:00.000Z' });
      const folder = listing.entries.find((entry) => entry.name === 'a-folder');
      expect(folder).toMatchObject({ type: 'directory', size: 0 });
      expect(Number.isNaN(Date.parse(folder!.mtime))).toBe(false);
    });

    it('the same URL answers HTML to a browser, with Vary: Accept', async () => {
      const response = await request(port, '/sorted/', { headers: { Accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.headers['vary']).toMatch(/\bAccept\b/);
    });
  });

  describe('what a listing shows', () => {
    it('hides dot entries unless dotfiles are served', async () => {
      expect((await listJson('/hidden/')).entries.map((entry) => entry.name)).toEqual(['visible.txt']);
      expect((await listJson('/hidden/', dotPort)).entries.map((entry) => entry.name)).toEqual(['.config', '.env', 'visible.txt']);
      expect((await listJson('/')).entries.map((entry) => entry.name)).toContain('.well-known');
    });

    it('lists symlinks that stay inside the root, not those that escape', async () => {
      const names = (await listJson('/links/')).entries.map((entry) => entry.name);
      expect(names.sort()).toEqual(['inside-link.txt', 'target.txt']);
      const html = (await request(port, '/links/')).text;
      expect(html).not.toContain('escaping');
    });

    it('lists a folder of 10,000 files', async () => {
      const big = join(base, 'site', 'ten-thousand');
      // Exactly 10,000 entries: a page holds that many, so this one is listed whole.
      // Made by the first transport's run, listed by each.
      if (!existsSync(big)) {
        mkdirSync(big);
        for (let i = 0; i < 10_000; i++) writeFileSync(join(big, `file-${i}.txt`), String(i));
      }
      const start = performance.now();
      const listing = await listJson('/ten-thousand/');
      const jsonMs = performance.now() - start;
      const htmlStart = performance.now();
      const html = await request(port, '/ten-thousand/');
      const htmlMs = performance.now() - htmlStart;
      console.log(`listing 10,000 files: JSON ${jsonMs.toFixed(0)} ms, HTML ${htmlMs.toFixed(0)} ms (${(html.body.length / 1024).toFixed(0)} KiB)`);
      expect(listing.entries.filter((entry) => entry.type === 'file')).toHaveLength(10_000);
      expect(html.text).not.toContain('class="paging"');
      expect(html.status).toBe(200);
      expect(html.text).toContain('>file-9999.txt<');
    });
  });
});
