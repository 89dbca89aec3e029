import { EventEmitter } from 'node:events';
import type { FSWatcher } from 'node:fs';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChangeKind } from '../../src/livereload/batch.js';
import { createIgnoreMatcher } from '../../src/livereload/ignore.js';
import { watchNatively, type FsWatchFunction, type NativeWatcher } from '../../src/livereload/native-watch.js';

/** Far longer than a few lstat and readdir calls take. */
const NO_LATE_CHANGE_WAIT_MS = 100;

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

async function tempRoot(files: Record<string, string>): Promise<string> {
  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), 'serve-dir-native-watch-')));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), content);
  }
  return root;
}

/** Starts a native watcher on `root`; its changes read "add /css/" (folders end in "/"). */
async function start(root: string, recursive: boolean, watch?: FsWatchFunction) {
  const changes: string[] = [];
  const errors: Error[] = [];
  const watcher: NativeWatcher = watchNatively({
    root,
    isIgnored: createIgnoreMatcher(root, []),
    recursive,
    onChange: (absolutePath: string, kind: ChangeKind, isFolder: boolean) => {
      changes.push(`${kind} /${path.relative(root, absolutePath).split(path.sep).join('/')}${isFolder ? '/' : ''}`);
    },
    onError: (error) => errors.push(error),
    watch,
  });
  cleanups.unshift(() => watcher.close());
  await watcher.ready;
  return { watcher, changes, errors };
}

describe('watchNatively', () => {
  it.runIf(process.platform === 'linux')('closes the watches of a removed folder and of the folders in it', async () => {
    const root = await tempRoot({ 'index.html': 'home', 'old/site.css': 'a', 'old/deep/page.html': 'page', 'kept/x.js': 'x' });
    const { watcher, changes, errors } = await start(root, false);
    expect(watcher.watchCount).toBe(4);

    await rm(path.join(root, 'old'), { recursive: true });
    await expect.poll(() => changes).toContain('unlink /old/');
    expect(watcher.watchCount).toBe(2);
    expect(changes.sort()).toEqual(['unlink /old/', 'unlink /old/deep/', 'unlink /old/deep/page.html', 'unlink /old/site.css']);
    expect(errors).toEqual([]);
  });

  it('reads a folder larger than one batch of entries whole, and skips ignored names in it', async () => {
    const files: Record<string, string> = { 'big/.page.html.swp': 'swap' };
    for (let i = 0; i < 700; i++) files[`big/file-${i}.txt`] = String(i);
    const root = await tempRoot(files);
    let emit: (event: string, relative: string) => void = () => {};
    const { changes } = await start(root, true, (_folder, _options, onEvent) => {
      emit = (event, relative) => onEvent(event, relative.split('/').join(path.sep));
      return Object.assign(new EventEmitter(), { close: () => {} }) as unknown as FSWatcher;
    });
    // Known from the scan, so changed; had the scan stopped after one batch, the last would be "add".
    await writeFile(path.join(root, 'big/file-699.txt'), 'edited');
    emit('change', 'big/file-699.txt');
    await expect.poll(() => changes).toEqual(['change /big/file-699.txt']);

    await rm(path.join(root, 'big'), { recursive: true });
    emit('rename', 'big');
    await expect.poll(() => changes).toContain('unlink /big/');
    expect(changes.filter((change) => change.startsWith('unlink /big/file-'))).toHaveLength(700);
    expect(changes).not.toContain('unlink /big/.page.html.swp');
  });

  describe('with one recursive watch on the root (macOS, Windows)', () => {
    /** A stand-in for FSEvents: the test says which paths it names, relative to the root. */
    function fakeTreeWatch() {
      let listener: ((event: string, filename: string | null) => void) | undefined;
      const watch: FsWatchFunction = (_folder, options, onEvent) => {
        expect(options.recursive).toBe(true);
        listener = onEvent;
        return Object.assign(new EventEmitter(), { close: () => {} }) as unknown as FSWatcher;
      };
      return { watch, emit: (event: string, relative: string) => listener!(event, relative.split('/').join(path.sep)) };
    }

    it('maps names relative to the root, and reads a new folder named only through an entry in it', async () => {
      const root = await tempRoot({ 'index.html': 'home', 'css/site.css': 'a' });
      const tree = fakeTreeWatch();
      const { watcher, changes } = await start(root, true, tree.watch);
      expect(watcher.watchCount).toBe(1);

      tree.emit('change', 'css/site.css');
      await expect.poll(() => changes).toEqual(['change /css/site.css']);

      changes.length = 0;
      await mkdir(path.join(root, 'fresh/nested'), { recursive: true });
      await writeFile(path.join(root, 'fresh/nested/page.html'), 'page');
      await writeFile(path.join(root, 'fresh/other.html'), 'other');
      tree.emit('rename', 'fresh/nested/page.html');
      await expect.poll(() => [...changes].sort()).toEqual(['add /fresh/', 'add /fresh/nested/', 'add /fresh/nested/page.html', 'add /fresh/other.html']);
    });

    it('drops events under ignored folders', async () => {
      const root = await tempRoot({ 'index.html': 'home', 'node_modules/pkg/index.js': 'module' });
      const tree = fakeTreeWatch();
      const { changes } = await start(root, true, tree.watch);
      await writeFile(path.join(root, 'node_modules/pkg/added.js'), 'added');
      tree.emit('change', 'node_modules/pkg/index.js');
      tree.emit('rename', 'node_modules/pkg/added.js');
      tree.emit('change', 'index.html');
      // Were the ignored events looked at, their folders would be read and reported within this wait.
      await new Promise((resolve) => setTimeout(resolve, NO_LATE_CHANGE_WAIT_MS));
      expect(changes).toEqual(['change /index.html']);
    });
  });
});
