import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, FIXTURE_SITE, REPO_ROOT, runCli } from '../helpers/server.js';

afterAll(cleanup);

const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

describe('--help and --version', () => {
  it('--help exits 0 and shows every flag of the issue, with examples', async () => {
    const { code, stdout, stderr } = await runCli(['--help']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^Usage: serve-dir /);
    for (const flag of [
      '[dir]',
      '-p, --port <n>',
      '-b, --bind <addr>',
      '--host <addr>',
      '-d, --directory <dir>',
      '-q, --quiet',
      '--no-listing',
      '--index <name>',
      '--no-index',
      '--no-redirect',
      '--dotfiles',
      '--cache <seconds>',
      '--immutable',
      '--stall-timeout <seconds>',
      '--config <file>',
      '--json',
      '-o, --open [path]',
      '--qr',
      '-v, --version',
      '-h, --help',
    ]) {
      expect(stdout).toContain(flag);
    }
    expect(stdout).toMatch(/Examples:\n(\s+\$ serve-dir.*\n){3,}/);
  });

  it('--help fits one screen: at most 60 lines of at most 80 columns, in groups', async () => {
    const { stdout } = await runCli(['--help']);
    const lines = stdout.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(60);
    expect(lines.filter((line) => line.length > 80)).toEqual([]);
    for (const group of ['Serving:', 'Caching:', 'Development:', 'Network and security:', 'Output:']) expect(lines).toContain(group);
  });

  it('--help into a pipe closed early ends quietly', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'serve-dir.js'), '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('-h is --help', async () => {
    expect((await runCli(['-h'])).stdout).toBe((await runCli(['--help'])).stdout);
  });

  it.each(['-v', '--version'])("%s prints package.json's version", async (flag) => {
    const { code, stdout, stderr } = await runCli([flag]);
    expect(code).toBe(0);
    expect(stdout).toBe(`${version}\n`);
    expect(stderr).toBe('');
  });
});

describe('an unknown flag', () => {
  // [typed, the whole line]: a suggestion only for a slip of the keyboard.
  it.each([
    ['--por', "serve-dir: unknown option '--por' (did you mean --port?)\n"],
    ['--imutable', "serve-dir: unknown option '--imutable' (did you mean --immutable?)\n"],
    ['--verbose', "serve-dir: unknown option '--verbose'\n"],
    ['--xyzzy', "serve-dir: unknown option '--xyzzy'\n"],
  ])('%s', async (flag, line) => {
    const { code, stdout, stderr } = await runCli([flag]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(line);
  });
});

describe('user errors: one line on stderr, exit 1, no stack trace', () => {
  // [arguments, what the line says]
  it.each([
    [['--bogus'], "unknown option '--bogus'"],
    [['--por', '3000'], "unknown option '--por'"],
    [['--port', 'abc'], 'invalid port "abc"'],
    [['--port', '70000'], 'invalid port "70000"'],
    [['--port', '-1'], 'invalid port'],
    [['--port', '80.5'], 'invalid port'],
    [['--port'], 'argument missing'],
    [['/nonexistent/serve-dir-test'], 'directory not found: /nonexistent/serve-dir-test'],
    [['-d', '/nonexistent/serve-dir-test'], 'directory not found'],
    [[join(FIXTURE_SITE, 'index.html')], 'not a directory'],
    [['--cache', '-1'], 'invalid --cache "-1"'],
    [['--immutable'], '--immutable only applies with --cache'],
    [['--index', '../secret.html'], 'invalid index file name "../secret.html"'],
    [['--index', '.env'], 'invalid index file name ".env"'],
    [['--cache', 'soon'], 'invalid --cache "soon"'],
    [['one', 'two'], 'too many arguments'],
    [[FIXTURE_SITE, '-d', 'elsewhere'], 'two directories given'],
    [['--bind', '127.0.0.1', '--host', '127.0.0.1'], 'cannot be used with'],
    [['--cache-memory', 'lots'], 'invalid --cache-memory "lots"'],
    [['--cache-memory', '-5'], 'invalid --cache-memory "-5"'],
    [['--cache-memory', '1.5'], 'invalid --cache-memory "1.5"'],
    [['--stall-timeout', 'soon'], 'invalid --stall-timeout "soon"'],
    [[FIXTURE_SITE, '--watch', '--ignore', '{unclosed'], 'unclosed "{"'],
    [[FIXTURE_SITE, '--poll'], '--poll only applies with --watch'],
    [[FIXTURE_SITE, '--ignore', 'dist'], '--ignore only applies with --watch'],
  ])('%j → "%s"', async (args, message) => {
    const { code, stdout, stderr } = await runCli(args);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.split('\n')).toEqual([expect.stringMatching(/^serve-dir: /), '']);
    expect(stderr).toContain(message);
    expect(stderr).not.toMatch(/^\s+at /m);
  });
});
