import { afterAll, describe, expect, it } from 'vitest';
import { LIVERELOAD_PREFIX } from '../../src/livereload/index.js';
import { LIVERELOAD_PREFIX as STAGE_PREFIX } from '../../src/stages/livereload.js';
import { cleanup, request, serveDirectory, tempDir, writeTree } from '../helpers/server.js';

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
