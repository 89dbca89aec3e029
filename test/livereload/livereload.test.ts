// startLiveReload end to end on the server side: real files in a temporary folder, a real
// node:http server that routes /__serve-dir/ to handle(), and an SSE client over a socket;
// then the endpoint as startServer serves it, over HTTP/1.1, HTTPS and HTTP/2.

import { mkdir, mkdtemp, realpath, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVERELOAD_PREFIX, startLiveReload, type LiveReload } from '../../src/livereload/index.js';
import { formatEvent } from '../../src/log.js';
import { writeResponse } from '../../src/respond.js';
import { inotifyWatchedInodes } from './inotify.js';
import { cleanup, onCleanup, tempDir, writeTree } from '../helpers/server.js';
import { client, serveOver, TRANSPORTS } from '../helpers/transport.js';
import { SseClient } from './sse-client.js';

/** Twice the batcher's longest flush delay: if a second event were coming, it would have come. */
const NO_SECOND_EVENT_WAIT_MS = 300;

interface Site {
  root: string;
  liveReload: LiveReload;
  origin: string;
  eventsUrl: string;
  logs: string[];
  close(): Promise<void>;
}

async function startSite(files: Record<string, string>, ignore: string[] = []): Promise<Site> {
  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), 'serve-dir-livereload-')));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), content);
  }
  const logs: string[] = [];
  const liveReload = await startLiveReload({ root, ignore, poll: false, emit: (event) => logs.push(formatEvent(event) ?? '') });
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith(LIVERELOAD_PREFIX) && liveReload.handle(req, res, (plan) => writeResponse(res, plan))) return;
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await liveReload.ready;
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    root,
    liveReload,
    origin,
    eventsUrl: `${origin}${LIVERELOAD_PREFIX}events`,
    logs,
    async close() {
      await liveReload.close();
      await new Promise((resolve) => server.close(resolve));
      await rm(root, { recursive: true, force: true });
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe('live reload', () => {
  const rounds = 5;
  const files: Record<string, string> = {
    'index.html': '<h1>home</h1>',
    'a b.html': 'spaces',
    'node_modules/pkg/index.js': 'module',
    'app/node_modules/dep/index.js': 'nested module',
    '.git/HEAD': 'ref: refs/heads/main',
    'logs/today.log': 'log',
    'build/app.js': 'built',
    'css/settle.css': 'a {}',
  };
  for (let i = 0; i < rounds; i++) {
    files[`css/site${i}.css`] = 'body {}';
    files[`page${i}.html`] = '<p>page</p>';
  }
  for (let i = 0; i < 20; i++) files[`burst/page${i}.html`] = 'before';

  let site: Site;
  let client: SseClient;

  beforeAll(async () => {
    site = await startSite(files, ['*.log', 'build']);
    client = await SseClient.connect(site.eventsUrl);
    expect((await client.next()).data.type).toBe('hello');
  });
  afterAll(async () => {
    client.close();
    await site.close();
  });

  it('sends one event with the URL path soon after a write', async () => {
    const latencies: Record<string, number[]> = { css: [], html: [] };
    for (let i = 0; i < rounds; i++) {
      for (const [kind, file] of [
        ['css', `css/site${i}.css`],
        ['html', `page${i}.html`],
      ] as const) {
        const writtenAt = performance.now();
        await writeFile(path.join(site.root, file), `/* edit ${i} */`);
        const event = await client.next();
        latencies[kind]!.push(event.receivedAt - writtenAt);
        expect(event.data).toEqual({ type: 'change', paths: [`/${file}`] });
      }
    }
    console.log(
      `write -> event arrival, median of ${rounds}: stylesheet ${median(latencies.css!).toFixed(1)} ms, ` +
        `page ${median(latencies.html!).toFixed(1)} ms`,
    );
    expect(site.logs).toContain(`↻ css/site0.css → 1 page`);
  });

  it('sends decoded paths', async () => {
    await writeFile(path.join(site.root, 'a b.html'), 'edited');
    expect((await client.next()).data).toEqual({ type: 'change', paths: ['/a b.html'] });
  });

  it('sends a burst of 20 writes as exactly one event', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => writeFile(path.join(site.root, `burst/page${i}.html`), 'after')));
    const event = await client.next();
    expect(event.data.type).toBe('change');
    expect([...(event.data.paths as string[])].sort()).toEqual(Array.from({ length: 20 }, (_, i) => `/burst/page${i}.html`).sort());
    expect(await client.nextOrNone(NO_SECOND_EVENT_WAIT_MS)).toBeUndefined();
    expect(site.logs.at(-1)).toMatch(/^↻ burst\/page\d+\.html \(\+19 more\) → 1 page$/);
  });

  it('reports nothing under .git, node_modules or the ignore globs', async () => {
    for (const file of ['node_modules/pkg/index.js', 'app/node_modules/dep/index.js', '.git/HEAD', 'logs/today.log', 'build/app.js']) {
      await writeFile(path.join(site.root, file), 'edited');
    }
    await writeFile(path.join(site.root, 'logs/new.log'), 'new');
    await writeFile(path.join(site.root, 'index.html'), '<h1>edited</h1>');
    // Had any of the ignored writes been seen, it would be in this batch or an earlier one.
    expect((await client.next()).data).toEqual({ type: 'change', paths: ['/index.html'] });
  });

  it.runIf(process.platform === 'linux')('puts no inotify watch on ignored folders', async () => {
    const watched = await inotifyWatchedInodes();
    const inode = async (relative: string) => (await stat(path.join(site.root, relative))).ino;
    expect(watched).toContain(await inode('.'));
    expect(watched).toContain(await inode('css'));
    for (const ignored of ['node_modules', 'node_modules/pkg', 'app/node_modules', '.git', 'build']) {
      expect(watched, ignored).not.toContain(await inode(ignored));
    }
  });

  it('reports new folders with a trailing slash', async () => {
    await mkdir(path.join(site.root, 'fresh'));
    expect((await client.next()).data).toEqual({ type: 'change', paths: ['/fresh/'] });
  });

  it('reports a second write that came too soon after the first for the watcher to notice', async () => {
    const file = path.join(site.root, 'css/settle.css');
    await writeFile(file, 'a { color: red }');
    expect((await client.next()).data).toEqual({ type: 'change', paths: ['/css/settle.css'] });
    // Written within chokidar's 50 ms per-path throttle after its event, which swallows it.
    await writeFile(file, 'a { color: blue }');
    expect((await client.next()).data).toEqual({ type: 'change', paths: ['/css/settle.css'] });
  });

  it('refuses a stream to a page of another origin', async () => {
    const foreign = await SseClient.connect(site.eventsUrl, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
  });

  it('serves the client script as JavaScript, revalidated with an ETag', async () => {
    const url = `${site.origin}${LIVERELOAD_PREFIX}client.js`;
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const script = await response.text();
    expect(Number(response.headers.get('content-length'))).toBe(Buffer.byteLength(script));
    expect(script).toContain(`${LIVERELOAD_PREFIX}events`);
    expect(() => new Function(script)).not.toThrow();

    const etag = response.headers.get('etag')!;
    const revalidated = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe('');

    expect((await fetch(url, { method: 'DELETE' })).status).toBe(405);
  });

  it('gives the tag that loads the client, naming the latest event', async () => {
    const before = site.liveReload.lastEventId;
    expect(before).toMatch(/^[\w-]+\.\d+$/);
    expect(site.liveReload.scriptTag).toBe(`<script src="${LIVERELOAD_PREFIX}client.js" data-since="${before}"></script>`);
    await writeFile(path.join(site.root, 'css/settle.css'), 'b {}');
    expect((await client.next()).data).toEqual({ type: 'change', paths: ['/css/settle.css'] });
    expect(site.liveReload.lastEventId).not.toBe(before);
    expect(site.liveReload.scriptTag).toContain(`data-since="${site.liveReload.lastEventId}"`);
  });

  it('leaves other paths under the prefix to the caller', async () => {
    expect((await fetch(`${site.origin}${LIVERELOAD_PREFIX}other`)).status).toBe(404);
  });
});

