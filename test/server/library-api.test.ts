import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler, startServer, UsageError } from '../../src/index.js';
import { cleanup, exchange, FIXTURE_SITE, nextResponseClosed, onCleanup, request, serveDirectory } from '../helpers/server.js';

afterAll(cleanup);

/** Listen on a free loopback port; closed by cleanup(). */
async function listenOnFreePort(server: ReturnType<typeof createServer> | ReturnType<typeof createNetServer>): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onCleanup(() => new Promise<void>((done) => server.close(() => done())));
  return (server.address() as AddressInfo).port;
}

/** Can this machine's IPv6 loopback accept connections? */
async function hasIpv6Loopback(): Promise<boolean> {
  const probe = createNetServer();
  try {
    probe.listen(0, '::1');
    await once(probe, 'listening');
    probe.close();
    return true;
  } catch {
    return false;
  }
}

describe('createHandler', () => {
  it('is a node:http request listener', async () => {
    const port = await listenOnFreePort(createServer(createHandler({ directory: FIXTURE_SITE })));
    const response = await request(port, '/hello%20world.txt');
    expect(response.status).toBe(200);
    expect(response.text).toContain('Hello, world');
    expect((await request(port, '/missing')).status).toBe(404);
  });

  // [options, Host, status]: the rebinding defence is the server's; a handler checks only when asked.
  it.each([
    [{}, 'www.example.com', 200],
    [{}, 'bad host', 400],
    [{ checkHost: true }, 'www.example.com', 403],
    [{ checkHost: true }, 'localhost', 200],
    [{ allowedHost: ['www.example.com'] }, 'www.example.com', 200],
    [{ allowedHost: ['www.example.com'] }, 'other.example.com', 403],
  ])('with %j, Host %s → %i', async (options, host, status) => {
    const port = await listenOnFreePort(createServer(createHandler({ directory: FIXTURE_SITE, log: () => {}, ...options })));
    expect((await request(port, '/hello%20world.txt', { hostHeader: host })).status).toBe(status);
  });

  describe('as Connect/Express-style middleware', () => {
    type Middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;
    const nextCalls: string[] = [];

    /** The smallest connect: run middleware in order; whatever falls through gets a 418 from the app. */
    function chain(...middleware: Middleware[]) {
      return (req: IncomingMessage, res: ServerResponse) => {
        const run = (index: number) => {
          const layer = middleware[index];
          if (layer === undefined) {
            res.writeHead(418, { 'content-type': 'text/plain' }).end('from the app');
            return;
          }
          layer(req, res, (error) => {
            nextCalls.push(`${req.url} ${error === undefined ? 'ok' : 'error'}`);
            run(index + 1);
          });
        };
        run(0);
      };
    }

    let port: number;
    beforeAll(async () => {
      port = await listenOnFreePort(createServer(chain(createHandler({ directory: FIXTURE_SITE }))));
    });

    it('serves files and hands 404s to next()', async () => {
      const file = await request(port, '/css/site.css');
      expect(file.status).toBe(200);
      expect(file.headers['content-type']).toBe('text/css; charset=utf-8');

      const missing = await request(port, '/api/users');
      expect(missing.status).toBe(418);
      expect(missing.text).toBe('from the app');
      expect(nextCalls).toEqual(['/api/users ok']);
    });

    // [target, status]: only "not found" falls through; the guard's other answers stand.
    it.each([
      ['/.env', 418],
      ['/docs/nope/', 418],
      ['/docs', 301],
      ['/docs/', 200],
      ['/%2e%2e/etc/passwd', 400],
      ['/%zz', 400],
    ])('%s → %i', async (target, status) => {
      expect((await request(port, target)).status).toBe(status);
    });
  });
});

