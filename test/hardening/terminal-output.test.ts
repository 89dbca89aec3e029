// Nothing from the file system or the network reaches the terminal raw: the CLI (the
// built dist/, as users run it) is given hostile file names, a hostile served folder, a
// hostile request target and an internal error whose message holds a hostile path, and
// everything it prints is checked for control characters a terminal would obey.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, failingDiskPreload, exchange, parseResponse, request, runCli, startCli, stopCli, tempDir, writeTree } from '../helpers/server.js';

afterAll(cleanup);

/**
 * A name that would set the window title, clear the screen, colour through the C1
 * CSI, reverse the text after it (RLO), and forge a request line of its own.
 */
const HOSTILE = 'a\x1b]0;pwned\x07\x1b[2J\u009b31m\u202eb\r\n12:00:00 DELETE index.html 200';
/** The same as terminalSafe shows it. */
const SHOWN = 'a\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202eb\\r\\n12:00:00 DELETE index.html 200';

/**
 * Output a terminal can show as it is: line feeds between lines, no other control
 * character (C0, DEL, C1), no Unicode line break and no bidi control.
 */
function expectInert(output: string): void {
  // eslint-disable-next-line no-control-regex
  const unsafe = output.match(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu) ?? [];
  expect(unsafe.map((char) => `U+${char.codePointAt(0)!.toString(16).padStart(4, '0')}`), JSON.stringify(output)).toEqual([]);
  expect(output).not.toMatch(/^12:00:00 DELETE/m);
}

describe('the terminal sees no raw control characters', () => {
  it('in the banner: the served folder named with control characters', async () => {
    const parent = await tempDir();
    await mkdir(join(parent, HOSTILE));
    const cli = await startCli([HOSTILE, '--port', '0'], { cwd: parent });
    expect((await stopCli(cli)).code).toBe(0);
    expectInert(cli.stdout() + cli.stderr());
    expect(cli.stdout()).toContain(`serving ${SHOWN}`);
  });

  it('in the banner: a served folder outside the current one, printed as an absolute path', async () => {
    const parent = await tempDir();
    await mkdir(join(parent, HOSTILE, 'site'), { recursive: true });
    const elsewhere = await tempDir();
    const cli = await startCli([join(parent, HOSTILE, 'site'), '--port', '0'], { cwd: elsewhere });
    expect((await stopCli(cli)).code).toBe(0);
    expectInert(cli.stdout() + cli.stderr());
    expect(cli.stdout()).toContain(`${SHOWN}/site`);
  });

  it('in a usage error naming the folder', async () => {
    const { code, stdout, stderr } = await runCli([`missing-${HOSTILE}`, '--port', '0'], { cwd: await tempDir() });
    expect(code).toBe(1);
    expectInert(stdout + stderr);
    expect(stderr).toMatch(/^serve-dir: directory not found: .*missing-a\\x1b\]0;pwned/);
    expect(stderr.split('\n')).toHaveLength(2); // one line and its end
  });

  it('in change lines (--watch): a file created with a hostile name', async () => {
    const root = await tempDir();
    await writeTree(root, { 'index.html': '<p>home</p>' });
    const cli = await startCli([root, '--port', '0', '--watch']);
    await cli.waitForStdout(/live reload: watching for changes/);
    await writeFile(join(root, HOSTILE), 'x');
    await cli.waitForStdout(/DELETE index\.html 200 → \d+ page/);
    expect((await stopCli(cli)).code).toBe(0);
    expectInert(cli.stdout() + cli.stderr());
    expect(cli.stdout()).toContain(`↻ ${SHOWN} → 0 pages`);
  });

  it('in the request log: hostile request targets', async () => {
    const root = await tempDir();
    await writeTree(root, { 'index.html': '<p>home</p>' });
    const cli = await startCli([root, '--port', '0']);
    // Node's parser refuses raw control and non-ASCII bytes in a target (400, never logged);
    // what it lets through is printable ASCII, and percent escapes stay text in the log.
    for (const bytes of [[0x1b, 0x5b, 0x32, 0x4a], [0x9b, 0x32, 0x4a], [0xc2, 0x9b], [0xe2, 0x80, 0xae], [0x7f], [0x0d]]) {
      const raw = Buffer.concat([Buffer.from('GET /x'), Buffer.from(bytes), Buffer.from(' HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')]);
      expect(parseResponse(await exchange(cli.port, raw)).status).toBe(400);
    }
    expect((await request(cli.port, '/x%1B%5D0%3Bt%07%0D%0A12:00:00%20DELETE')).status).toBe(404);
    expect((await request(cli.port, '/index.html')).status).toBe(200);
    await cli.waitForStdout(/GET \/index\.html 200/);
    expect((await stopCli(cli)).code).toBe(0);
    expectInert(cli.stdout() + cli.stderr());
    expect(cli.stdout()).toContain(' GET /x%1B%5D0%3Bt%07%0D%0A12:00:00%20DELETE 404 ');
  });

  it('in a crash at start-up (our bug): the stack is shown, the path in its message inert', async () => {
    const parent = await tempDir();
    await mkdir(join(parent, `boom${HOSTILE}`));
    const preload = join(await tempDir(), 'failing-realpath.cjs');
    await writeFile(
      preload,
      `const fs = require('node:fs');
const realpathSync = fs.realpathSync;
fs.realpathSync = Object.assign(function (path, ...rest) {
  if (String(path).includes('boom')) throw Object.assign(new Error(\`EIO: i/o error, realpath '\${path}'\`), { code: 'EIO' });
  return realpathSync.call(this, path, ...rest);
}, { native: realpathSync.native });
`,
    );
    const { code, stdout, stderr } = await runCli([`boom${HOSTILE}`, '--port', '0'], { cwd: parent, env: { NODE_OPTIONS: `--require ${preload}` } });
    expect(code).toBe(1);
    expectInert(stdout + stderr);
    expect(stderr).toContain(`serve-dir: Error: EIO: i/o error, realpath '${parent}/boom${SHOWN}'\n    at `);
  });

  it('in internal-error lines, which print even with --quiet', async () => {
    const root = await tempDir();
    await writeTree(root, { 'index.html': '<p>home</p>' });
    // A disk that fails: stat throws an unexpected error whose message holds the path,
    // as Node's own errors do (EIO: i/o error, stat '/srv/…').
    const preload = await failingDiskPreload();
    const cli = await startCli([root, '--port', '0', '--quiet'], { env: { NODE_OPTIONS: `--require ${preload}` } });
    const hostileTarget = `/boom${encodeURIComponent(HOSTILE)}`;
    expect((await request(cli.port, hostileTarget)).status).toBe(500);
    // The server carries on.
    expect((await request(cli.port, '/index.html')).status).toBe(200);
    expect((await stopCli(cli)).code).toBe(0);
    const stderr = cli.stderr();
    expectInert(cli.stdout() + stderr);
    expect(stderr).toContain('serve-dir: internal error while serving a request');
    expect(stderr).toContain(`EIO: i/o error, stat '${root}/boom${SHOWN}'`);
  });
});
