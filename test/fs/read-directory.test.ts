import { closeSync, openSync } from 'node:fs';
import { lutimes, mkdir, mkdtemp, realpath, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDirectory, type ListingEntry } from '../../src/fs/read-directory.js';

let base: string;
let root: string;
let socketServer: Server;

const JAN_2020 = new Date('2020-01-02T03:04:05Z');
const JUN_2010 = new Date('2010-06-07T08:09:10Z');

beforeAll(async () => {
  // Real paths throughout: on macOS the temporary directory is behind a symlink.
  base = await realpath(await mkdtemp(join(tmpdir(), 'serve-dir-readdir-')));
  root = join(base, 'root');
  // A sibling whose name starts with the root's: a naive prefix check lets it in.
  const secret = join(base, 'root-secret');
  await mkdir(secret);
  await writeFile(join(secret, 'key.txt'), 'secret');

  await mkdir(root);
  await writeFile(join(root, 'hello.txt'), 'hello');
  await utimes(join(root, 'hello.txt'), JAN_2020, JAN_2020);
  await mkdir(join(root, 'sub'));
  await writeFile(join(root, 'sub', 'inner.txt'), 'inner');
  await mkdir(join(root, 'sub', '.well-known'));
  await writeFile(join(root, 'sub', '.profile'), 'x');
  await writeFile(join(root, '.env'), 'TOKEN=1');
  await mkdir(join(root, '.git'));
  await mkdir(join(root, '.well-known'));

  await symlink('hello.txt', join(root, 'link-to-file'));
  await lutimes(join(root, 'link-to-file'), JUN_2010, JUN_2010);
  await symlink('sub', join(root, 'link-to-dir'));
  await symlink('.', join(root, 'link-to-root'));
  await symlink('../hello.txt', join(root, 'sub', 'link-up-inside'));
  await symlink('.env', join(root, 'link-to-dotfile'));
  await symlink('../root-secret', join(root, 'escape-to-sibling'));
  await symlink('../root-secret/key.txt', join(root, 'escape-to-sibling-file'));
  await symlink(secret, join(root, 'escape-absolute'));
  await symlink('/etc', join(root, 'escape-to-etc'));
  await symlink('/etc/hostname', join(root, 'escape-to-etc-file'));
  await symlink('../../..', join(root, 'sub', 'escape-up'));
  await symlink('missing.txt', join(root, 'broken'));
  await symlink('loop-b', join(root, 'loop-a'));
  await symlink('loop-a', join(root, 'loop-b'));

  // A name that is not valid UTF-8 (Linux allows any bytes but '/' and NUL).
  if (process.platform === 'linux') {
    await mkdir(join(base, 'latin1'));
    closeSync(openSync(Buffer.concat([Buffer.from(join(base, 'latin1', 'caf')), Buffer.from([0xe9])]), 'w'));
    await writeFile(join(base, 'latin1', 'café'), '');
  }

  await mkdir(join(base, 'many'));
  for (let i = 0; i < 10_000; i++) closeSync(openSync(join(base, 'many', `file-${i}.txt`), 'w'));
  await writeFile(join(base, 'many', 'file-5000.txt'), 'five thousand');

  // A socket is neither file nor directory.
  socketServer = createServer();
  await new Promise<void>((resolve) => socketServer.listen(join(root, 'socket'), resolve));
});

afterAll(async () => {
  await new Promise<void>((resolve) => socketServer.close(() => resolve()));
  await rm(base, { recursive: true, force: true });
});

const names = (entries: ListingEntry[]) => entries.map((entry) => entry.name).sort();
const byName = (entries: ListingEntry[], name: string) => entries.find((entry) => entry.name === name);

