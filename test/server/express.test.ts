import { execFile } from 'node:child_process';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../../src/index.js';
import { SseClient } from '../livereload/sse-client.js';
import { cleanup, FIXTURE_SITE, onCleanup, REPO_ROOT, request, tempDir, writeTree } from '../helpers/server.js';

afterAll(cleanup);

/** Start an Express app on a free loopback port; closed by cleanup(). */
async function listen(app: express.Express): Promise<number> {
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onCleanup(() => new Promise<void>((done) => server.close(() => done())));
  return (server.address() as AddressInfo).port;
}

describe('createHandler in an Express 5 app, placed before the routes', () => {
  let port: number;
  beforeAll(async () => {
    const app = express();
    app.use(createHandler({ directory: FIXTURE_SITE }));
    for (const method of ['post', 'put', 'delete', 'patch', 'options'] as const) {
      app[method]('/api/items', (req, res) => {
        res.status(method === 'post' ? 201 : 200).type('text/plain').send(`app ${req.method}`);
      });
    }
    // A route on a path that is also a file: for methods other than GET/HEAD the app decides.
    app.post('/index.html', (_req, res) => {
      res.type('text/plain').send('form handled');
    });
    app.use((_req, res) => {
      res.status(404).type('text/plain').send('app 404');
    });
    port = await listen(app);
  });

  // [method, path, status, body]: only GET and HEAD are the handler's; the rest reach the app.
  it.each([
    ['POST', '/api/items', 201, 'app POST'],
    ['PUT', '/api/items', 200, 'app PUT'],
    ['DELETE', '/api/items', 200, 'app DELETE'],
    ['PATCH', '/api/items', 200, 'app PATCH'],
    ['OPTIONS', '/api/items', 200, 'app OPTIONS'],
    ['POST', '/index.html', 200, 'form handled'],
    ['PUT', '/index.html', 404, 'app 404'],
    ['GET', '/missing', 404, 'app 404'],
  ])('%s %s → %i from the app', async (method, path, status, body) => {
    const response = await request(port, path, { method, headers: { 'Content-Length': '0' } });
    expect(response.status).toBe(status);
    expect(response.text).toBe(body);
  });

  it('answers a real domain name in Host (an app behind nginx or on a LAN)', async () => {
    const response = await request(port, '/css/site.css', { hostHeader: 'app.example.com' });
    expect(response.status).toBe(200);
  });

  it('GET and HEAD of a file are served by serve-dir', async () => {
    const get = await request(port, '/css/site.css');
    expect(get.status).toBe(200);
    expect(get.headers['content-type']).toBe('text/css; charset=utf-8');
    const head = await request(port, '/css/site.css', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(get.headers['content-length']);
    expect(head.body.length).toBe(0);
  });
});

describe("mounted at a path: every URL sent back carries the mount", () => {
  let port: number;
  beforeAll(async () => {
    const root = await tempDir();
    await writeTree(root, {
      'index.html': '<!doctype html><title>mounted index</title>',
      'docs/guide.md': '# guide',
      'docs/deep/a.txt': 'a',
      'todo@txt': 'the todo list',
    });
    const app = express();
    app.use('/static', createHandler({ directory: root }));
    app.use('/caf%C3%A9', createHandler({ directory: root }));
    app.use((_req, res) => {
      res.status(404).type('text/plain').send('app 404');
    });
    port = await listen(app);
  });

  // [target, status, Location]
  it.each([
    ['/static', 301, '/static/'],
    ['/static?x=1', 301, '/static/?x=1'],
    ['/static/docs', 301, '/static/docs/'],
    ['/static/docs/deep?sort=size', 301, '/static/docs/deep/?sort=size'],
    ['/caf%C3%A9/docs', 301, '/caf%C3%A9/docs/'],
  ])('%s → %i to %s', async (target, status, location) => {
    const response = await request(port, target);
    expect(response.status).toBe(status);
    expect(response.headers['location']).toBe(location);
  });

  it('serves the index at the mount point with its slash', async () => {
    const response = await request(port, '/static/');
    expect(response.status).toBe(200);
    expect(response.text).toContain('mounted index');
  });

  it.each(['/static/todo@txt', '/static//todo@txt'])('%s is the file', async (target) => {
    const response = await request(port, target);
    expect(response.status).toBe(200);
    expect(response.text).toBe('the todo list');
  });

  it('a listing names its path with the mount, and its links resolve inside it', async () => {
    const response = await request(port, '/static/docs/');
    expect(response.status).toBe(200);
    expect(response.text).toContain('<title>Index of /static/docs/</title>');
    const base = new URL('http://localhost/static/docs/');
    const links = [...response.text.matchAll(/href="([^"?]+)"/g)].map((match) => new URL(match[1]!.replace(/&amp;/g, '&'), base).pathname);
    expect(links).toEqual(expect.arrayContaining(['/static/docs/guide.md', '/static/docs/deep/', '/static/']));
    const json = await request(port, '/static/docs/', { headers: { Accept: 'application/json' } });
    expect(JSON.parse(json.text).path).toBe('/static/docs/');
    // The same folder through the other mount is a page of its own.
    expect((await request(port, '/caf%C3%A9/docs/')).text).toContain('<title>Index of /café/docs/</title>');
  });

  it('outside the mount, the app answers', async () => {
    expect((await request(port, '/docs/guide.md')).text).toBe('app 404');
  });
});

describe('live reload under a mount', () => {
  it('the script, its stream and the change events all live under the mount', async () => {
    const root = await tempDir();
    await writeTree(root, { 'index.html': '<!doctype html><title>t</title><body><p>hi</p></body>' });
    const handler = createHandler({ directory: root, watch: true, quiet: true });
    onCleanup(() => handler.close());
    const app = express();
    app.use('/static', handler);
    const port = await listen(app);
    await handler.ready;

    const page = await request(port, '/static/');
    expect(page.status).toBe(200);
    const src = /<script src="([^"]+)"/.exec(page.text)?.[1];
    expect(src).toBe('/static/__serve-dir/client.js');
    const script = await request(port, src!);
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);

    const events = await SseClient.connect(`http://127.0.0.1:${port}/static/__serve-dir/events`, { Host: `localhost:${port}` });
    onCleanup(() => {
      events.response.destroy();
    });
    expect(events.status).toBe(200);
    expect((await events.next(10_000)).data.type).toBe('hello');
    await writeTree(root, { 'index.html': '<!doctype html><title>t</title><body><p>edited</p></body>' });
    const message = await events.next(10_000);
    expect(message.data).toMatchObject({ type: 'change' });
    // The same page at the root of another app would name another script: its tag is its own.
    expect((await request(port, '/static/')).headers['etag']).not.toBe(page.headers['etag']);
  });
});