describe('live reload listeners and shutdown', () => {
  it('calls listeners with the batch, survives one that throws, and ends streams on close', async () => {
    const site = await startSite({ 'index.html': 'home' });
    const heard: string[][] = [];
    site.liveReload.onChange(() => {
      throw new Error('listener bug');
    });
    site.liveReload.onChange((paths) => heard.push(paths));
    const client = await SseClient.connect(site.eventsUrl);
    await client.next();

    await writeFile(path.join(site.root, 'index.html'), 'edited');
    expect((await client.next()).data).toEqual({ type: 'change', paths: ['/index.html'] });
    expect(heard).toEqual([['/index.html']]);
    expect(site.logs.some((line) => line.includes('a change listener failed: Error: listener bug'))).toBe(true);

    await site.close();
    await client.ended;
  });

  it('refuses a malformed ignore pattern with a clear message', async () => {
    const root = await realpath(await mkdtemp(path.join(os.tmpdir(), 'serve-dir-livereload-')));
    await expect(startLiveReload({ root, ignore: ['*.{css'], poll: false, emit: () => {} })).rejects.toThrow(
      'Invalid ignore pattern "*.{css": unclosed "{"',
    );
    await rm(root, { recursive: true });
  });
});

describe.each(TRANSPORTS)('live reload through startServer over %s', (transport) => {
  const request = client(transport);
  let root: string;
  let port: number;

  beforeAll(async () => {
    root = await tempDir();
    await writeTree(root, { 'index.html': '<!doctype html><title>home</title><p>home</p>', 'css/site.css': 'a {}' });
    const running = await serveOver(transport, root, { watch: true });
    await running.handler.ready;
    port = running.port;
  });
  afterAll(cleanup);

  it('puts the script into pages and serves it, revalidated with its ETag', async () => {
    const page = await request(port, '/');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<script src="\/__serve-dir\/client\.js" data-since="[\w-]+\.\d+"><\/script>/);
    const script = await request(port, `${LIVERELOAD_PREFIX}client.js`);
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['x-content-type-options']).toBe('nosniff');
    expect(Number(script.headers['content-length'])).toBe(script.body.length);
    expect(script.text).toContain(`${LIVERELOAD_PREFIX}events`);
    const revalidated = await request(port, `${LIVERELOAD_PREFIX}client.js`, { headers: { 'If-None-Match': script.headers['etag']! } });
    expect(revalidated.status).toBe(304);
    expect(revalidated.body.length).toBe(0);
  });

  it('streams a change to an open page, while other requests are answered beside the stream', async () => {
    const stream = await SseClient.over(transport, port, `${LIVERELOAD_PREFIX}events`);
    onCleanup(() => stream.close());
    expect(stream.status).toBe(200);
    expect(stream.response.headers['content-type']).toBe('text/event-stream');
    expect((await stream.next()).data.type).toBe('hello');
    // Over HTTP/2 this request shares the stream's session.
    expect((await request(port, '/css/site.css')).text).toBe('a {}');
    await writeFile(path.join(root, 'css/site.css'), 'a { color: red }');
    expect((await stream.next()).data).toEqual({ type: 'change', paths: ['/css/site.css'] });
  });

  it('refuses a stream to a page of another origin', async () => {
    const foreign = await SseClient.over(transport, port, `${LIVERELOAD_PREFIX}events`, { Origin: 'http://evil.example' });
    onCleanup(() => foreign.close());
    expect(foreign.status).toBe(403);
    // Written by the server's one writer, with its header policy.
    expect(foreign.response.headers['x-content-type-options']).toBe('nosniff');
    expect(foreign.response.headers['content-type']).toBe('text/plain; charset=utf-8');
    await foreign.ended;
  });

  it('ends open streams when the server closes, without waiting out the grace period', async () => {
    const site = await tempDir();
    await writeTree(site, { 'index.html': 'home' });
    const running = await serveOver(transport, site, { watch: true });
    await running.handler.ready;
    const stream = await SseClient.over(transport, running.port, `${LIVERELOAD_PREFIX}events`);
    expect((await stream.next()).data.type).toBe('hello');
    const graceMs = 15_000;
    const closed = running.close(graceMs).then(() => 'closed');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise((resolve) => (timer = setTimeout(resolve, graceMs - 1000, 'grace over')));
    expect(await Promise.race([closed, graceOver])).toBe('closed');
    clearTimeout(timer);
    await stream.ended;
  });
});
