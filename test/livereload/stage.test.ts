import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createHandler } from '../../src/handler.js';
import { LIVERELOAD_PREFIX } from '../../src/livereload/index.js';
import { LIVERELOAD_PREFIX as STAGE_PREFIX } from '../../src/stages/livereload.js';
import { cleanup, request, serveDirectory, tempDir, writeTree } from '../helpers/server.js';
import { inotifyWatchedInodes } from './inotify.js';

afterAll(cleanup);

describe('live-reload stage', () => {
  it('recognises the same reserved prefix as the module it loads lazily', () => {
    expect(STAGE_PREFIX).toBe(LIVERELOAD_PREFIX);
  });

  it('answers a ranged GET from the file untouched, and a HEAD with Range as the plain GET', async () => {
    const root = await tempDir();
    const page = '<!doctype html><title>t</title><body><p>page</p></body>';
    await writeTree(root, { 'index.html': page });
    const running = await serveDirectory(root, { watch: true });
    await running.handler.ready;

    const whole = await request(running.port, '/index.html');
    expect(whole.status).toBe(200);
    expect(whole.text).toContain(`${LIVERELOAD_PREFIX}client.js`);

    const ranged = await request(running.port, '/index.html', { headers: { Range: 'bytes=0-8' } });
    expect(ranged.status).toBe(206);
    expect(ranged.text).toBe(page.slice(0, 9));

    // RFC 9110 §14.2: Range is for GET only, so a HEAD reports what the plain GET sends.
    const head = await request(running.port, '/index.html', { method: 'HEAD', headers: { Range: 'bytes=0-8' } });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(whole.headers['content-length']);
    expect(head.headers['etag']).toBe(whole.headers['etag']);
  });
});

describe('when the watcher starts', () => {
  it('begins once the first response is out, without waiting for the delay', async () => {
    const root = await tempDir();
    await writeTree(root, { 'a.txt': 'a' });
    // Only the delay's timer is faked (and never advanced): the first response must start the watcher.
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const handler = createHandler({ directory: root, watch: true, quiet: true });
    vi.useRealTimers();
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      expect((await request(port, '/a.txt')).status).toBe(200);
      await handler.ready;
      if (process.platform === 'linux') expect(await inotifyWatchedInodes()).toContain((await stat(root)).ino);
    } finally {
      await handler.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('never begins in a handler closed before it did; pages are then served without the script', async () => {
    const root = await tempDir();
    await writeTree(root, { 'index.html': '<!doctype html><title>t</title><p>page</p>' });
    const handler = createHandler({ directory: root, watch: true, quiet: true });
    await handler.close();
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const page = await request(port, '/');
      expect(page.status).toBe(200);
      expect(page.text).not.toContain(LIVERELOAD_PREFIX);
      expect((await request(port, `${LIVERELOAD_PREFIX}client.js`)).status).toBe(404);
      if (process.platform === 'linux') expect(await inotifyWatchedInodes()).not.toContain((await stat(root)).ino);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
