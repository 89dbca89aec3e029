/**
 * The package as a user gets it: `npm pack` holds what a user needs and nothing else, and
 * the tarball, installed into an empty folder, runs. dist/ is built by `npm test` before
 * vitest starts, so packing skips the prepack build (it would rebuild dist/ under the
 * other test files' feet).
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, REPO_ROOT, request, runCli, startCli, tempDir } from '../helpers/server.js';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

afterAll(cleanup);

interface PackedFile {
  path: string;
}

/** The runtime dependencies by design, with their own dependencies: what an install may bring. */
const DESIGNED = ['chokidar', 'commander', 'mime-db', 'mime-types', 'picocolors', 'readdirp', 'serve-dir', 'uqr'];

describe('npm pack', () => {
  let files: string[];
  let installed: string;
  let version: string;

  beforeAll(async () => {
    version = (JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const packed = await tempDir('serve-dir-pack-');
    const { stdout } = await run(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', packed], { cwd: REPO_ROOT });
    const [result] = JSON.parse(stdout) as [{ filename: string; files: PackedFile[] }];
    files = result.files.map((file) => file.path);

    installed = await tempDir('serve-dir-install-');
    await writeFile(join(installed, 'package.json'), '{ "name": "an-app", "private": true }\n');
    // The registry is needed only for what the npm cache (filled by `npm ci`) lacks.
    await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', join(packed, result.filename)], { cwd: installed });
  }, 120_000);

  it('holds the launcher, the build, the type declarations and the documents, nothing else', () => {
    const outside = files.filter((path) => !/^(bin|dist|schema)\//.test(path) && !['package.json', 'README.md', 'LICENSE', 'SECURITY.md', 'CHANGELOG.md'].includes(path));
    expect(outside).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'SECURITY.md', 'bin/serve-dir.js', 'dist/index.js', 'dist/index.d.ts', 'dist/serve-dir.cjs', 'schema/serve-dir.config.schema.json']));
    expect(files.filter((path) => path.endsWith('.map'))).toEqual([]);
  });

  it('installs only the designed dependencies, none with an install script', async () => {
    const names: string[] = [];
    const modules = join(installed, 'node_modules');
    for (const entry of await readdir(modules)) {
      if (entry.startsWith('.')) continue;
      const scoped = entry.startsWith('@') ? (await readdir(join(modules, entry))).map((name) => `${entry}/${name}`) : [entry];
      names.push(...scoped);
    }
    expect(names.sort()).toEqual(DESIGNED);
    for (const name of names) {
      const manifest = JSON.parse(await readFile(join(modules, name, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
      expect(Object.keys(manifest.scripts ?? {}).filter((script) => /^(pre|post)?install$/.test(script)), name).toEqual([]);
    }
  });

  it('npx serve-dir --version and --help work from the install', async () => {
    const { stdout: printed } = await run(npm, ['exec', '--offline', '--', 'serve-dir', '--version'], { cwd: installed });
    expect(printed.trim()).toBe(version);
    const { stdout: help } = await run(npm, ['exec', '--offline', '--', 'serve-dir', '--help'], { cwd: installed });
    expect(help).toMatch(/^Usage: serve-dir/m);
  });

  it('the installed CLI serves a real request', async () => {
    const launcher = join(installed, 'node_modules', 'serve-dir', 'bin', 'serve-dir.js');
    const site = await tempDir();
    await writeFile(join(site, 'index.html'), '<!doctype html><title>installed</title>\n');
    const cli = await startCli([site, '--port', '0'], { launcher, cwd: installed });
    const response = await request(cli.port, '/');
    expect(response.status).toBe(200);
    expect(response.text).toContain('<title>installed</title>');
    const unknown = await runCli(['--no-such-flag'], { launcher, cwd: installed });
    expect(unknown.code).toBe(1);
  });
});
