import { describe, expect, it } from 'vitest';
import { contentTypeFor } from '../../src/fs/content-type.js';
import { mapRequestPath } from '../../src/fs/map-path.js';
import {
  acceptsHtml,
  fallbackFileSegments,
  fileExtension,
  isSpaNavigation,
  resolveCleanUrl,
  type CleanUrlOutcome,
  type EntryKind,
} from '../../src/http/navigation.js';

/** What the wiring passes: the server's own Content-Type table. */
const hasMediaType = (extension: string) => contentTypeFor(`file.${extension}`) !== 'application/octet-stream';

/** Chromium's Accept for a navigation. */
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

function segmentsOf(target: string): readonly string[] {
  const mapped = mapRequestPath(target, '/srv', true); // the guard's own 404 for dotfiles is tested elsewhere
  if (!mapped.ok) throw new Error(`unmappable test target ${target}`);
  return mapped.path.segments;
}

describe('isSpaNavigation: which misses get the app', () => {
  // [method, target as sent, gets the SPA page, Accept]
  const rows: Array<[string, string, boolean, string | undefined]> = [
    ['GET', '/dashboard', true, BROWSER],
    ['GET', '/dashboard/settings/profile', true, BROWSER],
    ['HEAD', '/dashboard', true, BROWSER],
    ['GET', '/dashboard?tab=2', true, BROWSER],
    ['GET', '/dashboard/', true, BROWSER],
    ['GET', '/', true, BROWSER],
    ['GET', '/v1.2/users', true, BROWSER], // a dot in an earlier segment
    ['GET', '/user/john.doe', true, BROWSER], // "doe" is no media type: a route
    ['GET', '/releases/v1.2', true, BROWSER],
    ['GET', '/caf%C3%A9/men%C3%BC', true, BROWSER], // percent-encoded segments
    ['GET', '/a%20b', true, BROWSER],
    ['GET', '/trailing.', true, BROWSER],
    ['GET', '/app.js', false, BROWSER], // asset misses stay 404
    ['GET', '/img/x.png', false, BROWSER],
    ['GET', '/report.PDF', false, BROWSER], // extensions are case-insensitive
    ['GET', '/missing.html', false, BROWSER],
    ['GET', '/archive.tar.gz', false, BROWSER],
    ['GET', '/app%2Ejs', false, BROWSER], // decoded: app.js
    ['GET', '/.env', false, BROWSER], // hidden names never
    ['GET', '/.config/app', false, BROWSER],
    ['POST', '/dashboard', false, BROWSER],
    ['OPTIONS', '/dashboard', false, BROWSER],
    ['GET', '/dashboard', false, '*/*'], // curl, fetch(), <script>
    ['GET', '/dashboard', false, undefined],
    ['GET', '/dashboard', false, 'image/avif,image/webp,*/*'], // an <img>
    ['GET', '/dashboard', false, 'text/css,*/*;q=0.1'], // a stylesheet
    ['GET', '/dashboard', false, 'text/html;q=0'],
    ['GET', '/dashboard', true, 'TEXT/HTML'],
  ];
  it.each(rows)('%s %s -> %s (Accept %j)', (method, target, expected, accept) => {
    expect(isSpaNavigation({ method, accept, segments: segmentsOf(target) }, hasMediaType)).toBe(expected);
  });
});

describe('acceptsHtml', () => {
  const rows: Array<[string | undefined, boolean]> = [
    [BROWSER, true],
    ['text/html', true],
    [' text/html ; charset=utf-8', true],
    ['text/html;q=0.1', true],
    ['text/html; q=0.000', false],
    ['text/html;q=0', false],
    ['application/json, text/html;level=1', true],
    ['text/*', false],
    ['*/*', false],
    ['text/htmlx', false],
    ['', false],
    [undefined, false],
  ];
  it.each(rows)('%j -> %s', (accept, expected) => {
    expect(acceptsHtml(accept)).toBe(expected);
  });
});

describe('fileExtension', () => {
  const rows: Array<[string, string | undefined]> = [
    ['app.js', 'js'],
    ['APP.JS', 'js'],
    ['archive.tar.gz', 'gz'],
    ['README', undefined],
    ['.env', undefined], // a dotfile's name is not an extension
    ['v1.', undefined],
    ['john.doe', 'doe'],
  ];
  it.each(rows)('%j -> %j', (name, expected) => {
    expect(fileExtension(name)).toBe(expected);
  });
});

