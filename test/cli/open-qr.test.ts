// --open and --qr through the CLI: the browser command gets the URL once the server listens,
// a missing opener costs one line, and the banner's QR code reads back as the network URL.
import { execFileSync } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decode, modulesOf } from '../helpers/qr.js';
import { cleanup, request, runCli, startCli, stopCli, tempDir, writeTree } from '../helpers/server.js';

afterAll(cleanup);

/**
 * A BROWSER script that writes its arguments, one per line, into a named pipe. Reading the
 * pipe waits for the script itself: no polling, no sleep.
 */
async function recordingBrowser(): Promise<{ script: string; recorded: () => Promise<string[]> }> {
  const folder = await tempDir('serve-dir-open-');
  const pipe = join(folder, 'arguments');
  execFileSync('mkfifo', [pipe]);
  const script = join(folder, 'browser.sh');
  await writeFile(script, `#!/bin/sh\nprintf '%s\\n' "$@" > '${pipe}'\n`);
  await chmod(script, 0o755);
  return { script, recorded: async () => (await readFile(pipe, 'utf8')).split('\n').slice(0, -1) };
}

async function site(): Promise<string> {
  const root = await tempDir();
  await writeTree(root, { 'index.html': '<p>hi</p>', 'docs/index.html': '<p>docs</p>' });
  return root;
}

describe.skipIf(process.platform === 'win32')('-o, --open [path]', () => {
  it('runs BROWSER with the URL once listening', async () => {
    const { script, recorded } = await recordingBrowser();
    const cli = await startCli([await site(), '--port', '0', '--open'], { env: { BROWSER: script } });
    expect(await recorded()).toEqual([`${cli.url}/`]);
    expect(cli.stderr()).toBe('');
  });

  it('at the path given', async () => {
    const { script, recorded } = await recordingBrowser();
    const cli = await startCli([await site(), '--port', '0', '-o', '/docs/'], { env: { BROWSER: script } });
    expect(await recorded()).toEqual([`${cli.url}/docs/`]);
  });

  it('a path without its leading slash is one line, exit 1 (commander reads `-o dist` as the path)', async () => {
    const { code, stderr } = await runCli([await site(), '--port', '0', '--open', 'docs']);
    expect({ code, stderr }).toEqual({
      code: 1,
      stderr: 'serve-dir: invalid --open "docs": expected a path starting with "/" (to serve a folder, name it before the flag: serve-dir dist --open)\n',
    });
  });

  it('BROWSER=none opens nothing and says nothing', async () => {
    const cli = await startCli([await site(), '--port', '0', '--open'], { env: { BROWSER: 'none' } });
    expect((await request(cli.port, '/')).status).toBe(200);
    await stopCli(cli);
    expect(cli.stderr()).toBe('');
  });

  it('without an opener: one line saying so, and the server serves on', async () => {
    const emptyPath = await tempDir('serve-dir-open-');
    const cli = await startCli([await site(), '--port', '0', '--open'], { env: { BROWSER: undefined, PATH: emptyPath } });
    expect((await request(cli.port, '/')).status).toBe(200);
    await stopCli(cli);
    expect(cli.stderr()).toBe(`serve-dir: could not open a browser: no browser opener found (xdg-open is not installed); open ${cli.url}/ yourself\n`);
  });

  it('with --json, that line is a JSON warning', async () => {
    const cli = await startCli([await site(), '--port', '0', '--open', '--json'], { env: { BROWSER: '/nonexistent/browser' } });
    await cli.waitForStdout(/"event":"warning"/);
    await stopCli(cli);
    const lines = cli.stdout().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line.event)).toEqual(['listening', 'warning']);
    expect(lines[1]).toMatchObject({ code: 'open-failed', message: expect.stringContaining('BROWSER command "/nonexistent/browser" not found') });
  });
});

const hasNetworkAddress = Object.values(networkInterfaces()).some((addresses) => (addresses ?? []).some((address) => !address.internal && address.family === 'IPv4'));

describe('--qr', () => {
  it.skipIf(!hasNetworkAddress)('with --bind 0.0.0.0, the banner shows a QR code that reads as the first network URL', async () => {
    const cli = await startCli([await site(), '--port', '0', '--bind', '0.0.0.0', '--qr']);
    const [, networkUrl] = await cli.waitForStdout(/Network: (http:\/\/\S+)\n/);
    await cli.waitForStdout(/Press Ctrl\+C/);
    const drawing = cli
      .stdout()
      .split('\n')
      .filter((line) => /^ {2}[█▀▄ ]+$/.test(line) && /[█▀▄]/.test(line))
      .map((line) => line.slice(2))
      .join('\n');
    expect(drawing.split('\n').length).toBeGreaterThan(10);
    // Without colours (NO_COLOR), the blocks are the light modules on a dark terminal.
    expect(decode(modulesOf(drawing, false), 'dark')).toBe(networkUrl);
    expect((await request(cli.port, '/')).status).toBe(200);
  });

  it('without a network bind: no code, one line saying what to add, and the server serves on', async () => {
    const cli = await startCli([await site(), '--port', '0', '--qr']);
    expect((await request(cli.port, '/')).status).toBe(200);
    await stopCli(cli);
    expect(cli.stdout()).not.toMatch(/[█▀▄]/);
    expect(cli.stderr()).toBe('serve-dir: --qr shows the network URL: add --bind 0.0.0.0 (or ::) to serve to the network\n');
  });
});
