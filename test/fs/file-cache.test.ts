import { execFileSync } from 'node:child_process';
import { link, mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FileCache, RACY_WINDOW_MS, type LookupResult } from '../../src/fs/file-cache.js';
import { cleanup, tempDir, writeTree } from '../helpers/server.js';

afterAll(cleanup);

/**
 * The cache reuses bytes only once a file has been still for RACY_WINDOW_MS; the
 * clock is moved past that rather than waited for, so these cases exercise the
 * cached (settled) path, the one every request after the first takes.
 */
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now() + RACY_WINDOW_MS * 5);
});
afterEach(() => {
  vi.useRealTimers();
});

function text(found: LookupResult): string | LookupResult {
  return typeof found === 'object' ? String(found.body) : found;
}

async function layout(): Promise<{ base: string; root: string; cache: FileCache }> {
  const base = await tempDir('serve-dir-file-cache-');
  const root = join(base, 'site');
  await writeTree(root, { 'dir/old.txt': 'old', 'dir/deeper/old.txt': 'deeper', 'inside.txt': 'inside', '.env': 'SECRET' });
  await mkdir(join(base, 'outside'));
  return { base, root, cache: new FileCache(root, 1024 * 1024) };
}

describe('FileCache, once an entry is cached', () => {
  it('a folder moved out of the root and symlinked back is not-found at once, at any depth', async () => {
    const { base, root, cache } = await layout();
    expect(text(cache.lookup(join(root, 'dir', 'old.txt')))).toBe('old');
    expect(text(cache.lookup(join(root, 'dir', 'deeper', 'old.txt')))).toBe('deeper');
    await rename(join(root, 'dir'), join(base, 'outside', 'dir'));
    await symlink(join(base, 'outside', 'dir'), join(root, 'dir'));
    expect(cache.lookup(join(root, 'dir', 'old.txt'))).toBe('not-found');
    expect(cache.lookup(join(root, 'dir', 'deeper', 'old.txt'))).toBe('not-found');
  });

  it('a symlink retargeted out of the root is not-found, though it leads to the very file cached', async () => {
    const { base, root, cache } = await layout();
    // The same file under a second name outside: its stat identity is the cached one.
    await link(join(root, 'inside.txt'), join(base, 'outside', 'same.txt'));
    await symlink('inside.txt', join(root, 'name'));
    expect(text(cache.lookup(join(root, 'name')))).toBe('inside');
    await rm(join(root, 'name'));
    await symlink(join(base, 'outside', 'same.txt'), join(root, 'name'));
    expect(cache.lookup(join(root, 'name'))).toBe('not-found');
  });

  it('a symlink retargeted to a hidden file is not-found', async () => {
    const { root, cache } = await layout();
    await symlink('inside.txt', join(root, 'name'));
    expect(text(cache.lookup(join(root, 'name')))).toBe('inside');
    await rm(join(root, 'name'));
    await symlink('.env', join(root, 'name'));
    expect(cache.lookup(join(root, 'name'))).toBe('not-found');
    expect(text(new FileCache(root, 1024 * 1024, true).lookup(join(root, 'name')))).toBe('SECRET');
  });

  it('links that stay inside are served from the cache, and follow edits', async () => {
    const { root, cache } = await layout();
    await symlink('dir', join(root, 'linked'));
    const first = cache.lookup(join(root, 'linked', 'old.txt'));
    expect(cache.lookup(join(root, 'linked', 'old.txt'))).toBe(first);
    await writeFile(join(root, 'dir', 'old.txt'), 'new');
    expect(text(cache.lookup(join(root, 'linked', 'old.txt')))).toBe('new');
  });

  it('a regular file swapped for a FIFO is not-found, and nothing blocks', async () => {
    const { root, cache } = await layout();
    expect(text(cache.lookup(join(root, 'inside.txt')))).toBe('inside');
    await rm(join(root, 'inside.txt'));
    execFileSync('mkfifo', [join(root, 'inside.txt')]);
    expect(cache.lookup(join(root, 'inside.txt'))).toBe('not-found');
  });
});
