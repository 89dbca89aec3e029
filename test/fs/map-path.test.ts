import { sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isHidden, isInside, mapRequestPath } from '../../src/fs/map-path.js';

const root = '/srv/site';

// [request target, expected: url path | status], with dotfiles hidden.
const cases: Array<[string, string | 400 | 404 | 414]> = [
  ['/', '/'],
  ['/index.html', '/index.html'],
  ['/a/b/', '/a/b/'],
  ['/a//b', '/a/b'],
  ['//a', '/a'],
  ['/a/./b', '/a/b'],
  ['/a/.', '/a/'],
  ['/a/b/..', '/a/'],
  ['/a/b/../c', '/a/c'],
  ['/a/%2e%2e/c', '/c'],
  ['/a/.%2E/c', '/c'],
  ['/hello%20world.txt', '/hello world.txt'],
  ['/caf%C3%A9.txt', '/café.txt'],
  ['/caf\u00c3\u00a9.txt', '/café.txt'], // raw UTF-8 bytes, as Node hands them over (latin1)
  ['/%252e%252e/secret', '/%2e%2e/secret'], // decoded once: a literal name, not a climb
  ['/a?x=1', '/a'],
  ['/a/?x=../..', '/a/'],
  ['/a#frag', '/a#frag'],
  ['/%E2%80%AE', '/\u202e'],
  ['/..', 400],
  ['/../etc/passwd', 400],
  ['/a/../../etc/passwd', 400],
  ['/%2e%2e/etc/passwd', 400],
  ['/%2e%2e%2fetc%2fpasswd', 400],
  ['/a%2fb', 400],
  ['/a%2Fb', 400],
  ['/a\\b', 400],
  ['/..\\..\\etc\\passwd', 400],
  ['/a%5cb', 400],
  ['/a%00b', 400],
  ['/a\0b', 400],
  ['/a%zz', 400],
  ['/a%', 400],
  ['/a%2', 400],
  ['/%C0%AE%C0%AE/x', 400], // overlong UTF-8 for '.'
  ['/%e0%80%ae', 400],
  ['/%ff', 400],
  ['/\u00ff', 400], // a raw byte that is not UTF-8
  ['a/b', 400],
  ['*', 400],
  ['', 400],
  ['/.env', 404],
  ['/.git/config', 404],
  ['/.git/./config', 404],
  ['//.git//config', 404],
  ['/dir/../.env', 404],
  ['/.env/.', 404],
  ['/.env?x=1', 404],
  ['/%2eenv', 404],
  ['/a/.hidden/b', 404],
  ['/.well-known/security.txt', '/.well-known/security.txt'],
  ['/.well-known/', '/.well-known/'],
  ['/.well-known/.secret', 404],
  ['/a/.well-known/x', 404],
  [`/${'a'.repeat(256)}`, 404],
  [`/${'a'.repeat(255)}`, `/${'a'.repeat(255)}`],
  [`/${'abcdefgh/'.repeat(500)}`, 414],
];

describe('mapRequestPath', () => {
  it.each(cases)('%j -> %j', (target, expected) => {
    const result = mapRequestPath(target, root, false);
    if (typeof expected === 'number') {
      expect(result).toEqual({ ok: false, status: expected });
    } else {
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.path.urlPath).toBe(expected);
      expect(isInside(root, result.path.absolute)).toBe(true);
    }
  });

  it('keeps the absolute path inside the root and the query verbatim', () => {
    const result = mapRequestPath('/docs/a%20b/?sort=size&order=desc', root, false);
    expect(result).toEqual({
      ok: true,
      path: {
        urlPath: '/docs/a b/',
        segments: ['docs', 'a b'],
        absolute: `${root}${sep}docs${sep}a b`,
        trailingSlash: true,
        query: '?sort=size&order=desc',
      },
    });
  });

  it('serves dotfiles when allowed, still never above the root', () => {
    expect(mapRequestPath('/.env', root, true).ok).toBe(true);
    expect(mapRequestPath('/.git/config', root, true).ok).toBe(true);
    expect(mapRequestPath('/.git/../../x', root, true)).toEqual({ ok: false, status: 400 });
  });

  it('maps the root of "/" without doubling the separator', () => {
    const result = mapRequestPath('/etc/hosts', '/', false);
    expect(result.ok && result.path.absolute).toBe('/etc/hosts');
  });
});

describe('isInside', () => {
  it.each([
    ['/srv/site', '/srv/site', true],
    ['/srv/site', '/srv/site/a', true],
    ['/srv/site', '/srv/site-secret/a', false],
    ['/srv/site', '/srv/sit', false],
    ['/srv/site', '/srv', false],
    ['/', '/anything', true],
  ])('%s contains %s: %s', (base, candidate, expected) => {
    expect(isInside(base, candidate)).toBe(expected);
  });
});

describe('isHidden', () => {
  it.each([
    [['a', 'b'], false],
    [['.env'], true],
    [['a', '.git', 'config'], true],
    [['.well-known', 'x'], false],
    [['.well-known', '.x'], true],
    [['a', '.well-known'], true],
    [['...'], true],
  ])('%j: %s', (segments, expected) => {
    expect(isHidden(segments)).toBe(expected);
  });
});

describe('mapRequestPath on Windows', () => {
  // Names that Windows resolves to another file (8.3 short names, trailing dots and
  // spaces, alternate data streams) or to a device: each could reach a hidden file.
  it.each([
    ['/GIT~1/config', 404],
    ['/ENV~1', 404],
    ['/.env.', 404],
    ['/.env%20', 404],
    ['/index.html.', 404],
    ['/index.html%20', 404],
    ['/.env::$DATA', 404],
    ['/index.html::$DATA', 404],
    ['/c:/windows/win.ini', 404],
    ['/NUL', 404],
    ['/con.txt', 404],
    ['/COM1', 404],
    ['/lpt9.log', 404],
  ] as const)('%s -> %d', (target, status) => {
    expect(mapRequestPath(target, 'C:\\site', false, true)).toEqual({ ok: false, status });
  });

  it.each(['/index.html', '/tilde~name.txt', '/console.log.txt', '/nullable.js', '/a b/c.txt', '/com10.txt'])(
    '%s is an ordinary name',
    (target) => {
      expect(mapRequestPath(target, 'C:\\site', false, true).ok).toBe(true);
    },
  );

  it('leaves these names alone elsewhere, where they mean what they say', () => {
    expect(mapRequestPath('/GIT~1', '/srv/site', false, false).ok).toBe(true);
    expect(mapRequestPath('/a:b', '/srv/site', false, false).ok).toBe(true);
  });
});