// Stats run synchronously in slices while the file system is fast, on the
// thread pool otherwise; names are read in batches, or in one call for a small
// folder: every way must list the same.
describe.each([
  ['synchronous slices', {}],
  ['the thread pool', { syncSliceMs: 0 }],
  ['synchronous slices, names read in one call', { directorySize: 4096 }],
])('readDirectory, stat’ing in %s', (_mode, statMode) => {
  it.each([
    // A link to a hidden file is as hidden as its target.
    [false, ['.well-known', 'hello.txt', 'link-to-dir', 'link-to-file', 'link-to-root', 'sub']],
    [
      true,
      ['.env', '.git', '.well-known', 'hello.txt', 'link-to-dir', 'link-to-dotfile', 'link-to-file', 'link-to-root', 'sub'],
    ],
  ])('lists the root with dotfiles %s; escaping, broken and looping links and sockets are left out', async (dotfiles, expected) => {
    expect(names(await readDirectory(root, { root, dotfiles, ...statMode }))).toEqual(expected);
  });

  it.each([
    // `.well-known` is public only in the root (RFC 8615), as the path guard has it.
    [false, ['inner.txt', 'link-up-inside']],
    [true, ['.profile', '.well-known', 'inner.txt', 'link-up-inside']],
  ])('lists a subfolder with dotfiles %s; a link climbing out of the root is left out', async (dotfiles, expected) => {
    expect(names(await readDirectory(join(root, 'sub'), { root, dotfiles, ...statMode }))).toEqual(expected);
  });

  it('reports sizes and modification times; folders have size 0', async () => {
    const entries = await readDirectory(root, { root, dotfiles: false, ...statMode });
    expect(byName(entries, 'hello.txt')).toEqual({ name: 'hello.txt', type: 'file', size: 5, mtimeMs: JAN_2020.getTime() });
    const sub = byName(entries, 'sub');
    expect(sub).toEqual({ name: 'sub', type: 'directory', size: 0, mtimeMs: (await stat(join(root, 'sub'))).mtimeMs });
  });

  it('reports a symlink as what it points to: its type, size and time, not the link’s', async () => {
    const entries = await readDirectory(root, { root, dotfiles: false, ...statMode });
    expect(byName(entries, 'link-to-file')).toEqual({ name: 'link-to-file', type: 'file', size: 5, mtimeMs: JAN_2020.getTime() });
    expect(byName(entries, 'link-to-dir')).toMatchObject({ type: 'directory', size: 0 });
    expect(byName(entries, 'link-to-root')).toMatchObject({ type: 'directory', size: 0 });
    const withDotfiles = await readDirectory(root, { root, dotfiles: true, ...statMode });
    expect(byName(withDotfiles, 'link-to-dotfile')).toMatchObject({ type: 'file', size: 7 });
  });

  it('accepts the directory with a trailing separator', async () => {
    expect(names(await readDirectory(root + sep, { root, dotfiles: false, ...statMode }))).toEqual(
      names(await readDirectory(root, { root, dotfiles: false, ...statMode })),
    );
  });

  it.runIf(process.platform === 'linux')('leaves out a name that is not valid UTF-8 (no URL could ask for it)', async () => {
    expect(names(await readDirectory(join(base, 'latin1'), { root: base, dotfiles: false, ...statMode }))).toEqual(['café']);
  });

  it.each([
    ['a missing directory', () => join(root, 'nope'), 'ENOENT'],
    ['a file', () => join(root, 'hello.txt'), 'ENOTDIR'],
    ['a broken link', () => join(root, 'broken'), 'ENOENT'],
  ])('throws the readdir error for %s', async (_label, dir, code) => {
    await expect(readDirectory(dir(), { root, dotfiles: false, ...statMode })).rejects.toMatchObject({ code });
  });

  it('lists 10,000 files', async () => {
    const entries = await readDirectory(join(base, 'many'), { root: base, dotfiles: false, ...statMode });

    expect(entries).toHaveLength(10_000);
    expect(new Set(entries.map((entry) => entry.name)).size).toBe(10_000);
    expect(entries.every((entry) => entry.type === 'file')).toBe(true);
    expect(byName(entries, 'file-5000.txt')?.size).toBe(13);
  });
});
