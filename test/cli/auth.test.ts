// --auth end to end through the CLI: HTTP Basic on every kind of path, the environment
// variable, and the password never printed or logged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseClient } from '../livereload/sse-client.js';
import { cleanup, exchange, parseResponse, request, runCli, startCli, stopCli, tempDir, writeTree, type StartedCli } from '../helpers/server.js';

afterAll(cleanup);

const PASSWORD = 'pa55:w0rd-7f3e';
const basic = (userPass: string) => `Basic ${Buffer.from(userPass).toString('base64')}`;
const RIGHT = basic(`ann:${PASSWORD}`);
const CHALLENGE = 'Basic realm="serve-dir", charset="UTF-8"';

let root: string;
let cli: StartedCli;

beforeAll(async () => {
  root = await tempDir();
  await writeTree(root, { 'index.html': '<p>home</p>', 'a.txt': 'hello', 'docs/': '', 'docs/x.txt': 'x' });
  // Logging on: the test below reads the log for the password.
  cli = await startCli([root, '--port', '0', '--watch', '--auth', `ann:${PASSWORD}`]);
});

describe('--auth on every kind of path', () => {
  // [what, target, status with the right credentials]
  const paths: Array<[string, string, number]> = [
    ['a file', '/a.txt', 200],
    ['a page', '/', 200],
    ['a listing', '/docs/', 200],
    ['a 404', '/missing.txt', 404],
    ['a redirect', '/docs', 301],
    ['the live-reload client script', '/__serve-dir/client.js', 200],
  ];
  // [credentials, what]
  const attempts: Array<[string | undefined, string]> = [
    [undefined, 'none'],
    [basic(`ann:${PASSWORD}x`), 'a wrong password'],
    [basic(`bob:${PASSWORD}`), 'a wrong user'],
    [basic('ann'), 'no colon'],
    [`Bearer ${Buffer.from(`ann:${PASSWORD}`).toString('base64')}`, 'another scheme'],
  ];
  const table = paths.flatMap(([what, target]) => attempts.map(([authorization, how]) => [what, target, how, authorization] as const));
  it.each(table)('%s (%s), %s credentials: 401 with the challenge', async (_what, target, _how, authorization) => {
    const response = await request(cli.port, target, authorization === undefined ? {} : { headers: { Authorization: authorization } });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe(CHALLENGE);
    expect(response.text).not.toContain('hello');
  });
  it.each(paths)('%s (%s), right credentials: served', async (_what, target, status) => {
    const response = await request(cli.port, target, { headers: { Authorization: RIGHT } });
    expect(response.status).toBe(status);
    expect(response.headers['www-authenticate']).toBeUndefined();
  });
  it('the scheme is case-insensitive', async () => {
    expect((await request(cli.port, '/a.txt', { headers: { Authorization: RIGHT.replace('Basic', 'bAsIc') } })).text).toBe('hello');
  });

  it('the live-reload event stream', async () => {
    const url = `http://127.0.0.1:${cli.port}/__serve-dir/events`;
    const refused = await SseClient.connect(url);
    const wrong = await SseClient.connect(url, { Authorization: basic('ann:nope') });
    const allowed = await SseClient.connect(url, { Authorization: RIGHT });
    try {
      expect(refused.status).toBe(401);
      expect(refused.response.headers['www-authenticate']).toBe(CHALLENGE);
      expect(wrong.status).toBe(401);
      expect(allowed.status).toBe(200);
      expect((await allowed.next()).data.type).toBe('hello');
    } finally {
      for (const stream of [refused, wrong, allowed]) stream.response.destroy();
    }
  });

  it('never prints or logs the password, even sent in the request target', async () => {
    await request(cli.port, '/a.txt', { headers: { Authorization: RIGHT } });
    // Absolute form with userinfo: the log shows the target, without user:password@.
    const raw = parseResponse(
      await exchange(cli.port, `GET http://ann:${PASSWORD}@localhost/a.txt HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${RIGHT}\r\nConnection: close\r\n\r\n`),
    );
    expect(raw.status).toBe(200);
    // The line for that request, whatever it shows as its target.
    await cli.waitForStdout(/GET http:\S*a\.txt 200/);
    expect(cli.stdout()).toContain('GET http://localhost/a.txt 200');
    const encoded = RIGHT.slice('Basic '.length);
    for (const output of [cli.stdout(), cli.stderr()]) {
      expect(output).not.toContain(PASSWORD);
      expect(output).not.toContain(encoded);
    }
  });
});

describe('SERVE_DIR_AUTH', () => {
  it('is used when --auth is not given, and --auth wins over it', async () => {
    const fromEnvironment = await startCli([root, '--port', '0', '--quiet'], { env: { SERVE_DIR_AUTH: 'env:secret' } });
    expect((await request(fromEnvironment.port, '/a.txt')).status).toBe(401);
    expect((await request(fromEnvironment.port, '/a.txt', { headers: { Authorization: basic('env:secret') } })).status).toBe(200);
    expect(fromEnvironment.stdout() + fromEnvironment.stderr()).not.toContain('secret');

    const flagWins = await startCli([root, '--port', '0', '--quiet', '--auth', 'flag:other'], { env: { SERVE_DIR_AUTH: 'env:secret' } });
    expect((await request(flagWins.port, '/a.txt', { headers: { Authorization: basic('env:secret') } })).status).toBe(401);
    expect((await request(flagWins.port, '/a.txt', { headers: { Authorization: basic('flag:other') } })).status).toBe(200);
  });

  it('empty means off', async () => {
    const open = await startCli([root, '--port', '0', '--quiet'], { env: { SERVE_DIR_AUTH: '' } });
    expect((await request(open.port, '/a.txt')).status).toBe(200);
  });
});

describe('malformed --auth', () => {
  // [setting, via]
  const cases: Array<[string, 'flag' | 'env']> = [
    ['annsecret', 'flag'],
    [':secret', 'flag'],
    ['ann:', 'flag'],
    ['annsecret', 'env'],
  ];
  it.each(cases)('%j (%s): one line, exit 1, the value not repeated', async (setting, via) => {
    const args = [root, '--port', '0', ...(via === 'flag' ? ['--auth', setting] : [])];
    const result = await runCli(args, via === 'env' ? { env: { SERVE_DIR_AUTH: setting } } : {});
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^serve-dir: invalid --auth: expected user:password[^\n]*\n$/);
    expect(result.stderr).not.toContain('secret');
    expect(result.stdout).toBe('');
  });
});

describe('the banner', () => {
  it('bound to the network without --auth, says once that anyone there can read the files', async () => {
    const exposed = await startCli([root, '--port', '0', '--quiet', '--bind', '0.0.0.0']);
    await exposed.waitForStdout(/Press Ctrl\+C/);
    expect(exposed.stdout().match(/Anyone on your network can read these files/g)).toHaveLength(1);
    expect(exposed.stdout()).toContain('--auth');
    await stopCli(exposed);
  });
  it.each([
    [['--bind', '0.0.0.0', '--auth', 'ann:x']],
    [[]],
  ])('not with %j', async (flags) => {
    const quiet = await startCli([root, '--port', '0', '--quiet', ...flags]);
    await quiet.waitForStdout(/Press Ctrl\+C/);
    expect(quiet.stdout()).not.toContain('Anyone on your network');
    await stopCli(quiet);
  });
});
