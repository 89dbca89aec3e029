import { describe, expect, it } from 'vitest';
import type { ListingEntry } from '../../src/fs/read-directory.js';
import { renderListingHtml, type ListingPage } from '../../src/listing/html.js';
import type { SortSpec } from '../../src/listing/sort.js';
import { HOSTILE_NAMES, unescapeAttribute } from './support.js';

const NAME_ASC: SortSpec = { key: 'name', order: 'asc' };
const MAY_2024 = Date.UTC(2024, 4, 1, 9, 30, 15);

function page(overrides: Partial<ListingPage> = {}): ListingPage {
  return { urlPath: '/dir/', entries: [], sort: NAME_ASC, ...overrides };
}

/** The body rows of the table, one string each. */
function rows(html: string): string[] {
  const body = /<tbody>([\s\S]*)<\/tbody>/.exec(html)?.[1] ?? '';
  return body.split('\n').filter((row) => row.startsWith('<tr>'));
}

function nameLink(row: string): { href: string; text: string } {
  const match = /<td class="name"><a href="([^"]*)"[^>]*>([^<]*)<\/a><\/td>/.exec(row);
  if (match === null) throw new Error(`no name link in ${row}`);
  return { href: match[1] as string, text: match[2] as string };
}


/**
 * Names that, written raw, would open a tag or end an attribute. (A raw `&` can
 * only garble text, and `&amp;` is legitimately in every page, so names with
 * just `&` are checked through their exact escaped text instead.)
 */
