import { gunzipSync } from 'node:zlib';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, request, startCli, stopCli, tempDir, writeTree, type StartedCli } from '../helpers/server.js';

let site: string;
let other: string;

beforeAll(async () => {
  site = await tempDir();
  await writeTree(site, {
    'file.txt': 'the file',
    '.env': 'dotenv',
    'folder/a.txt': 'a',
    'folder/home.html': 'home page',
    'indexed/index.html': 'the index',
  });
  other = await tempDir();
  await writeTree(other, { 'only-here.txt': 'the other site' });
});
afterAll(cleanup);

/**
 * One `serve-dir <site> --port 0 --quiet ...flags` per distinct set of flags in a table,
 * all started before its tests (each answers several rows) and stopped after them.
 */
function cliPerFlags(flagSets: readonly (readonly string[])[]): (flags: readonly string[]) => StartedCli {
  const clis = new Map<string, StartedCli>();
  beforeAll(async () => {
    const distinct = [...new Set(flagSets.map((flags) => JSON.stringify(flags)))];
    const started = await Promise.all(distinct.map((key) => startCli([site, '--port', '0', '--quiet', ...(JSON.parse(key) as string[])])));
    distinct.forEach((key, i) => clis.set(key, started[i]!));
  });
  return (flags) => clis.get(JSON.stringify(flags))!;
}

/** A request log line: time, method, path, status, bytes, milliseconds. */
const LOG_LINE = /^\d\d:\d\d:\d\d GET \/file\.txt 200 \d+(\.\d)? (B|KiB) \d+\.\d ms$/m;
const ESCAPE = '\x1b[';

