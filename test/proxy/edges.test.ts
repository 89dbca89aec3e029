/**
 * The proxy where exact bytes matter: request framing (smuggling), hop-by-hop request
 * fields, --auth / --cors / the Host check in front of proxied paths, live reload in a
 * backend's pages, and WebSocket tunnels (HTTP/1.1, and HTTP/1.1 over TLS beside HTTP/2).
 */
import { get } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { connect as tlsConnect } from 'node:tls';
import { createServer as createNetServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import express from 'express';
import { createHandler } from '../../src/index.js';
import { generateCertificate } from '../../src/tls/certificate.js';
import type { RunningServer } from '../../src/index.js';
import { cleanup, exchange, onCleanup, parseResponse, request, serveDirectory, tempDir, writeTree } from '../helpers/server.js';
import { encodeFrame, openWebSocket, PAGE, readFrame, startBackend, tcp, websocketAccept, type Backend } from './backend.js';

const { cert, key } = generateCertificate({ names: ['localhost', '127.0.0.1', '::1'] });

let backend: Backend;
let root: string;

beforeAll(async () => {
  backend = await startBackend();
  root = await tempDir();
  await writeTree(root, { 'index.html': '<!doctype html><title>static</title><body>static</body>' });
});
afterAll(async () => {
  await cleanup();
  await backend.close();
});

function lastSeen() {
  return backend.seen[backend.seen.length - 1]!;
}

function names(raw: string[]): string[] {
  return raw.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
}

function valueOf(raw: string[], name: string): string[] {
  return raw.flatMap((item, i) => (i % 2 === 0 && item.toLowerCase() === name ? [raw[i + 1]!] : []));
}

describe('request framing and hop-by-hop fields (HTTP/1.1, raw bytes)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serveDirectory(root, { onEvent: () => {}, proxy: { '/api': backend.origin } });
  });

  it('strips Connection, the fields it names, Keep-Alive, TE, Upgrade and Proxy-* before the backend', async () => {
    const reply = await request(server.port, '/api/echo', {
      headers: {
        'X-Client-Secret': 'hop only',
        'Keep-Alive': '300',
        TE: 'trailers',
        Upgrade: 'h2c',
        'Proxy-Authorization': 'Basic cHJveHk6cHc=',
        'Proxy-Connection': 'keep-alive',
        'X-Kept': 'yes',
      },
      hostHeader: `localhost:${server.port}`,
    });
    // `request` sends Connection: close; this one names a field too.
    expect(reply.status).toBe(200);
    const seen = JSON.parse(reply.text) as { raw: string[] };
    const got = names(seen.raw);
    expect(got).toContain('x-kept');
    for (const name of ['keep-alive', 'te', 'upgrade', 'proxy-authorization', 'proxy-connection']) expect(got).not.toContain(name);
    expect(valueOf(seen.raw, 'connection').join()).not.toMatch(/close|secret/i);
  });

  it('a Connection field naming a header removes it', async () => {
    const bytes = await exchange(
      server.port,
      `GET /api/echo HTTP/1.1\r\nHost: localhost\r\nConnection: close, X-Named\r\nX-Named: 1\r\n\r\n`,
    );
    const seen = JSON.parse(parseResponse(bytes).text) as { raw: string[] };
    expect(names(seen.raw)).not.toContain('x-named');
  });

  it('TRACE is not forwarded (405): it would echo what the backend received', async () => {
    const count = backend.seen.length;
    const reply = await request(server.port, '/api/echo', { method: 'TRACE' });
    expect(reply.status).toBe(405);
    expect(backend.seen.length).toBe(count);
  });

  it.each(['PUT', 'DELETE', 'PATCH', 'OPTIONS'])('%s is forwarded', async (method) => {
    const reply = await request(server.port, '/api/echo', { method, headers: { 'Content-Length': '0' } });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.text)).toMatchObject({ method });
  });

  it('Content-Length with Transfer-Encoding is refused before the backend (400)', async () => {
    const count = backend.seen.length;
    const reply = parseResponse(
      await exchange(server.port, 'POST /api/upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/smuggled HTTP/1.1\r\nHost: localhost\r\n\r\n'),
    );
    expect(reply.status).toBe(400);
    expect(backend.seen.length).toBe(count);
  });

  it.each([
    ['a coding that is not chunked last', 'Transfer-Encoding: chunked, gzip'],
    ['two different lengths', 'Content-Length: 5\r\nContent-Length: 6'],
  ])('%s is refused (400) and never reaches the backend', async (_, fields) => {
    const count = backend.seen.length;
    const reply = parseResponse(await exchange(server.port, `POST /api/upload HTTP/1.1\r\nHost: localhost\r\n${fields}\r\nConnection: close\r\n\r\nhello`));
    expect(reply.status).toBe(400);
    expect(backend.seen.length).toBe(count);
  });

  it('a chunked upload reaches the backend whole, framed once: never Content-Length with Transfer-Encoding', async () => {
    const reply = parseResponse(
      await exchange(server.port, 'POST /api/upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'),
    );
    expect(JSON.parse(reply.text)).toMatchObject({ bytes: 11 });
    const seen = lastSeen();
    expect(seen.url).toBe('/api/upload');
    const framing = names(seen.raw).filter((name) => name === 'content-length' || name === 'transfer-encoding');
    expect(framing).toEqual(['transfer-encoding']);
  });
});