describe('setHeaders(res, path, stat): headers by path, as with serve-static', () => {
  let port: number;
  const calls: string[] = [];
  beforeAll(async () => {
    const app = express();
    app.use(
      createHandler({
        directory: FIXTURE_SITE,
        setHeaders: (res, path, stat) => {
          calls.push(path.slice(FIXTURE_SITE.length));
          res.setHeader('X-File-Size', String(stat.size));
          if (path.endsWith('.css')) res.setHeader('Cache-Control', 'public, max-age=600');
        },
      }),
    );
    port = await listen(app);
  });

  it('its headers go out on the file, once each, and win over ours', async () => {
    const response = await request(port, '/css/site.css');
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toBe('public, max-age=600');
    expect(response.headerNames.filter((name) => name.toLowerCase() === 'cache-control')).toHaveLength(1);
    expect(response.headers['x-file-size']).toBe(String(response.body.length));
    expect(calls.at(-1)).toBe('/css/site.css');
  });

  it('on a 304 and a 206 too', async () => {
    const { headers } = await request(port, '/css/site.css');
    const notModified = await request(port, '/css/site.css', { headers: { 'If-None-Match': headers['etag']! } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers['cache-control']).toBe('public, max-age=600');
    const partial = await request(port, '/css/site.css', { headers: { Range: 'bytes=0-3' } });
    expect(partial.status).toBe(206);
    expect(partial.headers['x-file-size']).toBeDefined();
    expect(partial.headers['content-length']).toBe('4');
  });

  it('not on listings, error pages or redirects', async () => {
    calls.length = 0;
    for (const target of ['/docs/', '/%zz', '/docs']) {
      const response = await request(port, target);
      expect(response.headers['x-file-size'], target).toBeUndefined();
    }
    expect(calls).toEqual([]);
  });
});

describe('what the app set before us', () => {
  let port: number;
  beforeAll(async () => {
    const app = express();
    // ?type, ?lang and ?status make the app begin the response before handing it on.
    app.use((req, res, next) => {
      const query = new URL(req.url, 'http://app').searchParams;
      if (query.has('type')) res.type('text/x-from-the-app');
      if (query.has('lang')) res.set({ 'Content-Language': 'fr', 'X-From-App': 'yes' });
      if (query.has('status')) res.status(503);
      next();
    });
    app.use(createHandler({ directory: FIXTURE_SITE }));
    port = await listen(app);
  });

  it("the app's Content-Type wins for a file", async () => {
    const response = await request(port, '/hello%20world.txt?type');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/x-from-the-app; charset=utf-8');
    expect(response.text).toContain('Hello, world');
  });

  // [target, status]: our error pages and redirects describe themselves, not what the app meant to send.
  it.each([
    ['/%zz?lang', 400],
    ['/docs?lang', 301],
  ])('%s → %i carries none of the headers the app set', async (target, status) => {
    const response = await request(port, target);
    expect(response.status).toBe(status);
    expect(response.headers['content-language']).toBeUndefined();
    expect(response.headers['x-from-app']).toBeUndefined();
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('a 304 carries no Content-* field the app set (RFC 9110 §15.4.5), other headers stay', async () => {
    const { headers } = await request(port, '/hello%20world.txt');
    const response = await request(port, '/hello%20world.txt?lang', { headers: { 'If-None-Match': headers['etag']! } });
    expect(response.status).toBe(304);
    expect(response.headers['content-language']).toBeUndefined();
    expect(response.headers['x-from-app']).toBe('yes');
  });

  it('a status the app set is kept, never turned into a 304 or 206', async () => {
    const { headers } = await request(port, '/hello%20world.txt');
    const response = await request(port, '/hello%20world.txt?status', {
      headers: { 'If-None-Match': headers['etag']!, Range: 'bytes=0-1' },
    });
    expect(response.status).toBe(503);
    expect(response.text).toContain('Hello, world');
  });
});

describe("forwardErrors: client errors go to the app's error handler", () => {
  async function appWith(forwardErrors: boolean): Promise<number> {
    const app = express();
    app.use(createHandler({ directory: FIXTURE_SITE, forwardErrors }));
    app.use((_req, res) => {
      res.status(404).type('text/plain').send('app 404');
    });
    app.use((error: { status: number; statusCode: number; headers?: Record<string, string> }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(error.status).type('text/plain').send(`app error ${error.statusCode} ${JSON.stringify(error.headers ?? {})}`);
    });
    return listen(app);
  }

  // [target, headers, status, what the app's error handler received]
  it.each([
    ['/%zz', {}, 400, 'app error 400 {}'],
    ['/hello%20world.txt', { 'If-Match': '"not-the-tag"' }, 412, 'app error 412 {}'],
    ['/hello%20world.txt', { Range: 'bytes=99999-' }, 416, 'app error 416 {"Content-Range":"bytes */'],
    ['/.env', {}, 404, 'app 404'],
  ])('%s %j → %i from the app', async (target, headers, status, text) => {
    const response = await request(await appWith(true), target, { headers });
    expect(response.status).toBe(status);
    expect(response.text.startsWith(text)).toBe(true);
  });

  it('off by default: serve-dir answers client errors itself', async () => {
    const port = await appWith(false);
    const response = await request(port, '/%zz');
    expect(response.status).toBe(400);
    expect(response.text).toContain('<h1>400 Bad Request</h1>');
  });
});

describe('the package from CommonJS', () => {
  it("require('serve-dir') loads the library and it serves a request", async () => {
    const script = join(REPO_ROOT, 'test', 'server', 'require-from-commonjs.cjs');
    const { stdout } = await promisify(execFile)(process.execPath, [script, FIXTURE_SITE], { cwd: REPO_ROOT });
    const result = JSON.parse(stdout) as { status: number; body: string; createHandler: string };
    expect(result.status).toBe(200);
    expect(result.body).toContain('Hello, world');
    expect(result.createHandler).toBe('function');
  });
});
