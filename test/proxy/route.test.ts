/** Which requests go to which backend, at which path: tables of cases. */
import { describe, expect, it } from 'vitest';
import { backendPath, clientPathFor, compileProxyRoutes, escapesPrefix, matchProxyRoute, parseProxyFlag } from '../../src/proxy/route.js';

const routes = compileProxyRoutes({
  '/api': 'http://127.0.0.1:5000',
  '/api/v2': 'http://127.0.0.1:6000',
  '/strip/': { target: 'http://127.0.0.1:5000', rewrite: { from: '/strip', to: '' } },
  '/based': { target: 'http://backend.test:8080/app/', rewrite: { from: '/based', to: '/x' } },
});

describe('matchProxyRoute', () => {
  it.each([
    // target, backend origin, path asked of the backend
    ['/api', 'http://127.0.0.1:5000', '/api'],
    ['/api/', 'http://127.0.0.1:5000', '/api/'],
    ['/api/users?page=2&q=a%20b', 'http://127.0.0.1:5000', '/api/users?page=2&q=a%20b'],
    ['/api?x=1', 'http://127.0.0.1:5000', '/api?x=1'],
    ['/api/v2/items', 'http://127.0.0.1:6000', '/api/v2/items'], // longest prefix wins
    ['/api/v2x', 'http://127.0.0.1:5000', '/api/v2x'], // whole segments only
    ['/strip', 'http://127.0.0.1:5000', '/'],
    ['/strip/a/b?c', 'http://127.0.0.1:5000', '/a/b?c'],
    ['/based/y', 'http://backend.test:8080', '/app/x/y'],
    ['/api/a%20b/%C3%A9', 'http://127.0.0.1:5000', '/api/a%20b/%C3%A9'], // escapes forwarded as sent
    ['/api/.well-known/x', 'http://127.0.0.1:5000', '/api/.well-known/x'], // a dot name is not a dot segment
  ])('%s -> %s %s', (target, origin, path) => {
    const match = matchProxyRoute(routes, target);
    expect(match).not.toBe('refused');
    expect(match && match !== 'refused' ? [match.route.origin, match.path] : match).toEqual([origin, path]);
  });

  it.each([['/apiX'], ['/ap'], ['/'], ['/static/api'], ['//api'], ['http://127.0.0.1:5000/api'], ['*']])('%s is not proxied', (target) => {
    expect(matchProxyRoute(routes, target)).toBeUndefined();
  });

  it.each([
    ['/api/..'],
    ['/api/../secret'],
    ['/api/./x'],
    ['/api/%2e%2e/secret'],
    ['/api/%2E%2e/secret'],
    ['/api/.%2e/secret'],
    ['/api/%2e/secret'],
    ['/api/..;/secret'],
    ['/api/..;jsessionid=1/secret'],
    ['/api/a%2f..%2f..%2fsecret'],
    ['/api/a%2F..'],
    ['/api/a%5c..%5csecret'],
    ['/api/a\\..\\secret'],
    ['/api/x/..'],
  ])('%s is an escape: refused', (target) => {
    expect(matchProxyRoute(routes, target)).toBe('refused');
  });

  it('a dot segment in the query is not the path', () => {
    expect(escapesPrefix('/api/x')).toBe(false);
    expect(matchProxyRoute(routes, '/api/x?path=../etc')).toMatchObject({ path: '/api/x?path=../etc' });
  });
});

describe('backendPath', () => {
  const [route] = compileProxyRoutes({ '/api': { target: 'http://h/v1', rewrite: { from: '/api/', to: '/internal/' } } });
  it.each([
    ['/api', '/v1/internal'],
    ['/api/x', '/v1/internal/x'],
    ['/apix', '/v1/apix'], // the rewrite matches whole segments too
  ])('%s -> %s', (path, expected) => {
    expect(backendPath(route!, path)).toBe(expected);
  });
});

describe('clientPathFor, the inverse of backendPath', () => {
  it.each([
    [{ '/api': 'http://h' }, '/anything', '/anything'],
    [{ '/api': { target: 'http://h', rewrite: { from: '/api', to: '' } } }, '/login', '/api/login'],
    [{ '/api': { target: 'http://h', rewrite: { from: '/api', to: '' } } }, '/', '/api/'],
    [{ '/api': { target: 'http://h/v1' } }, '/v1/api/x', '/api/x'],
    [{ '/api': { target: 'http://h/v1' } }, '/v2/x', undefined],
    [{ '/api': { target: 'http://h/v1' } }, '/v1x', undefined],
    [{ '/api': { target: 'http://h', rewrite: { from: '/api', to: '/internal' } } }, '/internal/x', '/api/x'],
    [{ '/api': { target: 'http://h', rewrite: { from: '/api', to: '/internal' } } }, '/public', undefined],
  ] as const)('%j: %s -> %s', (table, path, expected) => {
    const [route] = compileProxyRoutes(table as Record<string, string>);
    expect(clientPathFor(route!, path)).toBe(expected);
    // And back: the client's path goes to the same backend path.
    if (expected !== undefined) expect(backendPath(route!, expected)).toBe(path);
  });
});

describe('parseProxyFlag', () => {
  it.each([
    ['/api=http://127.0.0.1:5000', ['/api', { target: 'http://127.0.0.1:5000' }]],
    ['/=http://[::1]:5000/base', ['/', { target: 'http://[::1]:5000/base' }]],
    ['/a=b=ws://localhost:1', null],
  ])('%s', (text, expected) => {
    if (expected === null) expect(() => parseProxyFlag(text)).toThrow(/^invalid --proxy: /);
    else expect(parseProxyFlag(text)).toEqual(expected);
  });

  it.each([
    ['api', /expected <prefix>=<url>/],
    ['=http://a', /expected <prefix>=<url>/],
    ['/api=localhost:5000', /must be an http\(s\) or ws\(s\) URL/],
    ['/api=http://u:p@h', /cannot carry credentials/],
    ['/api=http://h/?q', /cannot have a query/],
    ['/a/../b=http://h', /plain URL path/],
  ])('%s is refused in one line', (text, reason) => {
    expect(() => parseProxyFlag(text)).toThrow(reason);
  });

  it('a route timeout must be above 0', () => {
    expect(() => compileProxyRoutes({ '/a': { target: 'http://h', timeout: 0 } })).toThrow(/timeout of "\/a" must be a number of seconds above 0/);
  });
});