describe('startServer', () => {
  it('resolves { server, urls, port, handler, close() } and close() stops it', async () => {
    const running = await startServer({ directory: FIXTURE_SITE, port: 0, quiet: true });
    expect(running.port).toBeGreaterThan(0);
    expect(running.urls).toEqual({ local: [`http://localhost:${running.port}`], network: [] });
    expect(running.server.listening).toBe(true);
    expect(running.handler.options.root).toBe(FIXTURE_SITE);
    expect((await request(running.port, '/')).status).toBe(200);
    await running.close();
    expect(running.server.listening).toBe(false);
    await expect(exchange(running.port, 'GET / HTTP/1.1\r\n\r\n')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('moves on to the next free port when the port it was given is busy and not strict', async () => {
    const busy = await listenOnFreePort(createNetServer());
    const running = await serveDirectory(FIXTURE_SITE, { port: busy, strictPort: false });
    expect(running.port).toBeGreaterThan(busy);
    expect(running.urls.local).toEqual([`http://localhost:${running.port}`]);
    expect((await request(running.port, '/')).status).toBe(200);
  });

  it('fails with a one-line UsageError when a port named by the user is busy', async () => {
    const busy = await listenOnFreePort(createNetServer());
    const attempt = startServer({ directory: FIXTURE_SITE, port: busy, quiet: true });
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.toThrow(`port ${busy} is already in use`);
  });

  // [options, message]
  it.each([
    [{ directory: '/nonexistent/serve-dir-test' }, 'directory not found'],
    [{ directory: `${FIXTURE_SITE}/index.html` }, 'not a directory'],
    [{ directory: FIXTURE_SITE, port: 70000 }, 'invalid port'],
    [{ directory: FIXTURE_SITE, port: 0, bind: '10.255.255.1' }, 'address not available'],
    [{ directory: FIXTURE_SITE, port: 0, poll: true }, '--poll only applies with --watch'],
    [{ directory: FIXTURE_SITE, port: 0, ignore: ['dist'] }, '--ignore only applies with --watch'],
    [{ directory: FIXTURE_SITE, port: 0, immutable: true }, '--immutable only applies with --cache'],
  ])('rejects %j with a UsageError (%s)', async (options, message) => {
    await expect(startServer({ quiet: true, ...options })).rejects.toThrow(UsageError);
    await expect(startServer({ quiet: true, ...options })).rejects.toThrow(message);
  });

  it('refuses other Host names by default (403), saying why on the page and once in the log', async () => {
    const lines: string[] = [];
    const running = await serveDirectory(FIXTURE_SITE, { log: (line) => lines.push(line) });
    for (let i = 0; i < 3; i++) {
      const refused = await request(running.port, '/', { hostHeader: 'rebound.example' });
      expect(refused.status).toBe(403);
      expect(refused.text).toContain('--allowed-host');
    }
    expect(lines).toEqual([expect.stringContaining('refused a request for host "rebound.example"')]);
    expect(lines[0]).toContain('--allowed-host rebound.example');
    const inventive = Array.from({ length: 20 }, (_, i) => request(running.port, '/', { hostHeader: `n${i}.example` }));
    expect((await Promise.all(inventive)).every((response) => response.status === 403)).toBe(true);
    expect(lines.length).toBeLessThanOrEqual(10);
    expect(lines.at(-1)).toContain('no more are reported');
  });

  it('checkHost: false turns the defence off', async () => {
    const running = await serveDirectory(FIXTURE_SITE, { checkHost: false });
    expect((await request(running.port, '/', { hostHeader: 'www.example.com' })).status).toBe(200);
  });

  it('logs one line per request through the log option', async () => {
    const lines: string[] = [];
    const running = await serveDirectory(FIXTURE_SITE, { quiet: false, log: (line) => lines.push(line) });
    const logged = nextResponseClosed(running.server);
    await request(running.port, '/css/site.css');
    await logged;
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d GET \/css\/site\.css 200 \d+(\.\d)? (B|KiB) \d+\.\d ms$/);
  });
});

describe('IPv6', () => {
  it('with the default bind (localhost), both 127.0.0.1 and ::1 answer when the machine has IPv6', async () => {
    const ipv6 = await hasIpv6Loopback();
    const running = await serveDirectory(FIXTURE_SITE);
    const v4 = await request(running.port, '/hello%20world.txt', { address: '127.0.0.1', hostHeader: `127.0.0.1:${running.port}` });
    expect(v4.status).toBe(200);
    if (ipv6) {
      const v6 = await request(running.port, '/hello%20world.txt', { address: '::1', hostHeader: `[::1]:${running.port}` });
      expect(v6.status).toBe(200);
      expect(v6.text).toBe(v4.text);
    } else {
      await expect(exchange(running.port, 'GET / HTTP/1.1\r\n\r\n', '::1')).rejects.toBeDefined();
    }
  });

  it('a server bound to ::1 alone answers on ::1', async () => {
    const ipv6 = await hasIpv6Loopback();
    if (!ipv6) {
      await expect(startServer({ directory: FIXTURE_SITE, port: 0, bind: '::1', quiet: true })).rejects.toThrow(UsageError);
      return;
    }
    const running = await serveDirectory(FIXTURE_SITE, { bind: '::1' });
    expect(running.urls.local).toEqual([`http://[::1]:${running.port}`]);
    expect((await request(running.port, '/', { address: '::1', hostHeader: `[::1]:${running.port}` })).status).toBe(200);
  });
});
