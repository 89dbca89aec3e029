/**
 * The reverse proxy end to end: startServer in front of a real node:http backend, over
 * HTTP/1.1 and HTTP/2 (node's own clients), with exact bytes on a raw socket where the
 * request must be malformed on purpose.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificate } from '../../src/tls/certificate.js';
import type { RunningServer, ServerEvent } from '../../src/index.js';
import { cleanup, request, serveDirectory, tempDir, writeTree, exchange, parseResponse } from '../helpers/server.js';
import { BLOCK, deadPort, PAGE, startBackend, type Backend } from './backend.js';
import { http1Client, http2Client, type Client } from './client.js';

const { cert, key } = generateCertificate({ names: ['localhost', '127.0.0.1', '::1'] });
const MIB = 1024 * 1024;

let backend: Backend;
let root: string;
let certFile: string;
let keyFile: string;
let dead: number;

beforeAll(async () => {
  backend = await startBackend();
  root = await tempDir();
  await writeTree(root, { 'index.html': '<!doctype html><title>static</title>', 'secret.txt': 'static secret', 'apiX': 'a static file' });
  const dir = await tempDir();
  certFile = join(dir, 'cert.pem');
  keyFile = join(dir, 'key.pem');
  await writeFile(certFile, cert);
  await writeFile(keyFile, key);
  dead = await deadPort();
});
afterAll(async () => {
  await cleanup();
  await backend.close();
});

function routes() {
  return {
    '/api': backend.origin,
    '/api/slow': { target: backend.origin, timeout: 1 },
    '/other': { target: backend.origin, changeOrigin: true, rewrite: { from: '/other', to: '/api' } },
    '/versioned': { target: `${backend.origin}/v1`, rewrite: { from: '/versioned', to: '/api' } },
    '/dead': `http://127.0.0.1:${dead}`,
  };
}

/** The last request the backend saw for `path` (with its query). */
function seenAt(url: string) {
  return [...backend.seen].reverse().find((seen) => seen.url === url);
}

function rawNames(raw: string[]): string[] {
  return raw.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
}

const TRANSPORTS = [
  { name: 'HTTP/1.1', tls: false },
  { name: 'HTTP/2', tls: true },
] as const;