describe('--auth, --cors and the Host check apply to proxied paths', () => {
  let server: RunningServer;
  const credentials = `Basic ${Buffer.from('me:pw').toString('base64')}`;
  beforeAll(async () => {
    server = await serveDirectory(root, { onEvent: () => {}, proxy: { '/api': backend.origin }, auth: 'me:pw', cors: true });
  });

  it('no credentials: 401 from us, nothing to the backend; with them, the backend answers (without our password)', async () => {
    const count = backend.seen.length;
    const refused = await request(server.port, '/api/echo');
    expect(refused.status).toBe(401);
    expect(backend.seen.length).toBe(count);
    const allowed = await request(server.port, '/api/echo', { headers: { Authorization: credentials } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['access-control-allow-origin']).toBe('*');
    expect(names((JSON.parse(allowed.text) as { raw: string[] }).raw)).not.toContain('authorization');
  });

  it('a CORS preflight is answered here (204), without credentials', async () => {
    const count = backend.seen.length;
    const reply = await request(server.port, '/api/echo', {
      method: 'OPTIONS',
      headers: { Origin: 'http://app.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(reply.status).toBe(204);
    expect(backend.seen.length).toBe(count);
  });

  it('a foreign Host is refused (403) before the backend: the DNS-rebinding defence', async () => {
    const count = backend.seen.length;
    const reply = await request(server.port, '/api/echo', { hostHeader: 'evil.example', headers: { Authorization: credentials } });
    expect(reply.status).toBe(403);
    expect(backend.seen.length).toBe(count);
  });

  it('a WebSocket upgrade without credentials is 401 and the connection closes', async () => {
    const socket = await tcp(server.port);
    onCleanup(() => void socket.destroy());
    const ws = await openWebSocket(socket, '/api/ws/echo');
    expect(ws.status).toBe(401);
    await new Promise((resolve) => socket.once('close', resolve));
  });
});

describe('-H on proxied answers', () => {
  it("puts the user's headers over the backend's, joining Vary as on our own answers", async () => {
    const server = await serveDirectory(root, { onEvent: () => {}, proxy: { '/api': backend.origin }, header: ['Vary: Origin', 'X-App: ours', 'X-Dev: 1'] });
    const reply = await request(server.port, '/api/page.gz', { hostHeader: `localhost:${server.port}` });
    expect(reply.status).toBe(200);
    expect(reply.headers['vary']).toBe('Accept-Encoding, Origin');
    expect(reply.headers['x-app']).toBe('ours');
    expect(reply.headers['x-dev']).toBe('1');
  });
});

describe('live reload in the backend pages', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serveDirectory(root, { onEvent: () => {}, proxy: { '/api': backend.origin }, watch: true });
    await server.handler.ready;
  });

  it.each([['gzip', '/api/page.gz'], ['brotli', '/api/page.br']])('%s page: decoded, script injected, length new, other fields kept', async (_, path) => {
    const reply = await request(server.port, path, { headers: { 'Accept-Encoding': 'gzip, br' } });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.headers['etag']).toBeUndefined();
    expect(reply.headers['x-app']).toBe('kept');
    expect(Number(reply.headers['content-length'])).toBe(reply.body.length);
    expect(reply.text).toMatch(/<h1>from the app<\/h1><script src="\/__serve-dir\/client\.js"[^>]*><\/script><\/body>/);
    expect(reply.text.replace(/<script[^>]*><\/script>/, '')).toBe(PAGE);
  });

  it('a page larger than the proxy holds goes out whole, as it comes, without the script', async () => {
    const reply = await request(server.port, '/api/page.large');
    expect(reply.status).toBe(200);
    expect(reply.body.length).toBe('<!doctype html><body>'.length + 9 * 1024 * 1024 + '</body>'.length);
    expect(reply.text).not.toContain('__serve-dir');
  });

  it('a HEAD of a page says no length nor validators of the page without the script', async () => {
    const reply = await request(server.port, '/api/page.gz', { method: 'HEAD' });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-length']).toBeUndefined();
    expect(reply.headers['etag']).toBeUndefined();
  });

  it('the live-reload stream keeps working beside a WebSocket tunnel', async () => {
    const socket = await tcp(server.port);
    onCleanup(() => void socket.destroy());
    const ws = await openWebSocket(socket, '/api/ws/echo');
    expect(ws.status).toBe(101);
    const events = await new Promise<{ status: number; type: string }>((resolve, reject) => {
      const req = get({ host: '127.0.0.1', port: server.port, path: '/__serve-dir/events', headers: { host: `localhost:${server.port}`, accept: 'text/event-stream' } }, (res) => {
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']) });
        res.destroy();
      });
      req.on('error', reject);
    });
    expect(events).toEqual({ status: 200, type: expect.stringMatching(/^text\/event-stream/) });
    ws.send('still here');
    expect(await ws.next()).toBe('still here');
  });

  it('the live-reload script itself is ours, not the backend\'s, even under a proxied prefix', async () => {
    const reply = await request(server.port, '/__serve-dir/client.js');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/javascript/);
  });
});

