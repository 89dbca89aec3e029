// `wget --mirror` of a served folder, with the real wget: each file is saved once and each
// folder's listing once, not once per sort order (the listing sorts through forms, which a
// crawler does not submit), and `-np` keeps to the folder asked for.

import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, serveDirectory, tempDir, writeTree } from '../helpers/server.js';

const WGET = '/usr/bin/wget';
const hasWget = (() => {
  try {
    accessSync(WGET, constants.X_OK);
    return true;
  } catch {
    return false;
  }
})();
if (!hasWget) {
  // .ci/run installs wget; elsewhere say why the test does not run.
  if (/^(true|1)$/i.test(process.env.CI ?? '')) throw new Error(`wget is not installed at ${WGET}, and CI must run this test`);
  console.warn(`Skipping the wget mirror test: no ${WGET} (apt-get install -y wget).`);
}

const TREE = {
  'index.txt': 'top',
  'notes   with   spaces.txt': 'spaces',
  'docs/a.md': '# a',
  'docs/b.json': '{}',
  'docs/guide/chapter 1.html': '<p>one',
  'docs/guide/chapter 2.html': '<p>two',
  'images/photo.png': 'png',
  'images/empty/.keep-out': 'dotfiles are not listed',
};

/** Every file under `folder`, as a sorted list of relative paths. */
async function filesUnder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)))
    .sort();
}

describe.skipIf(!hasWget)('wget --mirror', () => {
  let base: string;

  beforeAll(async () => {
    const root = await tempDir('serve-dir-mirror-');
    await writeTree(root, TREE);
    const server = await serveDirectory(root);
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(cleanup);

  async function mirror(path: string): Promise<string[]> {
    const into = await tempDir('serve-dir-mirror-copy-');
    // -nH: no host:port folder; robots stay on, as a user would run it. No wgetrc, no proxy:
    // the machine's settings must not change what is fetched.
    await promisify(execFile)(WGET, ['--no-config', '--no-proxy', '--mirror', '-np', '-nH', '-q', `${base}${path}`], { cwd: into });
    return filesUnder(into);
  }

  it('saves each file once and each folder listing once', async () => {
    const saved = await mirror('/');
    expect(saved).toEqual(
      [
        'index.html',
        'index.txt',
        'notes   with   spaces.txt',
        'docs/index.html',
        'docs/a.md',
        'docs/b.json',
        'docs/guide/index.html',
        'docs/guide/chapter 1.html',
        'docs/guide/chapter 2.html',
        'images/index.html',
        'images/photo.png',
        'images/empty/index.html',
      ].sort(),
    );
  });

  it('with -np, keeps below the folder it started at', async () => {
    const saved = await mirror('/docs/');
    expect(saved).toEqual(['docs/a.md', 'docs/b.json', 'docs/guide/chapter 1.html', 'docs/guide/chapter 2.html', 'docs/guide/index.html', 'docs/index.html'].sort());
  });
});