describe('resolveCleanUrl: --clean-urls', () => {
  /** The served tree: paths relative to the root. */
  const tree = new Map<string, EntryKind>([
    ['about.html', 'file'],
    ['contact.html', 'file'],
    ['docs', 'directory'],
    ['docs/index.html', 'file'],
    ['docs/intro.html', 'file'],
    ['blog', 'directory'], // a folder and a page of the same name
    ['blog.html', 'file'],
    ['notes', 'file'], // a file without extension beside its .html
    ['notes.html', 'file'],
    ['index.html', 'file'],
    ['.secret.html', 'file'],
    ['caf\u00e9.html', 'file'],
    ['a b.html', 'file'],
  ]);
  const asked: string[] = [];
  const lookup = (segments: readonly string[]) => {
    asked.push(segments.join('/'));
    return Promise.resolve(tree.get(segments.join('/')));
  };

  // [target, what the path itself is, outcome]
  const rows: Array<[string, EntryKind, CleanUrlOutcome]> = [
    ['/about', undefined, { kind: 'serve', segments: ['about.html'] }],
    ['/about?x=1', undefined, { kind: 'serve', segments: ['about.html'] }],
    ['/docs/intro', undefined, { kind: 'serve', segments: ['docs', 'intro.html'] }],
    ['/about/', undefined, { kind: 'redirect', location: '/about' }],
    ['/about/?x=1&y=2', undefined, { kind: 'redirect', location: '/about?x=1&y=2' }],
    ['/about.html', 'file', { kind: 'redirect', location: '/about' }],
    ['/about.html?x=1', 'file', { kind: 'redirect', location: '/about?x=1' }],
    ['/docs/intro.html', 'file', { kind: 'redirect', location: '/docs/intro' }],
    ['/docs/index.html', 'file', { kind: 'redirect', location: '/docs/' }],
    ['/index.html?q', 'file', { kind: 'redirect', location: '/?q' }],
    ['/caf%C3%A9.html', 'file', { kind: 'redirect', location: '/caf%C3%A9' }],
    ['/caf%C3%A9', undefined, { kind: 'serve', segments: ['caf\u00e9.html'] }],
    ['/a%20b.html', 'file', { kind: 'redirect', location: '/a%20b' }],
    ['/blog.html', 'file', { kind: 'as-is' }], // /blog is the folder: a redirect would not come back
    ['/notes.html', 'file', { kind: 'as-is' }], // /notes is another file
    ['/docs', 'directory', { kind: 'as-is' }], // folders keep their slash rule and index.html
    ['/docs/', 'directory', { kind: 'as-is' }],
    ['/', 'directory', { kind: 'as-is' }],
    ['/style.css', 'file', { kind: 'as-is' }],
    ['/missing', undefined, { kind: 'as-is' }], // then the SPA fallback or 404
    ['/missing/', undefined, { kind: 'as-is' }],
    ['/missing.html', undefined, { kind: 'as-is' }],
    ['/about.html/', 'file', { kind: 'as-is' }],
    ['/contact.html.html', undefined, { kind: 'as-is' }],
  ];
  it.each(rows)('%s (%s) -> %j', async (target, found, expected) => {
    const mapped = mapRequestPath(target, '/srv', false);
    if (!mapped.ok) throw new Error(target);
    expect(await resolveCleanUrl(mapped.path, found, lookup)).toEqual(expected);
  });

  it('never reaches a hidden file, even with dotfiles served', async () => {
    asked.length = 0;
    const mapped = mapRequestPath('/.secret', '/srv', true);
    if (!mapped.ok) throw new Error('unmapped');
    expect(await resolveCleanUrl(mapped.path, undefined, lookup)).toEqual({ kind: 'as-is' });
    const html = mapRequestPath('/.secret.html', '/srv', true);
    if (!html.ok) throw new Error('unmapped');
    expect(await resolveCleanUrl(html.path, 'file', lookup)).toEqual({ kind: 'as-is' });
    expect(asked).toEqual([]); // not even looked up
  });

  it('accepts a synchronous lookup', async () => {
    expect(await resolveCleanUrl({ segments: ['about'], trailingSlash: false, query: '' }, undefined, (s) => tree.get(s.join('/')))).toEqual({
      kind: 'serve',
      segments: ['about.html'],
    });
  });
});

describe('fallbackFileSegments: --spa [file]', () => {
  const valid: Array<[string, string[]]> = [
    ['index.html', ['index.html']],
    ['200.html', ['200.html']],
    ['/app/shell.html', ['app', 'shell.html']],
  ];
  it.each(valid)('%j', (name, segments) => {
    expect(fallbackFileSegments(name)).toEqual(segments);
  });

  const invalid = ['../outside.html', 'a/../../b.html', '.hidden.html', 'app/.cache/x.html', 'a//b.html', 'a\\b.html', 'a\0b', '', '/', './index.html'];
  it.each(invalid)('%j is a usage error', (name) => {
    expect(() => fallbackFileSegments(name)).toThrow(/^invalid --spa: must name a file inside the served folder/);
  });
});
