/**
 * startServer over TLS: HTTPS on HTTP/1.1, HTTP/2 by ALPN, and the handler's
 * behaviours that depend on the transport (Host from `:authority`, no
 * Connection header on HTTP/2, graceful close with a session open).
 */
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { get } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificate } from '../../src/tls/certificate.js';
import { cleanup, onCleanup, serveDirectory, tempDir, writeTree } from '../helpers/server.js';
import type { RunningServer } from '../../src/index.js';

const { cert, key } = generateCertificate({ names: ['localhost', '127.0.0.1', '::1'] });
let root: string;
let certFile: string;
let keyFile: string;
const PAGE = '<!doctype html><title>t</title><p>' + 'hello '.repeat(400) + '</p>';

beforeAll(async () => {
  root = await tempDir();
  await writeTree(root, { 'index.html': PAGE, 'a.txt': '0123456789', 'sub/b.txt': 'b' });
  const dir = await tempDir();
  certFile = join(dir, 'cert.pem');
  keyFile = join(dir, 'key.pem');
  await writeFile(certFile, cert);
  await writeFile(keyFile, key);
});
afterAll(cleanup);

interface H2Response {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function h2Session(port: number): ClientHttp2Session {
  const session = connect(`https://localhost:${port}`, { ca: cert });
  onCleanup(() => void session.destroy());
  return session;
}

function h2Request(session: ClientHttp2Session, headers: Record<string, string>): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers);
    const chunks: Buffer[] = [];
    let head: IncomingHttpHeaders = {};
    stream.on('response', (h) => (head = h));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ headers: head, body: Buffer.concat(chunks) }));
    stream.on('error', reject);
    stream.end();
  });
}

async function serveTls(options: Parameters<typeof serveDirectory>[1] = {}): Promise<RunningServer> {
  return serveDirectory(root, { port: 0, quiet: true, tlsCert: certFile, tlsKey: keyFile, ...options });
}

describe('startServer with tlsCert and tlsKey', () => {
  it('serves HTTPS over HTTP/1.1 with the given certificate', async () => {
    const running = await serveTls();
    expect(running.urls.local[0]).toMatch(/^https:\/\/localhost:\d+$/);
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      get(`https://localhost:${running.port}/a.txt`, { ca: cert }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      }).on('error', reject);
    });
    expect({ status, body }).toEqual({ status: 200, body: '0123456789' });
  });

  it('negotiates h2 and serves GET, HEAD, ranges, 304, compression, listings and 404', async () => {
    const running = await serveTls();
    const session = h2Session(running.port);
    const get = await h2Request(session, { ':path': '/a.txt' });
    expect(session.alpnProtocol).toBe('h2');
    expect(get.headers[':status']).toBe(200);
    expect(get.body.toString()).toBe('0123456789');
    expect(get.headers['connection']).toBeUndefined();

    const head = await h2Request(session, { ':path': '/a.txt', ':method': 'HEAD' });
    expect(head.headers[':status']).toBe(200);
    expect(head.body.length).toBe(0);

    const range = await h2Request(session, { ':path': '/a.txt', range: 'bytes=2-4' });
    expect(range.headers[':status']).toBe(206);
    expect(range.body.toString()).toBe('234');

    const etag = String(get.headers['etag']);
    const fresh = await h2Request(session, { ':path': '/a.txt', 'if-none-match': etag });
    expect(fresh.headers[':status']).toBe(304);

    const br = await h2Request(session, { ':path': '/', 'accept-encoding': 'br' });
    expect(br.headers[':status']).toBe(200);
    expect(br.headers['content-encoding']).toBe('br');
    const { brotliDecompressSync } = await import('node:zlib');
    expect(brotliDecompressSync(br.body).toString()).toBe(PAGE);

    const listing = await h2Request(session, { ':path': '/sub/' });
    expect(listing.headers[':status']).toBe(200);
    expect(listing.body.toString()).toContain('b.txt');

    const missing = await h2Request(session, { ':path': '/nope.txt' });
    expect(missing.headers[':status']).toBe(404);
  });

  it('checks :authority on a loopback bind: a foreign name is refused', async () => {
    const running = await serveTls();
    const session = h2Session(running.port);
    const evil = await h2Request(session, { ':path': '/a.txt', ':authority': 'evil.example' });
    expect(evil.headers[':status']).toBe(403);
    const ok = await h2Request(session, { ':path': '/a.txt', ':authority': `localhost:${running.port}` });
    expect(ok.headers[':status']).toBe(200);
  });

  it('answers CONNECT over HTTP/2 with 405', async () => {
    const running = await serveTls();
    const session = h2Session(running.port);
    const res = await h2Request(session, { ':method': 'CONNECT', ':authority': `localhost:${running.port}` });
    expect(res.headers[':status']).toBe(405);
    expect(res.headers['allow']).toBe('GET, HEAD, OPTIONS');
    expect(res.body.length).toBe(0);
  });

  it('offers only http/1.1 with http2: false', async () => {
    const running = await serveTls({ http2: false });
    // A client that offers both, as browsers do: the server must pick http/1.1.
    const alpn = await new Promise<string | false>((resolve, reject) => {
      const socket = tlsConnect({ host: 'localhost', port: running.port, ca: cert, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
        resolve(socket.alpnProtocol ?? false);
        socket.end();
      });
      socket.on('error', reject);
    });
    const status = await new Promise<number>((resolve, reject) => {
      get(`https://localhost:${running.port}/a.txt`, { ca: cert }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      }).on('error', reject);
    });
    expect({ alpn, status }).toEqual({ alpn: 'http/1.1', status: 200 });
  });

  it('closes within the grace period while an HTTP/2 session stays open', async () => {
    const running = await serveTls();
    const session = h2Session(running.port);
    await h2Request(session, { ':path': '/a.txt' });
    // An open stream that never ends: the client sends a body it never finishes.
    const stream = session.request({ ':path': '/a.txt', ':method': 'POST' }, { endStream: false });
    stream.on('error', () => {});
    const started = performance.now();
    await running.close(300);
    expect(performance.now() - started).toBeLessThan(300 + 1500);
  });
});
