import { describe, expect, it } from 'vitest';
import {
  applyUserHeaders,
  compilePathGlob,
  createHeaderRules,
  parseHeaderLine,
  type HeaderField,
} from '../../src/http/header-rules.js';
import { UsageError } from '../../src/options.js';

describe('parseHeaderLine: -H "Name: value"', () => {
  // [flag value, expected field]
  const valid: Array<[string, HeaderField]> = [
    ['X-Frame-Options: DENY', { name: 'X-Frame-Options', value: 'DENY' }],
    ['Cross-Origin-Opener-Policy:same-origin', { name: 'Cross-Origin-Opener-Policy', value: 'same-origin' }],
    ['X-A:   padded \t', { name: 'X-A', value: 'padded' }], // OWS is not part of the value
    ['X-Empty:', { name: 'X-Empty', value: '' }],
    ['X-Url: http://a/b?c=d:e', { name: 'X-Url', value: 'http://a/b?c=d:e' }], // first colon splits
    ["x!#$%&'*+-.^_`|~9: v", { name: "x!#$%&'*+-.^_`|~9", value: 'v' }], // every tchar
    ['X-Tab: a\tb', { name: 'X-Tab', value: 'a\tb' }],
    ['X-Latin1: caf\u00e9', { name: 'X-Latin1', value: 'caf\u00e9' }], // obs-text
    ['Cache-Control: no-store', { name: 'Cache-Control', value: 'no-store' }],
  ];
  it.each(valid)('%j', (line, expected) => {
    expect(parseHeaderLine(line)).toEqual(expected);
  });

  // [flag value, what the one-line error must say]
  const invalid: Array<[string, RegExp]> = [
    ['X-Frame-Options DENY', /expected "Name: value"/],
    ['X Frame: DENY', /the name "X Frame" must be a token/],
    ['X-A : 1', /the name "X-A " must be a token/], // RFC 9112 §5.1: no space before the colon
    [': value', /the name "" must be a token/],
    ['X-\u00e9: 1', /must be a token/],
    ['X-A: 1\r\nSet-Cookie: a=b', /contains CR/],
    ['X-A: 1\nX-B: 2', /contains LF/],
    ['X-A: a\0b', /contains NUL/],
    ['X-A: a\x7fb', /contains U\+007F/],
    ['X-A: \u2603', /contains U\+2603/], // Node would throw on every response
    ['Content-Length: 5', /Content-Length is set by serve-dir/],
    ['transfer-encoding: chunked', /cannot be overridden/],
    ['Connection: close', /cannot be overridden/],
  ];
  it.each(invalid)('%j is a usage error', (line, message) => {
    let error: unknown;
    try {
      parseHeaderLine(line);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    const text = (error as Error).message;
    expect(text).toMatch(message);
    expect(text).toMatch(/^invalid --header /);
    expect(text).not.toMatch(/[\r\n]/); // one line, even when the header held a newline
  });
});

describe('compilePathGlob: the documented dialect', () => {
  // [pattern, path, matches]
  const rows: Array<[string, string, boolean]> = [
    ['/assets/**', '/assets/app.js', true],
    ['/assets/**', '/assets/img/deep/x.png', true],
    ['/assets/**', '/assets/', true],
    ['/assets/**', '/assets', true],
    ['/assets/**', '/assetsx/a.js', false],
    ['/assets/**', '/other/assets/a.js', false],
    ['/api/*', '/api/users', true],
    ['/api/*', '/api/', true],
    ['/api/*', '/api/users/1', false],
    ['/api/*', '/api', false],
    ['*.js', '/app.js', true],
    ['*.js', '/a/b/c/app.js', true],
    ['*.js', '/app.json', false],
    ['*.js', '/js/', false],
    ['*.js', '/a.js/b', false],
    ['robots.txt', '/robots.txt', true],
    ['robots.txt', '/x/robots.txt', true],
    ['/robots.txt', '/x/robots.txt', false],
    ['/a/**/b.js', '/a/b.js', true],
    ['/a/**/b.js', '/a/x/y/b.js', true],
    ['/a/**/b.js', '/a/x/y/c.js', false],
    ['/*.html', '/index.html', true],
    ['/*.html', '/docs/index.html', false],
    ['/docs/', '/docs/', true],
    ['/docs/', '/docs', false],
    ['/', '/', true],
    ['/**', '/anything/at/all', true],
    ['**', '/anything', true],
    ['/file(1).txt', '/file(1).txt', true], // regex characters are literal
    ['/a.b', '/aXb', false],
    ['/a?b', '/a?b', true], // "?" is literal: it starts the query in a URL
    ['/a?b', '/axb', false],
    ['/CaSe', '/case', false],
    ['/café/*', '/café/menu', true], // decoded paths
  ];
  it.each(rows)('%s ~ %s -> %s', (pattern, path, matches) => {
    expect(compilePathGlob(pattern)(path)).toBe(matches);
  });

  const malformed: Array<[string, RegExp]> = [
    ['', /empty pattern/],
    ['assets/**', /start it with "\/"/],
    ['/a**b', /"\*\*" must be a whole segment/],
  ];
  it.each(malformed)('%j is refused', (pattern, message) => {
    expect(() => compilePathGlob(pattern)).toThrow(message);
  });
});

describe('createHeaderRules: global and path-scoped headers', () => {
  const rules = createHeaderRules(
    [parseHeaderLine('X-Global: 1'), parseHeaderLine('Cache-Control: no-store')],
    [
      { source: '/assets/**', headers: { 'Cache-Control': 'max-age=31536000, immutable' } },
      { source: '*.js', headers: { 'X-Script': 'yes', 'x-global': 'js' } },
      { source: '/assets/legacy/*', headers: { 'cache-control': 'no-cache' } },
    ],
  );
  // [path, expected fields in order]
  const rows: Array<[string, Array<[string, string]>]> = [
    ['/index.html', [['X-Global', '1'], ['Cache-Control', 'no-store']]],
    ['/assets/logo.png', [['X-Global', '1'], ['Cache-Control', 'max-age=31536000, immutable']]],
    ['/assets/app.js', [['Cache-Control', 'max-age=31536000, immutable'], ['X-Script', 'yes'], ['x-global', 'js']]],
    ['/assets/legacy/old.png', [['X-Global', '1'], ['cache-control', 'no-cache']]], // later rule wins
  ];
  it.each(rows)('%s', (path, expected) => {
    expect(rules.forPath(path).map((field) => [field.name, field.value])).toEqual(expected);
  });

  it('is empty without headers, so the stage can be left out', () => {
    expect(createHeaderRules([]).empty).toBe(true);
    expect(createHeaderRules([], [{ source: '/x', headers: {} }]).empty).toBe(true);
    expect(rules.empty).toBe(false);
  });

  it('a -H given twice keeps one value, the last', () => {
    const twice = createHeaderRules([parseHeaderLine('X-A: 1'), parseHeaderLine('x-a: 2')]);
    expect(twice.forPath('/')).toEqual([{ name: 'x-a', value: '2' }]);
  });

  const bad: Array<[string, Record<string, string>, RegExp]> = [
    ['assets/**', { 'X-A': '1' }, /^invalid headers\[0\]\.source "assets\/\*\*"/],
    ['/ok', { 'Bad Name': '1' }, /^invalid headers\[0\] header "Bad Name": the name/],
    ['/ok', { 'X-A': 'a\r\nb' }, /^invalid headers\[0\] header "X-A": the value of X-A contains CR/],
  ];
  it.each(bad)('a bad rule (%s) is a usage error naming it', (source, headers, message) => {
    expect(() => createHeaderRules([], [{ source, headers }])).toThrow(message);
  });
});

describe('applyUserHeaders: user headers override built-in ones of the same name', () => {
  it('replaces, whatever the case, and keeps the rest', () => {
    const builtIn = { 'content-type': 'text/html', 'cache-control': 'no-cache', ETag: '"x"' };
    const merged = applyUserHeaders(builtIn, [
      { name: 'Cache-Control', value: 'no-store' },
      { name: 'etag', value: '"mine"' },
      { name: 'Cross-Origin-Embedder-Policy', value: 'require-corp' },
    ]);
    expect(merged).toEqual({
      'content-type': 'text/html',
      'cache-control': 'no-store',
      etag: '"mine"',
      'cross-origin-embedder-policy': 'require-corp',
    });
    expect(builtIn['cache-control']).toBe('no-cache'); // not mutated
  });

  // [built-in Vary, user Vary, sent]
  const vary: Array<[string | undefined, string, string]> = [
    ['Accept-Encoding', 'Origin', 'Accept-Encoding, Origin'],
    ['Accept-Encoding', 'accept-encoding, Origin', 'accept-encoding, Origin'],
    [undefined, 'Origin', 'Origin'],
    ['Accept-Encoding', '*', '*'],
  ];
  it.each(vary)('Vary is joined, never replaced: %j + %j -> %j', (builtIn, user, sent) => {
    const headers = builtIn === undefined ? {} : { vary: builtIn };
    expect(applyUserHeaders(headers, [{ name: 'Vary', value: user }])).toEqual({ vary: sent });
  });

  it('returns the same object when there is nothing to add (no allocation on the hot path)', () => {
    const builtIn = { a: '1' };
    expect(applyUserHeaders(builtIn, [])).toBe(builtIn);
  });
});
