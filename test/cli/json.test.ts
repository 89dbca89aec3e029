// --json: stdout carries JSON lines only, the listening line first, for test runners and tools.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, request, spawnCli, stopCli, tempDir, writeTree, type CliProcess } from '../helpers/server.js';

afterAll(cleanup);

/** Every line of stdout, each of which must be JSON. */
function jsonLines(stdout: string): Array<Record<string, unknown>> {
  expect(stdout.endsWith('\n')).toBe(true);
  return stdout
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const HOSTILE_NAME = 'a\x1b]0;x\x07\u2028\u202e\u009b.css';

async function portOf(cli: CliProcess): Promise<number> {
  const [line] = await cli.waitForStdout(/^.*\n/);
  return (JSON.parse(line) as { port: number }).port;
}

describe('--json', () => {
  it('first the listening line with the port chosen by --port 0, then one line per request; no banner', async () => {
    const root = await tempDir();
    await writeTree(root, { 'hello.txt': 'hello', 'a b.txt': 'ab' });
    const cli = spawnCli([root, '--port', '0', '--json'], { cwd: root });
    const port = await portOf(cli);
    const hello = await request(port, '/hello.txt');
    expect(hello.status).toBe(200);
    await cli.waitForStdout(/"path":"\/hello\.txt"/);
    expect((await request(port, '/missing', { method: 'HEAD' })).status).toBe(404);
    await cli.waitForStdout(/"path":"\/missing"/);
    await stopCli(cli);

    const [listening, ...requests] = jsonLines(cli.stdout());
    expect(listening).toEqual({ event: 'listening', urls: [`http://localhost:${port}`], network: [], port, directory: root });
    expect(Object.keys(listening!)[0]).toBe('event');
    expect(requests).toEqual([
      { event: 'request', time: expect.any(String), method: 'GET', path: '/hello.txt', status: 200, bytes: expect.any(Number), ms: expect.any(Number), aborted: false },
      { event: 'request', time: expect.any(String), method: 'HEAD', path: '/missing', status: 404, bytes: expect.any(Number), ms: expect.any(Number), aborted: false },
    ]);
    // A stable field order, for those who read it with grep.
    expect(Object.keys(requests[0]!)).toEqual(['event', 'time', 'method', 'path', 'status', 'bytes', 'ms', 'aborted']);
    expect(Date.parse(requests[0]!.time as string)).not.toBeNaN();
    // Body bytes, not what the header block adds: a HEAD sends none.
    expect(requests[0]!.bytes).toBe(hello.body.length);
    expect(requests[1]!.bytes).toBe(0);
    expect(cli.stdout()).not.toContain('serve-dir serving');
  });

  it('warnings are JSON lines on stdout too', async () => {
    const root = await tempDir();
    await writeTree(root, { 'index.html': 'hi' });
    const cli = spawnCli([root, '--port', '0', '--json'], { cwd: root });
    const port = await portOf(cli);
    expect((await request(port, '/', { hostHeader: 'rebound.example' })).status).toBe(403);
    await cli.waitForStdout(/"event":"request"/);
    await stopCli(cli);
    const lines = jsonLines(cli.stdout());
    expect(lines.map((line) => line.event)).toEqual(['listening', 'warning', 'request']);
    expect(lines[1]).toEqual({ event: 'warning', code: 'host-refused', from: 'server', message: expect.stringContaining('--allowed-host rebound.example') });
    expect(cli.stderr()).toBe('');
  });

  it('under --watch: the watcher ready, then one line per change; a hostile file name stays JSON, and inert', async () => {
    const root = await tempDir();
    await writeTree(root, { 'index.html': '<p>hi</p>', 'site.css': 'a{}' });
    const cli = spawnCli([root, '--port', '0', '--json', '--watch'], { cwd: root });
    await portOf(cli);
    await cli.waitForStdout(/"event":"watching"/);
    // A name is whatever someone chose: ESC ] sets a terminal's title, U+2028 and U+202E are
    // a line break and a reordering to some readers, U+009B is the single-byte CSI.
    await writeFile(join(root, HOSTILE_NAME), 'b{}');
    await cli.waitForStdout(/"event":"change"/);
    await stopCli(cli);
    const lines = jsonLines(cli.stdout());
    expect(lines.map((line) => line.event)).toEqual(['listening', 'watching', 'change']);
    expect(lines[1]).toEqual({ event: 'watching', ms: expect.any(Number) });
    expect(lines[2]).toEqual({ event: 'change', paths: [`/${HOSTILE_NAME}`], pages: 0 });
    expect(cli.stdout()).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u202e]/);
    expect(cli.stdout()).toContain('"paths":["/a\\u001b]0;x\\u0007\\u2028\\u202e\\u009b.css"]');
  });

  it('with --quiet: the listening line and warnings only', async () => {
    const root = await tempDir();
    await writeTree(root, { 'hello.txt': 'hello' });
    const cli = spawnCli([root, '--port', '0', '--json', '--quiet'], { cwd: root });
    const port = await portOf(cli);
    expect((await request(port, '/hello.txt')).status).toBe(200);
    expect((await request(port, '/', { hostHeader: 'rebound.example' })).status).toBe(403);
    await cli.waitForStdout(/"event":"warning"/);
    // Stopping lets every response finish: any request line would be out by the exit.
    await stopCli(cli);
    expect(jsonLines(cli.stdout()).map((line) => line.event)).toEqual(['listening', 'warning']);
  });

  it('a reader that closes the pipe once it has the port does not stop the server', async () => {
    const root = await tempDir();
    await writeTree(root, { 'hello.txt': 'hello' });
    const cli = spawnCli([root, '--port', '0', '--json'], { cwd: root });
    const port = await portOf(cli);
    cli.child.stdout!.destroy();
    // Each response is a line written to the closed pipe: the server must survive the first.
    for (let i = 0; i < 3; i++) expect((await request(port, '/hello.txt')).status).toBe(200);
    expect((await stopCli(cli)).code).toBe(0);
    expect(cli.stderr()).toBe('');
  });
});
