// The pages serve-dir generates, as strings: error pages (escaping, links, the default
// sentences), the listing's icons and sort headers, and the Content-Security-Policy of
// each allowing exactly the stylesheet the page carries.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { renderErrorPage } from '../../src/error-page.js';
import type { ListingEntry } from '../../src/fs/read-directory.js';
import { renderListingHtml } from '../../src/listing/html.js';
import type { SortSpec } from '../../src/listing/sort.js';
import { fileKind } from '../../src/listing/kind.js';
import { ERROR_PAGE_POLICY, ERROR_STYLE, LISTING_POLICY, LISTING_STYLE, styleHashSource } from '../../src/page-style.js';

/** The text of every <style> element, as the browser hashes it. */
function styles(html: string): string[] {
  return [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((match) => match[1] as string);
}

/** The `style-src` sources of a policy. */
function styleSources(policy: string): string[] {
  const directive = policy.split(';').map((part) => part.trim()).find((part) => part.startsWith('style-src '));
  return directive?.split(/\s+/).slice(1) ?? [];
}

function sha256Source(css: string): string {
  return `'sha256-${createHash('sha256').update(css).digest('base64')}'`;
}

const LISTING = renderListingHtml({
  urlPath: '/docs/',
  entries: [{ name: 'a.txt', type: 'file', size: 1, mtimeMs: 0 }],
  sort: { key: 'name', order: 'asc' },
});

describe('Content-Security-Policy of the generated pages', () => {
  it.each([
    ['an error page', renderErrorPage({ status: 404 }), ERROR_PAGE_POLICY],
    ['an error page with links', renderErrorPage({ status: 404, links: [{ href: '/', label: '/' }] }), ERROR_PAGE_POLICY],
    ['a listing', LISTING, LISTING_POLICY],
  ])('%s: its one stylesheet is exactly the one the policy allows by hash', (_, html, policy) => {
    const [css, ...others] = styles(html);
    expect(others).toEqual([]);
    expect(styleSources(policy)).toEqual([sha256Source(css as string)]);
  });

  it.each([
    ['error pages', ERROR_PAGE_POLICY],
    ['listings', LISTING_POLICY],
  ])('%s load nothing else: no script, no connection, no frame, images only as data:', (_, policy) => {
    const directives = policy.split(';').map((part) => part.trim());
    expect(directives[0]).toBe("default-src 'none'");
    expect(directives.filter((part) => !part.startsWith('style-src '))).toEqual(["default-src 'none'", 'img-src data:']);
    expect(policy).not.toMatch(/unsafe|script-src|\*/);
  });

  it('hashes as CSP does: base64 of the SHA-256 of the UTF-8 text', () => {
    expect(styleHashSource('')).toBe("'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='");
    expect(styleHashSource(ERROR_STYLE)).toBe(sha256Source(ERROR_STYLE));
    expect(styleHashSource(LISTING_STYLE)).not.toBe(styleHashSource(ERROR_STYLE));
  });
});

describe('renderErrorPage', () => {
  it.each([
    [400, '400 Bad Request', 'malformed'],
    [401, '401 Unauthorized', 'user name and password'],
    [403, '403 Forbidden', 'may not be shown'],
    [404, '404 Not Found', 'Nothing is served at this address'],
    [405, '405 Method Not Allowed', 'GET and HEAD'],
    [412, '412 Precondition Failed', 'Reload'],
    [416, '416 Range Not Satisfiable', 'Range header'],
    [500, '500 Internal Server Error', 'other requests are still served'],
    [502, '502 Bad Gateway', 'Check that it is running'],
    [503, '503 Service Unavailable', 'Try again in a moment'],
    [504, '504 Gateway Timeout', 'did not answer in time'],
    [599, '599 Error', undefined],
  ])('%i: heading %j and its own sentence', (status, heading, sentence) => {
    const html = renderErrorPage({ status });
    expect(html).toContain(`<title>${heading}</title>`);
    expect(html).toContain(`<h1>${heading}</h1>`);
    if (sentence === undefined) expect(html).not.toContain('<p>');
    else expect(/<p>([^<]*)<\/p>/.exec(html)?.[1]).toContain(sentence);
  });

  it('takes a title, an explanation and a hint (trusted HTML) from the caller', () => {
    const html = renderErrorPage({
      status: 502,
      title: 'Proxy error',
      explanation: 'Nothing answers at <code>localhost:5000</code>.',
      hint: 'Start the app, or check <code>--proxy</code>.',
    });
    expect(html).toContain('<h1>502 Proxy error</h1>');
    expect(html).toContain('<p>Nothing answers at <code>localhost:5000</code>.</p>');
    expect(html).toContain('<p class="hint">Start the app, or check <code>--proxy</code>.</p>');
  });

  it('is a self-contained page for phones and dark mode, with an empty tab icon', () => {
    const html = renderErrorPage({ status: 404 });
    expect(html.startsWith('<!doctype html>\n')).toBe(true);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('<meta name="color-scheme" content="light dark">');
    expect(html).toContain('@media (prefers-color-scheme:dark)');
    expect(html).toContain('<link rel="icon" href="data:,">');
    expect(html).not.toMatch(/<script|@import|src=|https?:/i);
  });

  it.each([
    // [link as given, the <li> as written]
    [{ href: '/', label: '/', note: 'the top folder' }, '<li><a href="/"><span class="path" dir="auto">/</span> <span class="note">the top folder</span></a></li>'],
    [
      { href: '/a%20%20b/', label: '/a  b/' },
      '<li><a href="/a%20%20b/"><span class="path" dir="auto">/a  b/</span></a></li>',
    ],
    [
      { href: '/%3Cscript%3E/', label: '/<script>alert(1)</script>/' },
      '<li><a href="/%3Cscript%3E/"><span class="path" dir="auto">/&lt;script&gt;alert(1)&lt;/script&gt;/</span></a></li>',
    ],
    [
      { href: '/x"onmouseover="alert(1)/', label: `/it's "q"/` },
      '<li><a href="/x&quot;onmouseover=&quot;alert(1)/"><span class="path" dir="auto">/it&#39;s &quot;q&quot;/</span></a></li>',
    ],
    [{ href: '/%E2%80%AEgnp/', label: '/\u202Egnp/' }, '<li><a href="/%E2%80%AEgnp/"><span class="path" dir="auto">/\ufffdgnp/</span></a></li>'],
    [{ href: '/new%0Aline/', label: '/new\nline/' }, '<li><a href="/new%0Aline/"><span class="path" dir="auto">/new\u240aline/</span></a></li>'],
    [{ href: '/', label: '/', note: '<b>&' }, '<li><a href="/"><span class="path" dir="auto">/</span> <span class="note">&lt;b&gt;&amp;</span></a></li>'],
  ])('writes the link %j inertly', (link, item) => {
    const html = renderErrorPage({ status: 404, links: [link] });
    expect(html).toContain(`<ul>\n${item}\n</ul>`);
    expect(html).not.toContain('<script>alert');
  });

  it('writes no list when there are no links', () => {
    expect(renderErrorPage({ status: 404 })).not.toContain('<ul>');
  });
});

describe('the listing page', () => {
  const entries: ListingEntry[] = [
    { name: 'sub', type: 'directory', size: 0, mtimeMs: 0 },
    { name: 'photo.PNG', type: 'file', size: 1, mtimeMs: 0 },
    { name: 'notes', type: 'file', size: 1, mtimeMs: 0 },
  ];
  const html = renderListingHtml({ urlPath: '/a/', entries, sort: { key: 'size', order: 'desc' } });

  it('has no link with a query: a crawler (wget --mirror) finds one URL per folder', () => {
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1] as string);
    expect(hrefs.length).toBeGreaterThan(3);
    expect(hrefs.filter((href) => href.includes('?'))).toEqual([]);
    // The forms that sort name no URL of their own.
    expect(html).not.toMatch(/action=|formaction=/);
    expect([...html.matchAll(/<form>/g)]).toHaveLength(3);
  });

  it('sorts through GET forms that ask for the same query the links did', () => {
    expect(html).toContain('<input type="hidden" name="sort" value="size"><button name="order" value="asc">Size');
    expect(html).toContain('<input type="hidden" name="sort" value="name"><button name="order" value="asc">Name');
  });

  it('marks each entry with its icon class and keeps runs of spaces', () => {
    expect(html).toContain('<a href="./sub/" class="dir" dir="auto">sub/</a>');
    expect(html).toContain('<a href="./photo.PNG" class="image" dir="auto">photo.PNG</a>');
    expect(html).toContain('<a href="./notes" dir="auto">notes</a>');
    expect(html).toContain('<a href="../" class="up" aria-label="Parent folder">../</a>');
    expect(LISTING_STYLE).toMatch(/td\.name a\{[^}]*white-space:pre-wrap/);
    for (const kind of ['dir', 'up', 'image', 'code', 'archive', 'media', 'text']) {
      expect(LISTING_STYLE).toContain(`td.name a.${kind}::before{mask-image:url("data:image/svg+xml,`);
    }
  });

  it.each<[SortSpec, string]>([
    [{ key: 'name', order: 'asc' }, './'],
    [{ key: 'size', order: 'desc' }, '?sort=size&amp;order=desc&amp;offset=0'],
  ])('pages back to the first page in %j order by the link %j', (sort, href) => {
    const big = renderListingHtml({ urlPath: '/a/', entries, sort, window: { offset: 3, total: 6, pageSize: 3 } });
    expect(big).toContain(`<a href="${href}" rel="prev">Previous 3</a>`);
  });

  it('asks for no tab icon', () => {
    expect(html).toContain('<link rel="icon" href="data:,">');
  });
});

describe('fileKind', () => {
  it.each([
    ['photo.jpg', 'image'],
    ['PHOTO.JPEG', 'image'],
    ['logo.svg', 'image'],
    ['clip.mp4', 'media'],
    ['song.flac', 'media'],
    ['site.tar.gz', 'archive'],
    ['bundle.zip', 'archive'],
    ['main.ts', 'code'],
    ['index.html', 'code'],
    ['data.json', 'code'],
    ['README.md', 'text'],
    ['notes.txt', 'text'],
    ['Makefile', 'file'],
    ['.gitignore', 'file'],
    ['trailing.', 'file'],
    ['archive.unknownext', 'file'],
    ['\u202Egnp.exe', 'file'],
  ])('%j → %s', (name, kind) => {
    expect(fileKind(name)).toBe(kind);
  });
});
