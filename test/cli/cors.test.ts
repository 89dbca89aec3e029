// --cors end to end through the CLI: Access-Control-Allow-Origin on every kind of answer,
// preflights, and none on the live-reload event stream.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../src/index.js';
import { SseClient } from '../livereload/sse-client.js';
import { cleanup, onCleanup, request, startCli, tempDir, writeTree, type StartedCli } from '../helpers/server.js';

afterAll(cleanup);

const BASIC = `Basic ${Buffer.from('ann:s3cret').toString('base64')}`;
let cli: StartedCli;
let plain: StartedCli;
let withAuth: StartedCli;

beforeAll(async () => {
  const root = await tempDir();
  await writeTree(root, { 'a.txt': 'hello', 'docs/': '', 'docs/x.txt': 'x' });
  [cli, plain, withAuth] = await Promise.all([
    startCli([root, '--port', '0', '--quiet', '--cors']),
    startCli([root, '--port', '0', '--quiet']),
    startCli([root, '--port', '0', '--quiet', '--cors', '--auth', 'ann:s3cret']),
  ]);
});

describe('--cors: every response carries Access-Control-Allow-Origin: *', () => {
  // [what, target, request headers, expected status]
  const cases: Array<[string, string, Record<string, string>, number]> = [
    ['a file', '/a.txt', {}, 200],
    ['a 404', '/missing.txt', {}, 404],
    ['a redirect', '/docs', {}, 301],
    ['a listing', '/docs/', {}, 200],
    ['a 405', '/a.txt', {}, 405],
  ];
  it.each(cases)('%s', async (_what, target, headers, status) => {
    const method = status === 405 ? 'POST' : 'GET';
    const response = await request(cli.port, target, { method, headers: { Origin: 'http://other.example', ...headers } });
    expect(response.status).toBe(status);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    const without = await request(plain.port, target, { method });
    expect(without.status).toBe(status);
    expect(without.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('a 304', async () => {
    const first = await request(cli.port, '/a.txt');
    const response = await request(cli.port, '/a.txt', { headers: { 'If-None-Match': first.headers['etag']! } });
    expect(response.status).toBe(304);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    expect(response.headers['access-control-expose-headers']).toContain('ETag');
  });
});

describe('--cors: preflights', () => {
  // [what, request headers, 204 preflight answer?, Access-Control-Allow-Headers expected]
  const cases: Array<[string, Record<string, string>, boolean, string | undefined]> = [
    ['Origin and method', { Origin: 'http://a.example', 'Access-Control-Request-Method': 'GET' }, true, undefined],
    [
      'requested headers echoed, lower-cased',
      { Origin: 'http://a.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'X-Token, Authorization' },
      true,
      'x-token, authorization',
    ],
    [
      'malformed names dropped, the rest kept',
      { Origin: 'http://a.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-ok, bad name, x(y), x-two' },
      true,
      'x-ok, x-two',
    ],
    ['no Origin: a plain OPTIONS', { 'Access-Control-Request-Method': 'GET' }, false, undefined],
    ['no Access-Control-Request-Method: a plain OPTIONS', { Origin: 'http://a.example' }, false, undefined],
  ];
  it.each(cases)('%s', async (_what, headers, preflight, allowHeaders) => {
    const response = await request(cli.port, '/a.txt', { method: 'OPTIONS', headers });
    expect(response.status).toBe(204);
    expect(response.body.length).toBe(0);
    expect(response.headers['access-control-allow-origin']).toBe('*');
    if (preflight) {
      expect(response.headers['access-control-allow-methods']).toBe('GET, HEAD');
      expect(response.headers['access-control-max-age']).toMatch(/^\d+$/);
      expect(response.headers['access-control-allow-headers']).toBe(allowHeaders);
    } else {
      expect(response.headers['access-control-allow-methods']).toBeUndefined();
      expect(response.headers['allow']).toBe('GET, HEAD, OPTIONS');
    }
  });

  it('without --cors, a preflight is a plain OPTIONS', async () => {
    const response = await request(plain.port, '/a.txt', {
      method: 'OPTIONS',
      headers: { Origin: 'http://a.example', 'Access-Control-Request-Method': 'GET' },
    });
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    expect(response.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('with --auth, a preflight is answered without credentials, and the 401 carries CORS headers', async () => {
    const preflight = await request(withAuth.port, '/a.txt', {
      method: 'OPTIONS',
      headers: { Origin: 'http://a.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toBe('authorization');
    const refused = await request(withAuth.port, '/a.txt', { headers: { Origin: 'http://a.example' } });
    expect(refused.status).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe('*');
    const allowed = await request(withAuth.port, '/a.txt', { headers: { Origin: 'http://a.example', Authorization: BASIC } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('*');
  });
});

describe('--cors with --watch', () => {
  it('the live-reload event stream carries no CORS header (but -H); the page and client script do', async () => {
    const root = await tempDir();
    await writeTree(root, { 'index.html': '<p>home</p>' });
    const watched = await startCli([root, '--port', '0', '--quiet', '--cors', '--watch', '-H', 'X-Team: web']);
    const stream = await SseClient.connect(`http://127.0.0.1:${watched.port}/__serve-dir/events`);
    try {
      expect(stream.status).toBe(200);
      expect(stream.response.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(stream.response.headers['access-control-allow-origin']).toBeUndefined();
      expect(stream.response.headers['x-team']).toBe('web');
    } finally {
      stream.response.destroy();
    }
    expect((await request(watched.port, '/')).headers['access-control-allow-origin']).toBe('*');
    const script = await request(watched.port, '/__serve-dir/client.js');
    expect(script.status).toBe(200);
    expect(script.headers['access-control-allow-origin']).toBe('*');
    expect(script.headers['x-team']).toBe('web');
  });
});

describe('--cors and --auth as middleware (createHandler with next)', () => {
  it('answers a preflight itself, before auth; hands a plain OPTIONS to the app; asks for credentials', async () => {
    const root = await tempDir();
    await writeTree(root, { 'a.txt': 'hello' });
    const handler = createHandler({ directory: root, cors: true, auth: 'ann:s3cret' });
    const server = http.createServer((req, res) =>
      handler(req, res, () => {
        res.statusCode = 418;
        res.end('app');
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as { port: number }).port;

    const preflight = await request(port, '/a.txt', { method: 'OPTIONS', headers: { Origin: 'http://a.example', 'Access-Control-Request-Method': 'GET' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-methods']).toBe('GET, HEAD');
    expect((await request(port, '/a.txt', { method: 'OPTIONS' })).status).toBe(418);
    const refused = await request(port, '/a.txt');
    expect(refused.status).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe('*');
    const served = await request(port, '/a.txt', { headers: { Authorization: BASIC } });
    expect(served.text).toBe('hello');
    expect(served.headers['access-control-allow-origin']).toBe('*');
  });
});