const CAN_BREAK_OUT = /[<>"']/;

describe('renderListingHtml: names and links', () => {
  describe.each(['file', 'directory'] as const)('as a %s', (type) => {
    const slash = type === 'directory' ? '/' : '';

    it.each(HOSTILE_NAMES)('%j', (name, text, href) => {
      const entry: ListingEntry = { name, type, size: 10, mtimeMs: MAY_2024 };
      const html = renderListingHtml(page({ entries: [entry] }));
      const link = nameLink(rows(html)[1] as string); // row 0 is the parent link

      expect(link.text).toBe(text + slash);
      expect(link.href).toBe(href + slash);
      const decoded = decodeURIComponent(unescapeAttribute(link.href).slice('./'.length));
      expect(decoded).toBe(name + slash);
      if (CAN_BREAK_OUT.test(name)) expect(html).not.toContain(name);
    });
  });

  it('writes no raw hostile name anywhere in a page listing all of them', () => {
    const entries = HOSTILE_NAMES.map(([name]): ListingEntry => ({ name, type: 'file', size: 1, mtimeMs: 0 }));
    const html = renderListingHtml(page({ entries }));
    for (const [name] of HOSTILE_NAMES) {
      if (CAN_BREAK_OUT.test(name)) expect(html).not.toContain(name);
    }
    expect(html).not.toMatch(/<script|<img|onmouseover="|onclick='/i);
  });
});

describe('renderListingHtml: page', () => {
  it('is a self-contained HTML5 document for phones and dark mode', () => {
    const html = renderListingHtml(page());
    expect(html.startsWith('<!doctype html>\n')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('@media (prefers-color-scheme:dark)');
    expect(html).toContain('<style>');
    // Nothing to fetch, nothing to run (the icons are data: URLs).
    expect(html).not.toMatch(/<script|<link rel="stylesheet"|@import|url\((?!"data:)|src=|https?:/i);
  });

  it('has exactly one </body> for the live-reload script to go before', () => {
    const html = renderListingHtml(page({ urlPath: '/</body>/', entries: [{ name: '</body>', type: 'file', size: 0, mtimeMs: 0 }] }));
    expect(html.split('</body>').length).toBe(2);
    expect(html.trimEnd().endsWith('</body>\n</html>')).toBe(true);
  });

  it.each([
    ['/', '<h1>Index of /</h1>'],
    ['/docs/', '<h1>Index of <a href="../">/</a><span dir="auto" aria-current="page">docs</span>/</h1>'],
    [
      '/docs/a b/',
      '<h1>Index of <a href="../../">/</a><a href="../" dir="auto">docs</a>/<span dir="auto" aria-current="page">a b</span>/</h1>',
    ],
    [
      '/<x>/"q"/',
      '<h1>Index of <a href="../../">/</a><a href="../" dir="auto">&lt;x&gt;</a>/<span dir="auto" aria-current="page">&quot;q&quot;</span>/</h1>',
    ],
  ])('shows %j with each ancestor as a relative link', (urlPath, heading) => {
    expect(renderListingHtml(page({ urlPath }))).toContain(heading);
  });

  it.each([
    ['/', '<title>Index of /</title>'],
    ['/docs/a b/', '<title>Index of /docs/a b/</title>'],
    ['/<x>&"y"/', '<title>Index of /&lt;x&gt;&amp;&quot;y&quot;/</title>'],
    ['/tab\there/', '<title>Index of /tab\u2409here/</title>'],
  ])('titles %j', (urlPath, title) => {
    expect(renderListingHtml(page({ urlPath }))).toContain(title);
  });

  it('links the parent folder except at the root', () => {
    expect(rows(renderListingHtml(page({ urlPath: '/a/' })))[0]).toContain('<a href="../" class="up" aria-label="Parent folder">../</a>');
    expect(renderListingHtml(page({ urlPath: '/' }))).not.toContain('href="../"');
  });

  it('says so when a folder is empty', () => {
    expect(rows(renderListingHtml(page({ urlPath: '/' })))).toEqual([
      '<tr><td class="empty" colspan="3">This folder is empty.</td></tr>',
    ]);
  });

  it('shows sizes for files, a dash for folders, and the time in UTC', () => {
    const html = renderListingHtml(
      page({
        urlPath: '/',
        entries: [
          { name: 'docs', type: 'directory', size: 0, mtimeMs: MAY_2024 },
          { name: 'photo.jpg', type: 'file', size: 1536, mtimeMs: MAY_2024 },
        ],
      }),
    );
    expect(rows(html)).toEqual([
      '<tr><td class="name"><a href="./docs/" class="dir" dir="auto">docs/</a></td><td class="size">—</td>' +
        '<td class="mtime"><time datetime="2024-05-01T09:30:15.000Z"><span>2024-05-01</span> <span>09:30</span></time></td></tr>',
      '<tr><td class="name"><a href="./photo.jpg" class="image" dir="auto">photo.jpg</a></td><td class="size"><data value="1536">1.5 KiB</data></td>' +
        '<td class="mtime"><time datetime="2024-05-01T09:30:15.000Z"><span>2024-05-01</span> <span>09:30</span></time></td></tr>',
    ]);
  });

  it('leaves the date blank when no Date can hold the mtime', () => {
    const html = renderListingHtml(page({ entries: [{ name: 'far', type: 'file', size: 0, mtimeMs: 9e15 }] }));
    expect(rows(html)[1]).toContain('<td class="mtime"></td>');
  });

  it('keeps the entries in the order given', () => {
    const entries = ['b', 'c', 'a'].map((name): ListingEntry => ({ name, type: 'file', size: 0, mtimeMs: 0 }));
    const shown = rows(renderListingHtml(page({ urlPath: '/', entries }))).map((row) => nameLink(row).href);
    expect(shown).toEqual(['./b', './c', './a']);
  });

  function headers(sort: SortSpec): string {
    return /<thead><tr>(.*)<\/tr><\/thead>/.exec(renderListingHtml(page({ sort })))?.[1] ?? '';
  }

  it.each<[SortSpec, string]>([
    [
      { key: 'name', order: 'asc' },
      '<th scope="col" class="name" aria-sort="ascending"><form><input type="hidden" name="sort" value="name"><button name="order" value="desc">Name<span aria-hidden="true"> ↑</span></button></form></th>' +
        '<th scope="col" class="size"><form><input type="hidden" name="sort" value="size"><button name="order" value="asc">Size</button></form></th>' +
        '<th scope="col" class="mtime"><form><input type="hidden" name="sort" value="mtime"><button name="order" value="asc">Modified<span class="wide"> (UTC)</span></button></form></th>',
    ],
    [
      { key: 'name', order: 'desc' },
      '<th scope="col" class="name" aria-sort="descending"><form><input type="hidden" name="sort" value="name"><button name="order" value="asc">Name<span aria-hidden="true"> ↓</span></button></form></th>' +
        '<th scope="col" class="size"><form><input type="hidden" name="sort" value="size"><button name="order" value="asc">Size</button></form></th>' +
        '<th scope="col" class="mtime"><form><input type="hidden" name="sort" value="mtime"><button name="order" value="asc">Modified<span class="wide"> (UTC)</span></button></form></th>',
    ],
    [
      { key: 'size', order: 'desc' },
      '<th scope="col" class="name"><form><input type="hidden" name="sort" value="name"><button name="order" value="asc">Name</button></form></th>' +
        '<th scope="col" class="size" aria-sort="descending"><form><input type="hidden" name="sort" value="size"><button name="order" value="asc">Size<span aria-hidden="true"> ↓</span></button></form></th>' +
        '<th scope="col" class="mtime"><form><input type="hidden" name="sort" value="mtime"><button name="order" value="asc">Modified<span class="wide"> (UTC)</span></button></form></th>',
    ],
    [
      { key: 'mtime', order: 'asc' },
      '<th scope="col" class="name"><form><input type="hidden" name="sort" value="name"><button name="order" value="asc">Name</button></form></th>' +
        '<th scope="col" class="size"><form><input type="hidden" name="sort" value="size"><button name="order" value="asc">Size</button></form></th>' +
        '<th scope="col" class="mtime" aria-sort="ascending"><form><input type="hidden" name="sort" value="mtime"><button name="order" value="desc">Modified<span class="wide"> (UTC)</span><span aria-hidden="true"> ↑</span></button></form></th>',
    ],
  ])('column headers for %j sort, and the current one flips', (sort, expected) => {
    expect(headers(sort)).toBe(expected);
  });
});