describe('WebSocket tunnels', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await serveDirectory(root, { onEvent: () => {}, proxy: { '/api': backend.origin } });
  });

  async function open(path: string) {
    const socket = await tcp(server.port);
    onCleanup(() => void socket.destroy());
    return openWebSocket(socket, path);
  }

  it('tunnels an HTTP/1.1 upgrade: 101 with the backend fields, then frames both ways', async () => {
    const ws = await open('/api/ws/echo');
    expect(ws.status).toBe(101);
    expect(ws.headers).toMatch(/^X-Backend: echo$/im);
    expect(ws.headers.toLowerCase()).toContain(`sec-websocket-accept: ${websocketAccept(Buffer.from('0123456789abcdef').toString('base64'))}`.toLowerCase());
    ws.send('hello');
    expect(await ws.next()).toBe('hello');
    const large = 'x'.repeat(200_000);
    ws.send(large);
    expect(await ws.next()).toBe(large);
    const seen = [...backend.seen].reverse().find((item) => item.url === '/api/ws/echo')!;
    expect(valueOf(seen.raw, 'upgrade')).toEqual(['websocket']);
  });

  it('a backend that will not switch protocols: its answer goes to the client', async () => {
    const ws = await open('/api/ws/refuse');
    expect(ws.status).toBe(403);
  });

  it('an upgrade outside the proxied prefixes gets the static answer, and the connection closes after it', async () => {
    const socket = await tcp(server.port);
    onCleanup(() => void socket.destroy());
    const ws = await openWebSocket(socket, '/index.html');
    expect(ws.status).toBe(200);
    await new Promise((resolve) => socket.once('close', resolve));
  });

  it('the client leaving closes the backend side too; closing the server cuts open tunnels', async () => {
    const first = await open('/api/ws/echo');
    first.send('ping');
    await first.next();
    const backendSide = backend.websockets[backend.websockets.length - 1]!;
    const backendClosed = new Promise((resolve) => backendSide.once('close', resolve));
    first.socket.destroy();
    await backendClosed;

    const second = await open('/api/ws/echo');
    second.send('ping');
    await second.next();
    const closed = new Promise((resolve) => second.socket.once('close', resolve));
    await server.close(5000);
    await closed;
  });
});