describe('the banner and the URL it prints', () => {
  it('--port 0 prints the real port, and both loopback addresses answer on it', async () => {
    const cli = await startCli([site, '--port', '0']);
    expect(cli.url).toBe(`http://localhost:${cli.port}`);
    expect(cli.port).toBeGreaterThan(0);
    await cli.waitForStdout(/Press Ctrl\+C to stop\./);
    // A folder outside the working directory is shown by its absolute path.
    expect(cli.stdout()).toContain(`serving ${site}\n`);
    expect(cli.stdout()).toMatch(new RegExp(`Local: +http://localhost:${cli.port}\\n`));
    expect(cli.stdout()).not.toContain('in use');
    expect((await request(cli.port, '/file.txt', { address: '127.0.0.1' })).text).toBe('the file');
    expect((await request(cli.port, '/file.txt', { address: '::1', hostHeader: `[::1]:${cli.port}` })).text).toBe('the file');
  });

  it.each([['--bind'], ['-b'], ['--host']])('%s 127.0.0.1 binds that address and shows it', async (flag) => {
    const cli = await startCli([site, '--port', '0', flag, '127.0.0.1']);
    expect(cli.url).toBe(`http://127.0.0.1:${cli.port}`);
    expect((await request(cli.port, '/file.txt', { hostHeader: `127.0.0.1:${cli.port}` })).status).toBe(200);
    // Only the address asked for: ::1 is not served.
    await expect(request(cli.port, '/file.txt', { address: '::1' })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it.each([['-d <dir>'], ['--directory <dir>'], ['<dir>']])('%s serves that directory', async (form) => {
    const cli = await startCli([...form.split(' ').slice(0, -1), other, '--port', '0']);
    expect((await request(cli.port, '/only-here.txt')).text).toBe('the other site');
  });

  it('serves the current directory when none is given', async () => {
    const cli = await startCli(['--port', '0'], { cwd: other });
    expect(cli.stdout()).toContain('serving .');
    expect((await request(cli.port, '/only-here.txt')).text).toBe('the other site');
  });

  it('--bind 0.0.0.0 lists the Network URLs of this machine (or says there are none)', async () => {
    const cli = await startCli([site, '--port', '0', '--bind', '0.0.0.0']);
    await cli.waitForStdout(/Press Ctrl\+C/);
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((address) => address !== undefined && !address.internal && address.family === 'IPv4')
      .map((address) => address!.address);
    const shown = [...cli.stdout().matchAll(/Network: +http:\/\/([\d.]+):(\d+)/g)];
    if (external.length === 0) {
      expect(cli.stdout()).toMatch(/Network: +no external network interface found/);
      return;
    }
    expect(shown.map((match) => match[1]).sort()).toEqual(external.sort());
    expect(shown.every((match) => Number(match[2]) === cli.port)).toBe(true);
    const address = external[0]!;
    const response = await request(cli.port, '/file.txt', { address, hostHeader: `${address}:${cli.port}` });
    expect(response.text).toBe('the file');
  });
});

describe('colour', () => {
  // [environment, coloured?]: stdout is a pipe here, not a TTY.
  it.each([
    ['NO_COLOR=1', { NO_COLOR: '1' }, false],
    ['neither NO_COLOR nor FORCE_COLOR, output not a TTY', { NO_COLOR: undefined }, false],
    ['FORCE_COLOR=1', { NO_COLOR: undefined, FORCE_COLOR: '1' }, true],
  ])('with %s, the banner and log lines are coloured: %s', async (_, env, coloured) => {
    const cli = await startCli([site, '--port', '0'], { env });
    await cli.waitForStdout(/Press Ctrl\+C/);
    await request(cli.port, '/file.txt');
    await cli.waitForStdout(/\/file\.txt/);
    expect(cli.stdout().includes(ESCAPE)).toBe(coloured);
    if (!coloured) expect(cli.stdout()).toMatch(LOG_LINE);
  });
});

describe('the request log', () => {
  it('prints one line per request: time, method, path, status, bytes, ms', async () => {
    const cli = await startCli([site, '--port', '0']);
    await request(cli.port, '/file.txt');
    const [line] = await cli.waitForStdout(LOG_LINE);
    expect(line).toMatch(/ 200 \d+ B /);
    await request(cli.port, '/missing.txt');
    await cli.waitForStdout(/^\d\d:\d\d:\d\d GET \/missing\.txt 404 /m);
  });

  // [flag]: the banner still prints, the request lines do not.
  it.each([['-q'], ['--quiet']])('%s prints the banner but no request lines', async (flag) => {
    const cli = await startCli([site, '--port', '0', flag]);
    await request(cli.port, '/file.txt');
    await request(cli.port, '/missing.txt');
    // The log line is written when the response closes, before the client sees the
    // connection end; stopping the process flushes anything pending.
    expect((await stopCli(cli)).code).toBe(0);
    expect(cli.stdout()).toContain(`http://localhost:${cli.port}`);
    expect(cli.stdout()).not.toMatch(/ GET /);
  });
});

describe('serving flags', () => {
  // [flags, target, status, Cache-Control]
  const CASES: [string[], string, number, string][] = [
    [[], '/.env', 404, 'no-cache'],
    [['--dotfiles'], '/.env', 200, 'no-cache'],
    [[], '/folder/', 200, 'no-cache'],
    [['--no-listing'], '/folder/', 404, 'no-cache'],
    [[], '/file.txt', 200, 'no-cache'],
    [['--cache', '60'], '/file.txt', 200, 'public, max-age=60'],
    [['--cache', '60', '--immutable'], '/file.txt', 200, 'public, max-age=60, immutable'],
  ];
  const cliFor = cliPerFlags(CASES.map(([flags]) => flags));

  it.each(CASES)('%j: %s → %i, Cache-Control %s', async (flags, target, status, cacheControl) => {
    const cli = cliFor(flags);
    const response = await request(cli.port, target);
    expect(response.status).toBe(status);
    expect(response.headers['cache-control']).toBe(cacheControl);
  });
});

describe('folder flags', () => {
  // [flags, target, status, what the body holds]
  const CASES: [string[], string, number, string][] = [
    [[], '/indexed/', 200, 'the index'],
    [[], '/folder/', 200, 'a.txt'],
    [['--index', 'home.html'], '/folder/', 200, 'home page'],
    [['--index', 'home.html'], '/indexed/', 200, 'index.html'],
    [['--index', 'missing.html', '--index', 'index.html'], '/indexed/', 200, 'the index'],
    [['--no-index'], '/indexed/', 200, 'index.html'],
    [['--no-index', '--no-listing'], '/indexed/', 404, '404'],
    [[], '/indexed', 301, '301'],
    [['--no-redirect'], '/indexed', 404, '404'],
    [['--no-redirect'], '/indexed/', 200, 'the index'],
  ];
  const cliFor = cliPerFlags(CASES.map(([flags]) => flags));

  it.each(CASES)('%j: %s → %i', async (flags, target, status, text) => {
    const cli = cliFor(flags);
    const response = await request(cli.port, target);
    expect(response.status).toBe(status);
    expect(response.text).toContain(text);
  });
});

describe('--cache-memory', () => {
  // With no memory for contents, every answer comes from the file: still correct and fresh.
  it.each([['0'], ['1']])('%s MiB: files are served whole and fresh, compressed or not', async (mib) => {
    const root = await tempDir();
    const big = 'a line of text that compresses well\n'.repeat(60_000); // ~2 MiB, over a 1 MiB budget
    await writeTree(root, { 'big.txt': big, 'small.txt': 'version 1' });
    const cli = await startCli([root, '--port', '0', '--quiet', '--cache-memory', mib]);
    for (let i = 0; i < 2; i++) {
      expect((await request(cli.port, '/big.txt')).text).toBe(big);
      const gzipped = await request(cli.port, '/big.txt', { headers: { 'Accept-Encoding': 'gzip' } });
      expect(gzipped.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(gzipped.body).toString()).toBe(big);
    }
    expect((await request(cli.port, '/small.txt')).text).toBe('version 1');
    await writeTree(root, { 'small.txt': 'version 2' });
    expect((await request(cli.port, '/small.txt')).text).toBe('version 2');
  });
});