describe.each(TRANSPORTS)('proxy over $name', ({ tls }) => {
  let server: RunningServer;
  let client: Client;
  let scheme: string;
  const events: ServerEvent[] = [];

  beforeAll(async () => {
    server = await serveDirectory(root, {
      proxy: routes(),
      onEvent: (event) => events.push(event),
      quiet: true,
      ...(tls ? { tlsCert: certFile, tlsKey: keyFile } : {}),
    });
    client = tls ? http2Client(server.port, cert) : http1Client(server.port);
    scheme = tls ? 'https' : 'http';
  });
  afterAll(() => client.close());

  it('forwards method, path and query, and says who asked: X-Forwarded-* and Forwarded', async () => {
    const reply = await client.send('/api/echo?x=1&y=%20two', { headers: { 'x-forwarded-for': '203.0.113.9', cookie: 'a=1' } });
    expect(reply.status).toBe(200);
    const seen = JSON.parse(reply.body.toString()) as { method: string; url: string; headers: Record<string, string>; raw: string[] };
    expect(seen.method).toBe('GET');
    expect(seen.url).toBe('/api/echo?x=1&y=%20two');
    expect(seen.headers['host']).toBe(`localhost:${server.port}`);
    expect(seen.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe(scheme);
    expect(seen.headers['x-forwarded-host']).toBe(`localhost:${server.port}`);
    expect(seen.headers['forwarded']).toBe(`for=127.0.0.1;host="localhost:${server.port}";proto=${scheme}`);
    // HTTP/2's pseudo-headers never reach an HTTP/1.1 backend, and there is one Host.
    expect(rawNames(seen.raw).filter((name) => name.startsWith(':') || name === 'host')).toEqual(['host']);
  });

  it('keeps the prefix by default; the target path and a rewrite come before it', async () => {
    await client.send('/versioned/echo?q=1');
    expect(seenAt('/v1/api/echo?q=1')).toBeDefined();
  });

  it('passes any method and body: a 5 MiB upload streams through whole, the first bytes before the last are sent', async () => {
    const size = 5 * MIB;
    const hash = createHash('sha256');
    let sent = 0;
    // The rest of the body is held back until the backend has its first bytes: a proxy that
    // collected the body before forwarding it would wait for ever (and the test time out).
    const started = backend.nextUploadBytes();
    const body = new Readable({
      read() {
        if (sent >= size) return void this.push(null);
        if (sent === BLOCK.length) {
          void started.then(() => this.push(next()));
          return;
        }
        this.push(next());
      },
    });
    const next = () => {
      hash.update(BLOCK);
      sent += BLOCK.length;
      return BLOCK;
    };
    const reply = await client.send('/api/upload', { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    expect(JSON.parse(reply.body.toString())).toEqual({ bytes: size, sha256: hash.digest('hex') });
  });

  it('streams a 200 MiB download with backpressure, memory bounded', async () => {
    const size = 200 * MIB;
    let received = 0;
    let wrong = 0;
    const before = process.memoryUsage();
    let peakRss = before.rss;
    let peakHeap = before.heapUsed;
    const reply = await client.send(`/api/big?size=${size}`, {
      onData: (chunk) => {
        // Bytes go 0..255 round and round: each chunk starts where the count says.
        if (chunk[0] !== received % 256) wrong++;
        received += chunk.length;
        if ((received & 0xfffff) < chunk.length) {
          const now = process.memoryUsage();
          peakRss = Math.max(peakRss, now.rss);
          peakHeap = Math.max(peakHeap, now.heapUsed);
        }
      },
    });
    expect(reply.status).toBe(200);
    expect(Number(reply.headers['content-length'])).toBe(size);
    expect([received, wrong]).toEqual([size, 0]);
    // Backend, proxy and client share this process: all three together hold far less than the body
    // (measured: RSS +47 to +66 MiB, mostly socket buffers awaiting collection; heap +2 MiB).
    expect(peakRss - before.rss).toBeLessThan(128 * MIB);
    expect(peakHeap - before.heapUsed).toBeLessThan(64 * MIB);
  }, 60_000);

  it('relays Server-Sent Events one by one, as the backend sends them', async () => {
    const received: string[] = [];
    let notify: (() => void) | undefined;
    const arrived = () => new Promise<void>((resolve) => (notify = resolve));
    let first = arrived();
    const opened = backend.sse.nextOpen();
    const stop = new AbortController();
    const done = client.outcome('/api/sse', {
      signal: stop.signal,
      onData: (chunk) => {
        received.push(chunk.toString());
        notify?.();
      },
    });
    await opened;
    backend.sse.send('one');
    await first;
    // The second event is sent only once the first has reached the client: nothing waits to fill a buffer.
    expect(received.join('')).toBe('data: one\n\n');
    first = arrived();
    backend.sse.send('two');
    await first;
    expect(received.join('')).toBe('data: one\n\ndata: two\n\n');
    stop.abort();
    await done.catch(() => undefined);
  });

  it('strips hop-by-hop fields from the response, and keeps each Set-Cookie apart', async () => {
    const hop = await client.send('/api/hop');
    expect(hop.headers['x-kept']).toBe('yes');
    for (const name of ['x-secret', 'keep-alive', 'proxy-authenticate']) expect(hop.headers[name]).toBeUndefined();
    const cookies = await client.send('/api/cookies');
    expect(cookies.status).toBe(302);
    expect(cookies.headers['set-cookie']).toEqual(['a=1; Domain=127.0.0.1; Path=/; HttpOnly', 'b=2, with a comma; Path=/api']);
    // Without changeOrigin the backend's Location is its own business.
    expect(cookies.headers['location']).toBe(`${backend.origin}/api/echo?from=redirect`);
  });

  it('changeOrigin: Host is the backend, and its Location and cookie domains are sent back to us', async () => {
    const echo = JSON.parse((await client.send('/other/echo')).body.toString()) as { url: string; headers: Record<string, string> };
    expect([echo.url, echo.headers['host']]).toEqual(['/api/echo', `127.0.0.1:${backend.port}`]);
    const reply = await client.send('/other/cookies');
    // Back on our origin, and under the route's own prefix: the backend's /api is our /other.
    expect(reply.headers['location']).toBe(`${scheme}://localhost:${server.port}/other/echo?from=redirect`);
    expect(reply.headers['set-cookie']).toEqual(['a=1; Path=/; HttpOnly', 'b=2, with a comma; Path=/api']);
  });

  it.each([
    ['/api/../secret.txt'],
    ['/api/%2e%2e/secret.txt'],
    ['/api/.%2E/secret.txt'],
    ['/api/..;/secret.txt'],
    ['/api/x%2f..%2f..%2fsecret.txt'],
    ['/api/%5c..%5csecret.txt'],
    ['/api%2f..%2fsecret.txt'],
  ])('refuses the prefix escape %s (400), and the backend never sees it', async (path) => {
    const count = backend.seen.length;
    const reply = await client.send(path);
    expect(reply.status).toBe(400);
    expect(reply.body.toString()).not.toContain('static secret');
    expect(backend.seen.length).toBe(count);
  });

  it('matches whole segments: /apiX is a static file, not the backend', async () => {
    const count = backend.seen.length;
    const reply = await client.send('/apiX');
    expect([reply.status, reply.body.toString()]).toEqual([200, 'a static file']);
    expect(backend.seen.length).toBe(count);
  });

  it('a backend that is down: 502 naming it, and one warning for many requests', async () => {
    const first = await client.send('/dead/x');
    const second = await client.send('/dead/y');
    expect([first.status, second.status]).toEqual([502, 502]);
    expect(first.headers['content-type']).toMatch(/^text\/html/);
    expect(first.body.toString()).toContain(`http://127.0.0.1:${dead}/`);
    const warnings = events.filter((event) => event.type === 'warning' && event.code === 'proxy-backend-down');
    expect(warnings).toHaveLength(1);
  });

  it('no response headers within the route timeout: 504', async () => {
    const reply = await client.send('/api/slow');
    expect(reply.status).toBe(504);
    expect(events.some((event) => event.type === 'warning' && event.code === 'proxy-backend-timeout')).toBe(true);
  });

  it('a backend that dies mid-body cuts the client off: never a short body passed as complete', async () => {
    const result = await client.outcome('/api/die');
    expect(result.status).toBe(200);
    expect(result.complete).toBe(false);
    expect(result.body.length).toBeLessThan(100_000);
  });

  it('a hostile backend is bounded: endless headers are a 502, an endless body to a HEAD is not read', async () => {
    const flood = await client.send('/api/headers-flood');
    expect(flood.status).toBe(502);
    const head = await client.send('/api/head-forever', { method: 'HEAD' });
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, '10', 0]);
    // And the server serves on.
    expect((await client.send('/secret.txt')).body.toString()).toBe('static secret');
  });
});
