/** Header fields across the proxy, and the rewrites of changeOrigin: tables of cases. */
import { gzipSync, brotliCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeBody } from '../../src/proxy/decode.js';
import { clientAddress, connectionOptions, forwardedElement, requestHeadersForBackend, headerList, responseHeadersForClient, type ForwardingFacts } from '../../src/proxy/headers.js';
import { rewriteForClient, rewriteLocation, withoutCookieDomain } from '../../src/proxy/rewrite.js';
import { clientPathFor, compileProxyRoutes } from '../../src/proxy/route.js';

const FACTS: ForwardingFacts = { clientAddress: '::ffff:192.0.2.7', authority: 'localhost:8000', proto: 'http', backendHost: undefined, upgrade: undefined };

describe('requestHeadersForBackend', () => {
  it.each<[string, string[], Partial<ForwardingFacts>, Record<string, unknown>]>([
    ['keeps end-to-end fields, sets Host and the forwarding fields', ['Accept', 'text/html', 'Host', 'localhost:8000'], {}, {
      accept: 'text/html', host: 'localhost:8000', 'x-forwarded-for': '192.0.2.7', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'localhost:8000', forwarded: 'for=192.0.2.7;host="localhost:8000";proto=http',
    }],
    ['drops hop-by-hop fields and those Connection names', ['Connection', 'keep-alive, X-Hop', 'X-Hop', '1', 'Keep-Alive', '5', 'TE', 'trailers', 'Trailer', 'X', 'Upgrade', 'h2c', 'Proxy-Authorization', 'Basic x', 'X-End', '2'], {}, { 'x-end': '2' }],
    ['drops HTTP/2 pseudo-headers; :authority is the Host', [':method', 'GET', ':path', '/', ':authority', 'localhost:8000', ':scheme', 'https'], { proto: 'https' }, { host: 'localhost:8000', 'x-forwarded-proto': 'https' }],
    ['joins HTTP/2 cookie fields with "; "', ['cookie', 'a=1', 'cookie', 'b=2'], {}, { cookie: 'a=1; b=2' }],
    ['never Content-Length beside Transfer-Encoding', ['Content-Length', '5', 'Transfer-Encoding', 'chunked'], {}, { 'content-length': undefined, 'transfer-encoding': undefined }],
    ['keeps Content-Length alone', ['Content-Length', '5'], {}, { 'content-length': '5' }],
    ['appends to X-Forwarded-For and Forwarded', ['X-Forwarded-For', '203.0.113.1', 'Forwarded', 'for=203.0.113.1'], {}, { 'x-forwarded-for': '203.0.113.1, 192.0.2.7', forwarded: 'for=203.0.113.1, for=192.0.2.7;host="localhost:8000";proto=http' }],
    ['replaces the client\'s X-Forwarded-Proto and -Host', ['X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'evil.example'], {}, { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'localhost:8000' }],
    ['changeOrigin: Host is the backend', ['Host', 'localhost:8000'], { backendHost: '127.0.0.1:5000' }, { host: '127.0.0.1:5000', 'x-forwarded-host': 'localhost:8000' }],
    ['drops Expect (our server answered 100-continue)', ['Expect', '100-continue'], {}, { expect: undefined }],
    ['a WebSocket handshake keeps its Upgrade', ['Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'], { upgrade: 'websocket' }, { connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' }],
    ['repeated fields stay repeated', ['Accept', 'a', 'Accept', 'b'], {}, { accept: ['a', 'b'] }],
  ])('%s', (_, raw, facts, expected) => {
    const headers = requestHeadersForBackend(raw, { ...FACTS, ...facts });
    for (const [name, value] of Object.entries(expected)) expect(headers[name], name).toEqual(value);
    if (Object.keys(expected).length === 1 && 'x-end' in expected) {
      expect(Object.keys(headers).sort()).toEqual(['forwarded', 'host', 'x-end', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);
    }
  });
});

describe('responseHeadersForClient', () => {
  it.each<[string, string[], Record<string, unknown>]>([
    ['each Set-Cookie stays a field of its own', ['Set-Cookie', 'a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT', 'Set-Cookie', 'b=2'], { 'set-cookie': ['a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT', 'b=2'] }],
    ['hop-by-hop fields go, names lower-cased', ['Connection', 'close, X-Hop', 'X-Hop', '1', 'Keep-Alive', 't=5', 'Transfer-Encoding', 'chunked', 'Proxy-Authenticate', 'Basic', 'Content-Type', 'text/plain'], { 'content-type': 'text/plain', connection: undefined, 'x-hop': undefined, 'keep-alive': undefined, 'transfer-encoding': undefined, 'proxy-authenticate': undefined }],
    ['Content-Length stays (the body is relayed byte for byte)', ['Content-Length', '12'], { 'content-length': '12' }],
  ])('%s', (_, raw, expected) => {
    const headers = responseHeadersForClient(raw);
    for (const [name, value] of Object.entries(expected)) expect(headers[name], name).toEqual(value);
  });

  it('a 101 keeps Connection and Upgrade; the writer gets one pair per value', () => {
    const headers = responseHeadersForClient(['Upgrade', 'websocket', 'Connection', 'Upgrade', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'], true);
    expect(headerList(headers)).toEqual(['upgrade', 'websocket', 'connection', 'Upgrade', 'set-cookie', 'a=1', 'set-cookie', 'b=2']);
  });
});

describe('small helpers', () => {
  it.each([
    ['192.0.2.1', 'localhost:8000', 'http', 'for=192.0.2.1;host="localhost:8000";proto=http'],
    ['::1', 'localhost', 'https', 'for="[::1]";host=localhost;proto=https'],
    [undefined, undefined, 'http', 'proto=http'],
  ])('forwardedElement(%s, %s, %s)', (client, host, proto, expected) => {
    expect(forwardedElement(client, host, proto)).toBe(expected);
  });

  it.each([['::ffff:127.0.0.1', '127.0.0.1'], ['::1', '::1'], ['', undefined], [undefined, undefined]])('clientAddress(%s)', (address, expected) => {
    expect(clientAddress(address)).toBe(expected);
  });

  it('connectionOptions gathers every Connection field', () => {
    expect([...connectionOptions(['Connection', 'Keep-Alive, X-A', 'connection', ' x-b ,', 'X-A', '1'])]).toEqual(['keep-alive', 'x-a', 'x-b']);
  });
});

describe('Location and cookie rewrites', () => {
  const backend = 'http://127.0.0.1:5000';
  const client = 'https://localhost:8443';
  const identity = (path: string) => path;
  // A route stripping /api: the backend's /login is the client's /api/login.
  const [stripping] = compileProxyRoutes({ '/api': { target: backend, rewrite: { from: '/api', to: '' } } });
  // A route onto the backend's /v1/internal: only paths under it are reachable through /api.
  const [based] = compileProxyRoutes({ '/api': { target: `${backend}/v1`, rewrite: { from: '/api', to: '/internal' } } });

  it.each([
    ['http://127.0.0.1:5000/login?next=/a#top', 'https://localhost:8443/login?next=/a#top'],
    ['HTTP://127.0.0.1:5000/x', 'https://localhost:8443/x'],
    ['//127.0.0.1:5000/x', 'https://localhost:8443/x'],
    ['/relative/path', '/relative/path'],
    ['relative', 'relative'],
    ['http://127.0.0.1:5001/other-port', 'http://127.0.0.1:5001/other-port'],
    ['https://127.0.0.1:5000/other-scheme', 'https://127.0.0.1:5000/other-scheme'],
    ['https://example.com/elsewhere', 'https://example.com/elsewhere'],
    ['http://[bad', 'http://[bad'],
  ])('changeOrigin: %s -> %s', (location, expected) => {
    expect(rewriteLocation(location, { backendOrigin: backend, clientOrigin: client, changeOrigin: true, mapPath: identity })).toBe(expected);
  });

  it.each([
    // route, changeOrigin, Location from the backend, Location for the client
    ['stripping', false, '/login?next=%2F', '/api/login?next=%2F'],
    ['stripping', false, '/', '/api/'],
    ['stripping', false, 'https://localhost:8443/login', 'https://localhost:8443/api/login'], // the backend saw our Host
    ['stripping', false, 'http://127.0.0.1:5000/login', 'http://127.0.0.1:5000/login'], // its own origin, not asked to change
    ['stripping', true, 'http://127.0.0.1:5000/login', 'https://localhost:8443/api/login'],
    ['based', false, '/v1/internal/users/7', '/api/users/7'],
    ['based', false, '/v1/public', '/v1/public'], // no request through /api reaches it: kept
    ['based', true, 'http://127.0.0.1:5000/elsewhere', 'https://localhost:8443/elsewhere'],
  ] as const)('%s route, changeOrigin %s: %s -> %s', (name, changeOrigin, location, expected) => {
    const route = name === 'stripping' ? stripping! : based!;
    expect(rewriteLocation(location, { backendOrigin: backend, clientOrigin: client, changeOrigin, mapPath: (path) => clientPathFor(route, path) })).toBe(expected);
  });

  it.each([
    ['a=1; Domain=127.0.0.1; Path=/', 'a=1; Path=/'],
    ['a=1;domain=.example.com;Secure', 'a=1;Secure'],
    ['a=1; Path=/', 'a=1; Path=/'],
    ['domain=x; Path=/', 'domain=x; Path=/'], // a cookie named domain is not the attribute
  ])('Set-Cookie %s -> %s', (cookie, expected) => {
    expect(withoutCookieDomain(cookie)).toBe(expected);
  });

  it('rewriteForClient: cookie domains only with changeOrigin', () => {
    const context = { backendOrigin: backend, clientOrigin: client, changeOrigin: true, mapPath: identity };
    const headers = { location: `${backend}/a`, 'set-cookie': ['a=1; Domain=127.0.0.1', 'b=2'] };
    rewriteForClient(headers, context);
    expect(headers).toEqual({ location: `${client}/a`, 'set-cookie': ['a=1', 'b=2'] });
    const kept = { 'set-cookie': 'a=1; Domain=127.0.0.1' };
    rewriteForClient(kept, { ...context, changeOrigin: false });
    expect(kept).toEqual({ 'set-cookie': 'a=1; Domain=127.0.0.1' });
  });
});

describe('decodeBody', () => {
  const page = Buffer.from('<p>page</p>'.repeat(100));
  it.each([
    ['identity', page, undefined, page],
    ['gzip', gzipSync(page), 'gzip', page],
    ['x-gzip', gzipSync(page), 'X-Gzip', page],
    ['br', brotliCompressSync(page), 'br', page],
    ['an unknown coding', page, 'zstd', undefined],
    ['two codings', gzipSync(gzipSync(page)), 'gzip, gzip', undefined],
    ['broken gzip', Buffer.from('not gzip'), 'gzip', undefined],
  ])('%s', async (_, body, coding, expected) => {
    expect(await decodeBody(body, coding, 1 << 20)).toEqual(expected);
  });

  it('a bomb is not inflated past the bound', async () => {
    expect(await decodeBody(gzipSync(Buffer.alloc(10 << 20)), 'gzip', 1 << 20)).toBeUndefined();
  });
});