describe('WebSocket beside HTTP/2 (TLS)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'cert.pem'), cert);
    await writeFile(join(dir, 'key.pem'), key);
    server = await serveDirectory(root, { onEvent: () => {}, proxy: { '/api': backend.origin }, tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem') });
  });

  it('over HTTP/2: extended CONNECT (RFC 8441) becomes an HTTP/1.1 upgrade to the backend, frames on the stream', async () => {
    const session = http2Connect(`https://localhost:${server.port}`, { ca: cert });
    onCleanup(() => void session.destroy());
    // The server announces it in a SETTINGS frame of its own, right after the first.
    await new Promise<void>((resolve) => session.on('remoteSettings', (settings) => settings.enableConnectProtocol && resolve()));
    const stream = session.request(
      { ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/api/ws/echo', ':scheme': 'https', ':authority': `localhost:${server.port}`, 'sec-websocket-version': '13' },
      { endStream: false },
    );
    const response = await new Promise<Record<string, unknown>>((resolve) => stream.once('response', resolve));
    expect(response[':status']).toBe(200);
    expect(response['x-backend']).toBe('echo');
    expect(response['sec-websocket-accept']).toBeUndefined();
    let buffered = Buffer.alloc(0);
    const next = () =>
      new Promise<string>((resolve) => {
        const onData = (chunk: Buffer) => {
          buffered = Buffer.concat([buffered, chunk]);
          const frame = readFrame(buffered);
          if (frame === undefined) return;
          buffered = buffered.subarray(frame.length);
          stream.off('data', onData);
          resolve(frame.payload.toString());
        };
        stream.on('data', onData);
      });
    stream.write(encodeFrame(0x1, Buffer.from('over h2'), true));
    expect(await next()).toBe('over h2');
    const seen = [...backend.seen].reverse().find((item) => item.url === '/api/ws/echo')!;
    expect(seen.method).toBe('GET');
    expect(valueOf(seen.raw, 'sec-websocket-key')).toHaveLength(1);
    // Closing the stream closes the backend's side.
    const backendSide = backend.websockets[backend.websockets.length - 1]!;
    const closed = new Promise((resolve) => backendSide.once('close', resolve));
    stream.close();
    await closed;
  });

  it('an extended CONNECT outside the proxied prefixes is 405, as any CONNECT', async () => {
    const session = http2Connect(`https://localhost:${server.port}`, { ca: cert });
    onCleanup(() => void session.destroy());
    await new Promise<void>((resolve) => session.on('remoteSettings', (settings) => settings.enableConnectProtocol && resolve()));
    const stream = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/index.html', ':scheme': 'https', ':authority': `localhost:${server.port}` }, { endStream: false });
    const response = await new Promise<Record<string, unknown>>((resolve) => stream.once('response', resolve));
    expect(response[':status']).toBe(405);
    stream.close();
  });

  it('the Host check reads :authority over HTTP/2 on proxied paths too (403)', async () => {
    const count = backend.seen.length;
    const session = http2Connect(`https://localhost:${server.port}`, { ca: cert });
    onCleanup(() => void session.destroy());
    const stream = session.request({ ':path': '/api/echo', ':authority': 'evil.example' });
    const response = await new Promise<Record<string, unknown>>((resolve) => stream.once('response', resolve));
    expect(response[':status']).toBe(403);
    expect(backend.seen.length).toBe(count);
    stream.close();
  });

  it('over HTTP/1.1 on the same TLS port (ALPN http/1.1), the upgrade is tunnelled too', async () => {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const tls = tlsConnect({ host: '127.0.0.1', servername: 'localhost', port: server.port, ca: cert, ALPNProtocols: ['http/1.1'] }, () => resolve(tls));
      tls.once('error', reject);
    });
    onCleanup(() => void socket.destroy());
    const ws = await openWebSocket(socket, '/api/ws/echo');
    expect(ws.status).toBe(101);
    ws.send('over tls');
    expect(await ws.next()).toBe('over tls');
  });
});

describe('kept backend connections', () => {
  it('a kept connection the backend drops as it is reused: the bodiless request is sent again on a new one', async () => {
    // Answers the first request of each connection (keeping it open), and drops the connection
    // at the second: the race of a backend's idle timeout against our next request.
    let connections = 0;
    const flaky = createNetServer((socket) => {
      connections++;
      let requests = 0;
      socket.on('data', (chunk: Buffer) => {
        if (!chunk.includes('\r\n\r\n')) return;
        if (++requests > 1) return void socket.destroy();
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=60\r\n\r\nok');
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => flaky.close(() => resolve())));
    const port = (flaky.address() as { port: number }).port;
    const server = await serveDirectory(root, { onEvent: () => {}, proxy: { '/api': `http://127.0.0.1:${port}` } });
    const first = await request(server.port, '/api/a');
    const second = await request(server.port, '/api/b');
    expect([first.status, first.text, second.status, second.text]).toEqual([200, 'ok', 200, 'ok']);
    expect(connections).toBe(2);
    // A request with a body is not sent twice: the backend may have acted on it.
    const third = parseResponse(await exchange(server.port, 'POST /api/c HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx'));
    expect([third.status, connections]).toEqual([502, 2]);
  });
});

describe('as Express middleware', () => {
  it('proxies its prefixes (any method) and leaves the rest to the files and the app', async () => {
    const app = express();
    const handler = createHandler({ directory: root, proxy: { '/api': backend.origin }, onEvent: () => {} });
    onCleanup(() => handler.close());
    app.use(handler);
    app.post('/form', (_req, res) => void res.send('the app'));
    const listening = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => listening.once('listening', resolve));
    onCleanup(() => new Promise<void>((resolve) => listening.close(() => resolve())));
    const port = (listening.address() as { port: number }).port;
    const proxied = await request(port, '/api/echo', { method: 'POST', headers: { 'Content-Length': '0' } });
    expect(JSON.parse(proxied.text)).toMatchObject({ method: 'POST', url: '/api/echo' });
    expect((await request(port, '/index.html')).text).toContain('static');
    expect((await request(port, '/form', { method: 'POST', headers: { 'Content-Length': '0' } })).text).toBe('the app');
  });
});
