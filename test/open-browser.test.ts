import { execFileSync } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openBrowser, openerFor, splitCommandLine, type Opener } from '../src/open-browser.js';
import { cleanup, tempDir } from './helpers/server.js';

afterAll(cleanup);

const URL_WITH_QUERY = 'http://localhost:8000/docs/?a=1&b=%20x';

describe('openerFor: which command, with which arguments', () => {
  // [BROWSER, platform, expected]
  const rows: Array<[string | undefined, NodeJS.Platform, Opener]> = [
    [undefined, 'linux', { kind: 'command', command: 'xdg-open', args: [URL_WITH_QUERY], fromBrowserVariable: false }],
    [undefined, 'freebsd', { kind: 'command', command: 'xdg-open', args: [URL_WITH_QUERY], fromBrowserVariable: false }],
    ['', 'linux', { kind: 'command', command: 'xdg-open', args: [URL_WITH_QUERY], fromBrowserVariable: false }],
    [undefined, 'darwin', { kind: 'command', command: 'open', args: [URL_WITH_QUERY], fromBrowserVariable: false }],
    [
      undefined,
      'win32',
      // & and % would be cmd operators and variables: escaped for cmd, passed verbatim.
      { kind: 'command', command: 'cmd', args: ['/d', '/c', 'start', '""', 'http://localhost:8000/docs/?a=1^&b=%^20x'], fromBrowserVariable: false, windowsVerbatimArguments: true },
    ],
    ['none', 'linux', { kind: 'disabled', reason: 'BROWSER is "none"' }],
    ['NONE', 'darwin', { kind: 'disabled', reason: 'BROWSER is "none"' }],
    ['firefox', 'linux', { kind: 'command', command: 'firefox', args: [URL_WITH_QUERY], fromBrowserVariable: true }],
    ['firefox', 'win32', { kind: 'command', command: 'firefox', args: [URL_WITH_QUERY], fromBrowserVariable: true }],
    ['chromium --incognito --new-window', 'linux', { kind: 'command', command: 'chromium', args: ['--incognito', '--new-window', URL_WITH_QUERY], fromBrowserVariable: true }],
    ['firefox -new-tab %s -foreground', 'linux', { kind: 'command', command: 'firefox', args: ['-new-tab', URL_WITH_QUERY, '-foreground'], fromBrowserVariable: true }],
    ['"/Applications/My Browser.app/run" --x', 'darwin', { kind: 'command', command: '/Applications/My Browser.app/run', args: ['--x', URL_WITH_QUERY], fromBrowserVariable: true }],
    ['chromium --proxy-server=http://h:8080', 'linux', { kind: 'command', command: 'chromium', args: ['--proxy-server=http://h:8080', URL_WITH_QUERY], fromBrowserVariable: true }],
  ];
  it.each(rows)('BROWSER=%j on %s', (browser, platform, expected) => {
    expect(openerFor(URL_WITH_QUERY, browser === undefined ? {} : { BROWSER: browser }, platform)).toEqual(expected);
  });
});

describe('splitCommandLine', () => {
  const rows: Array<[string, string[]]> = [
    ['a b  c', ['a', 'b', 'c']],
    ["'a b' c", ['a b', 'c']],
    ['"a \\"b\\"" c', ['a "b"', 'c']],
    ['a\\ b', ['a b']],
    ["a'b c'd", ['ab cd']],
    ['"" x', ['', 'x']],
    ['$HOME `id` $(id) ;', ['$HOME', '`id`', '$(id)', ';']], // nothing is expanded or run
    ['  ', []],
  ];
  it.each(rows)('%j', (line, words) => {
    expect(splitCommandLine(line)).toEqual(words);
  });
});

describe.skipIf(process.platform === 'win32')('openBrowser: real processes', () => {
  /**
   * A BROWSER script that writes its arguments, one per line, into a named pipe. Reading the
   * pipe waits for the script itself: no polling, no sleep.
   */
  async function recordingBrowser(): Promise<{ script: string; recorded: () => Promise<string[]> }> {
    const folder = await tempDir('serve-dir-open-');
    const pipe = join(folder, 'arguments');
    execFileSync('mkfifo', [pipe]);
    const script = join(folder, 'browser with space.sh');
    await writeFile(script, `#!/bin/sh\nprintf '%s\\n' "$@" > '${pipe}'\n`);
    await chmod(script, 0o755);
    return { script, recorded: async () => (await readFile(pipe, 'utf8')).split('\n').slice(0, -1) };
  }

  it('runs BROWSER with the URL as its argument', async () => {
    const { script, recorded } = await recordingBrowser();
    const url = 'http://127.0.0.1:8000/a b?x=1&y=$(touch /tmp/pwned)';
    const result = await openBrowser(url, { env: { ...process.env, BROWSER: `'${script}' --new-tab` } });
    expect(result).toEqual({ opened: true });
    expect(await recorded()).toEqual(['--new-tab', url]); // one argument, nothing run by a shell
  });

  it('substitutes %s', async () => {
    const { script, recorded } = await recordingBrowser();
    const opened = openBrowser('http://localhost:1/', { env: { ...process.env, BROWSER: `'${script}' before %s after` } });
    expect(await opened).toEqual({ opened: true });
    expect(await recorded()).toEqual(['before', 'http://localhost:1/', 'after']);
  });

  it('a BROWSER that does not exist is one line, and no exception', async () => {
    expect(await openBrowser('http://localhost:1/', { env: { ...process.env, BROWSER: '/nonexistent/browser --x' } })).toEqual({
      opened: false,
      reason: 'BROWSER command "/nonexistent/browser" not found',
    });
  });

  it('a BROWSER that is not executable says so', async () => {
    const folder = await tempDir('serve-dir-open-');
    const script = join(folder, 'browser');
    await writeFile(script, '#!/bin/sh\n');
    expect(await openBrowser('http://localhost:1/', { env: { ...process.env, BROWSER: script } })).toEqual({
      opened: false,
      reason: `BROWSER command "${script}" is not executable`,
    });
  });

  it('without an opener installed (no xdg-open on PATH), says so and resolves', async () => {
    const emptyPath = await tempDir('serve-dir-open-');
    expect(await openBrowser('http://localhost:1/', { env: { PATH: emptyPath }, platform: 'linux' })).toEqual({
      opened: false,
      reason: 'no browser opener found (xdg-open is not installed)',
    });
  });

  it('BROWSER=none opens nothing', async () => {
    expect(await openBrowser('http://localhost:1/', { env: { BROWSER: 'none' } })).toEqual({ opened: false, reason: 'BROWSER is "none"' });
  });
});
