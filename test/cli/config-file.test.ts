// The config file through the CLI: where it is found, flags over it, its errors as one line,
// and that it is never served.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, request, runCli, spawnCli, startCli, stopCli, tempDir, writeTree } from '../helpers/server.js';

afterAll(cleanup);

const CONFIG = 'serve-dir.config.json';

/** The first line of --json output: the listening event. */
async function listening(cli: ReturnType<typeof spawnCli>): Promise<{ port: number; directory: string }> {
  const [line] = await cli.waitForStdout(/^\{.*\}\n/);
  return JSON.parse(line) as { port: number; directory: string };
}

describe('where the config file is found', () => {
  it('in the folder served', async () => {
    const root = await tempDir();
    await writeTree(root, { [CONFIG]: '{ "port": 0, "json": true, "dotfiles": true }', '.env.example': 'X=1' });
    const cli = spawnCli([root], { cwd: await tempDir() });
    const { port } = await listening(cli);
    expect((await request(port, '/.env.example')).status).toBe(200); // dotfiles from the file
  });

  it('in the working directory, when the folder served has none', async () => {
    const cwd = await tempDir();
    await writeTree(cwd, { [CONFIG]: '{ "port": 0, "json": true, "listing": false }', 'site/folder/a.txt': 'a' });
    const cli = spawnCli(['site'], { cwd });
    const { port, directory } = await listening(cli);
    expect(directory).toBe(join(cwd, 'site'));
    expect((await request(port, '/folder/')).status).toBe(404); // no listing, from the file
    expect((await request(port, '/folder/a.txt')).status).toBe(200);
  });

  it('the one in the folder served wins over the one in the working directory', async () => {
    const cwd = await tempDir();
    await writeTree(cwd, { [CONFIG]: '{ "port": 0, "json": true, "listing": false }', [`site/${CONFIG}`]: '{ "port": 0, "json": true }', 'site/folder/a.txt': 'a' });
    const cli = spawnCli(['site'], { cwd });
    const { port } = await listening(cli);
    expect((await request(port, '/folder/')).status).toBe(200);
  });

  it('--config <file>, with paths in it relative to the file', async () => {
    const cwd = await tempDir();
    await writeTree(cwd, { 'conf/dev.json': '{ "port": 0, "json": true, "directory": "../public" }', 'public/hello.txt': 'hello' });
    const cli = spawnCli(['--config', 'conf/dev.json'], { cwd });
    const { port, directory } = await listening(cli);
    expect(directory).toBe(join(cwd, 'public'));
    expect((await request(port, '/hello.txt')).text).toBe('hello');
  });

  it('a --config file that does not exist is one line, exit 1', async () => {
    const cwd = await tempDir();
    const { code, stdout, stderr } = await runCli(['--config', 'missing.json'], { cwd });
    expect({ code, stdout, stderr }).toEqual({ code: 1, stdout: '', stderr: `serve-dir: config file ${join(cwd, 'missing.json')}: not found\n` });
  });
});

describe('flags override the file', () => {
  it('--port and --cache given on the command line win; the file fills in the rest', async () => {
    const root = await tempDir();
    // Port 1 would need privileges: the test only passes if --port wins.
    await writeTree(root, { [CONFIG]: '{ "port": 1, "cache": 600, "json": true }', 'a.css': 'a{}' });
    const cli = spawnCli([root, '--port', '0', '--cache', '5'], { cwd: root });
    const { port } = await listening(cli);
    expect((await request(port, '/a.css')).headers['cache-control']).toBe('public, max-age=5');
  });

  it('a port from the file must be free, as one from --port', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const root = await tempDir();
      await writeTree(root, { [CONFIG]: JSON.stringify({ port }) });
      const { code, stderr } = await runCli([root], { cwd: root });
      expect({ code, stderr }).toEqual({ code: 1, stderr: `serve-dir: port ${port} is already in use (choose another with --port, or --port 0 for any free port)\n` });
    } finally {
      busy.close();
    }
  });
});

describe("the file's mistakes: one line naming the key, exit 1", () => {
  it.each([
    ['an unknown key', '{ "prot": 8080 }', /^serve-dir: \S+serve-dir\.config\.json: unknown key "prot" \(did you mean "port"\?\); valid keys: directory, port, bind, .*\n$/],
    ['a wrong type', '{ "port": "8080" }', /^serve-dir: \S+serve-dir\.config\.json: "port" must be .*, not "8080"\n$/],
    ['bad JSON, with its line and column', '{\n  "port": 8080,\n}', /^serve-dir: \S+serve-dir\.config\.json:3:1: invalid JSON: .*\n$/],
    ['a proxy target that is not a URL', '{ "proxy": { "/api": "localhost:5000" } }', /^serve-dir: \S+serve-dir\.config\.json: "proxy": the target of "\/api" must be an http\(s\) or ws\(s\) URL, not "localhost:5000"\n$/],
  ])('%s', async (_name, text, expected) => {
    const root = await tempDir();
    await writeFile(join(root, CONFIG), text);
    const { code, stdout, stderr } = await runCli([root], { cwd: root });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(expected);
  });
});

describe('cors, header, headers and auth from the file', () => {
  it('apply as their flags do', async () => {
    const root = await tempDir();
    await writeTree(root, {
      'assets/app.js': 'export {};\n',
      [CONFIG]: JSON.stringify({
        cors: true,
        header: ['X-Everywhere: 1'],
        headers: [{ source: '/assets/**', headers: { 'Cache-Control': 'max-age=31536000, immutable' } }],
        auth: 'me:s3cret',
      }),
    });
    const cli = await startCli([root, '--port', '0', '--quiet'], { cwd: root });
    const refused = await request(cli.port, '/assets/app.js');
    expect(refused.status).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe('*');
    const credentials = `Basic ${Buffer.from('me:s3cret').toString('base64')}`;
    const served = await request(cli.port, '/assets/app.js', { headers: { Authorization: credentials } });
    expect(served.status).toBe(200);
    expect(served.headers['x-everywhere']).toBe('1');
    expect(served.headers['cache-control']).toBe('max-age=31536000, immutable');
    expect(served.headers['access-control-allow-origin']).toBe('*');
    expect(cli.stdout() + cli.stderr()).not.toContain('s3cret');
  });
});

describe('the config file is never served', () => {
  it('not by its name, %-encoded, through a symlink, or as an index file; other files are', async () => {
    const root = await tempDir();
    await writeTree(root, { [CONFIG]: '{ "port": 0 }', 'a.txt': 'a' });
    await symlink(join(root, CONFIG), join(root, 'link.json'));
    await mkdir(join(root, 'sub'));
    await symlink(join(root, CONFIG), join(root, 'sub', 'index.html'));
    const cli = await startCli([root], { cwd: root });
    for (const path of [`/${CONFIG}`, '/serve-dir%2Econfig.json', '/%73erve-dir.config.json', '/link.json', '/sub/', '/sub/index.html', `/./${CONFIG}`]) {
      const response = await request(cli.port, path);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      expect(response.text).not.toContain('"port"');
    }
    expect((await request(cli.port, '/a.txt')).status).toBe(200);
  });

  it('nor a --config file kept in the folder served under another name', async () => {
    const root = await tempDir();
    await writeTree(root, { 'dev.json': '{ "port": 0 }', 'other.json': '{}' });
    const cli = await startCli([root, '--config', join(root, 'dev.json')], { cwd: root });
    expect((await request(cli.port, '/dev.json')).status).toBe(404);
    expect((await request(cli.port, '/other.json')).status).toBe(200);
    await stopCli(cli);
  });
});
