/**
 * `--proxy <prefix>=<url>` end to end through the built CLI: requests under the prefix reach a
 * real backend, the banner lists the route, the config file's "proxy" works, and a bad value is
 * one line and exit 1.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, request, runCli, spawnCli, tempDir, writeTree } from '../helpers/server.js';
import { deadPort, startBackend, type Backend } from '../proxy/backend.js';

let backend: Backend;
let root: string;

beforeAll(async () => {
  backend = await startBackend();
  root = await tempDir();
  await writeTree(root, { 'index.html': '<!doctype html><title>static</title>' });
});
afterAll(async () => {
  await cleanup();
  await backend.close();
});

async function start(args: string[], cwd?: string) {
  const cli = spawnCli([root, '--port', '0', ...args], cwd === undefined ? {} : { cwd });
  const [, port] = await cli.waitForStdout(/http:\/\/localhost:(\d+)/);
  return { cli, port: Number(port) };
}

describe('serve-dir --proxy', () => {
  it('sends the prefix to the backend, serves the rest from the folder, and lists the route in the banner', async () => {
    const { cli, port } = await start(['--proxy', `/api=${backend.origin}`, '--proxy', `/other=${backend.origin}/v1`]);
    expect(cli.stdout()).toContain(`Proxy:   /api → ${backend.origin}/`);
    const proxied = await request(port, '/api/echo?x=1', { method: 'POST', headers: { 'Content-Length': '0' } });
    expect(proxied.status).toBe(200);
    expect(JSON.parse(proxied.text)).toMatchObject({ method: 'POST', url: '/api/echo?x=1' });
    const other = await request(port, '/other/echo');
    expect(JSON.parse(other.text)).toMatchObject({ url: '/v1/other/echo' });
    expect((await request(port, '/')).text).toContain('<title>static</title>');
  });

  it('a backend that is down: 502, and one warning line on stderr for all its requests', async () => {
    const dead = await deadPort();
    const { cli, port } = await start(['--proxy', `/api=http://127.0.0.1:${dead}`, '--quiet']);
    expect((await request(port, '/api/a')).status).toBe(502);
    expect((await request(port, '/api/b')).status).toBe(502);
    // The request log is off (--quiet); a plain request after the two proves their warnings are written.
    await request(port, '/');
    const lines = cli.stderr().split('\n').filter((line) => line.includes('cannot reach the backend'));
    expect(lines).toEqual([`serve-dir: cannot reach the backend http://127.0.0.1:${dead}/ for /api (ECONNREFUSED); answering 502 until it answers`]);
  });

  it('the config file\'s "proxy", in Vite\'s shape', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'serve-dir.config.json'), JSON.stringify({ proxy: { '/app': { target: backend.origin, changeOrigin: true, rewrite: { from: '/app', to: '/api' } } } }));
    const { port } = await start([], dir);
    const reply = await request(port, '/app/echo');
    expect(JSON.parse(reply.text)).toMatchObject({ url: '/api/echo', headers: { host: `127.0.0.1:${backend.port}` } });
  });

  it.each([
    ['api', 'serve-dir: invalid --proxy "api": expected <prefix>=<url>, such as /api=http://127.0.0.1:5000\n'],
    ['/api=localhost:5000', 'serve-dir: invalid --proxy: the target of "/api" must be an http(s) or ws(s) URL, not "localhost:5000"\n'],
    ['/api/../x=http://127.0.0.1:5000', 'serve-dir: invalid --proxy: the prefix "/api/../x" must be a plain URL path starting with "/", such as "/api"\n'],
  ])('--proxy %s is one line and exit 1', async (value, message) => {
    const { code, stdout, stderr } = await runCli([root, '--port', '0', '--proxy', value]);
    expect({ code, stdout, stderr }).toEqual({ code: 1, stdout: '', stderr: message });
  });
});
