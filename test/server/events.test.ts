// The library's events: typed data for onEvent, plain text (never escape codes) for log.
import fs from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../src/index.js';
import { jsonLine } from '../../src/log.js';
import { cleanup, FIXTURE_SITE, nextResponseClosed, request, serveDirectory, tempDir } from '../helpers/server.js';

afterAll(cleanup);

describe('startServer({ onEvent })', () => {
  it('receives the listening event, then a typed request event per response', async () => {
    const events: ServerEvent[] = [];
    const running = await serveDirectory(FIXTURE_SITE, { quiet: false, onEvent: (event) => events.push(event) });
    expect(events).toEqual([{ type: 'listening', urls: running.urls.local, network: [], port: running.port, directory: running.handler.options.root }]);
    const closed = nextResponseClosed(running.server);
    await request(running.port, '/css/site.css');
    await closed;
    expect(events[1]).toEqual({
      type: 'request',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      method: 'GET',
      path: '/css/site.css',
      status: 200,
      bytes: expect.any(Number),
      ms: expect.any(Number),
      aborted: false,
    });
  });

  it("request events count body bytes (a 304 none), and not the live-reload client's own requests", async () => {
    const events: ServerEvent[] = [];
    const running = await serveDirectory(FIXTURE_SITE, { quiet: false, watch: true, onEvent: (event) => events.push(event) });
    let closed = nextResponseClosed(running.server);
    const page = await request(running.port, '/css/site.css');
    await closed;
    closed = nextResponseClosed(running.server);
    await request(running.port, '/__serve-dir/client.js');
    await closed;
    closed = nextResponseClosed(running.server);
    expect((await request(running.port, '/css/site.css', { headers: { 'If-None-Match': page.headers['etag']! } })).status).toBe(304);
    await closed;
    const requests = events.filter((event) => event.type === 'request');
    expect(requests.map((event) => [event.path, event.status, event.bytes])).toEqual([
      ['/css/site.css', 200, page.body.length],
      ['/css/site.css', 304, 0],
    ]);
  });

  it('warnings are events, with a code; quiet drops requests, not warnings', async () => {
    const events: ServerEvent[] = [];
    const running = await serveDirectory(FIXTURE_SITE, { onEvent: (event) => events.push(event) });
    const closed = nextResponseClosed(running.server);
    await request(running.port, '/', { hostHeader: 'rebound.example' });
    await closed;
    expect(events.slice(1)).toEqual([
      { type: 'warning', code: 'host-refused', from: 'server', message: expect.stringContaining('refused a request for host "rebound.example"') },
    ]);
  });

  it('an internal error is an error event naming the request, and the response a 500', async () => {
    const events: ServerEvent[] = [];
    const root = await tempDir();
    await writeFile(join(root, 'a.txt'), 'a');
    const running = await serveDirectory(root, { onEvent: (event) => events.push(event) });
    // A disk that fails: stat throws an error no stage expects.
    // The file cache looks a path up with lstat (then stat): the failing call is lstat.
    const writable = fs as { lstatSync: typeof fs.lstatSync };
    const lstatSync = fs.lstatSync;
    writable.lstatSync = ((path: string, ...rest: []) => {
      if (String(path).includes('boom')) throw Object.assign(new Error(`EIO: i/o error, stat '${path}'`), { code: 'EIO' });
      return lstatSync(path, ...rest);
    }) as typeof fs.lstatSync;
    syncBuiltinESMExports();
    try {
      expect((await request(running.port, '/boom.txt')).status).toBe(500);
    } finally {
      writable.lstatSync = lstatSync;
      syncBuiltinESMExports();
    }
    expect(events.slice(1)).toEqual([
      {
        type: 'error',
        during: 'request',
        message: `Error: EIO: i/o error, stat '${join(running.handler.options.root, 'boom.txt')}'`,
        stack: expect.stringMatching(/^\s+at /),
        request: { method: 'GET', path: '/boom.txt' },
      },
    ]);
  });
});

describe('startServer({ log }): plain text, even when the terminal takes colour', () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.FORCE_COLOR;
    process.env.FORCE_COLOR = '1';
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.FORCE_COLOR;
    else process.env.FORCE_COLOR = saved;
  });

  it('request lines and change lines carry no escape codes', async () => {
    const root = await tempDir();
    await writeFile(join(root, 'index.html'), '<p>hi</p>');
    const lines: string[] = [];
    let onLine = (_line: string): void => {};
    const changed = new Promise<void>((resolve) => (onLine = (line) => line.startsWith('↻') && resolve()));
    const log = (line: string) => {
      lines.push(line);
      onLine(line);
    };
    const running = await serveDirectory(root, { quiet: false, watch: true, log });
    const closed = nextResponseClosed(running.server);
    await request(running.port, '/');
    await closed;
    await running.handler.ready;
    await writeFile(join(root, 'index.html'), '<p>changed</p>');
    await changed;
    expect(lines.join('\n')).not.toContain('\x1b');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\d\d:\d\d:\d\d GET \/ 200 /),
        expect.stringMatching(/^live reload: watching for changes \(ready in \d+ ms\)$/),
        '↻ index.html → 0 pages',
      ]),
    );
  });
});

describe('jsonLine', () => {
  it.each<[ServerEvent, string]>([
    [{ type: 'change', paths: ['/a.css'], pages: 2 }, '{"event":"change","paths":["/a.css"],"pages":2}'],
    [{ type: 'watching', ms: 12 }, '{"event":"watching","ms":12}'],
    [{ message: 'm', from: 'server', code: 'connections-full', type: 'warning' }, '{"event":"warning","code":"connections-full","from":"server","message":"m"}'],
    [{ type: 'error', during: 'request', message: 'Error: x\u2028y', request: { method: 'GET', path: '/\u009b' } }, '{"event":"error","during":"request","message":"Error: x\\u2028y","request":{"method":"GET","path":"/\\u009b"}}'],
  ])('%j', (event, line) => {
    expect(jsonLine(event)).toBe(line);
    expect(JSON.parse(line)).toBeTypeOf('object');
  });
});
