import { closeSync, watch as fsWatch, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync, type FSWatcher } from 'node:fs';
import { mkdir, mkdtemp, readdir, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { watch, type ChokidarOptions } from 'chokidar';
import { afterEach, describe, expect, it } from 'vitest';
import type { FsWatchFunction } from '../../src/livereload/native-watch.js';
import { watchTree, type TreeWatcher, type WatchFunction } from '../../src/livereload/watcher.js';
import { formatEvent } from '../../src/log.js';
import { inotifyWatchedInodes } from './inotify.js';

/** Twice the batcher's longest flush delay: if a second batch were coming, it would have come. */
const NO_SECOND_BATCH_WAIT_MS = 300;

/** Longer than the batcher's quiet window (20 ms) and shorter than the wait for a write to an emptied file. */
const SLOW_WRITER_PAUSE_MS = 40;

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

async function tempDir(): Promise<string> {
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), 'serve-dir-watcher-')));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function tempRoot(files: Record<string, string> = {}): Promise<string> {
  const root = await tempDir();
  for (const [name, content] of Object.entries({ 'index.html': 'home', ...files })) {
    await mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await writeFile(path.join(root, name), content);
  }
  return root;
}

/** The batches the watcher reports, in order, and every path seen so far. */
function batches() {
  const waiting: ((paths: string[]) => void)[] = [];
  const queued: string[][] = [];
  const seen = new Set<string>();
  /** The next batch, or undefined if none comes within `timeoutMs`. */
  const nextOrNone = (timeoutMs: number): Promise<string[] | undefined> => {
    const batch = queued.shift();
    if (batch !== undefined) return Promise.resolve(batch);
    return new Promise((resolve) => {
      const waiter = (paths: string[]) => {
        clearTimeout(timer);
        resolve(paths);
      };
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(waiter), 1);
        resolve(undefined);
      }, timeoutMs);
      waiting.push(waiter);
    });
  };
  return {
    seen,
    onBatch(paths: string[]) {
      for (const urlPath of paths) seen.add(urlPath);
      const waiter = waiting.shift();
      if (waiter !== undefined) waiter(paths);
      else queued.push(paths);
    },
    nextOrNone,
    next: async (timeoutMs = 5000): Promise<string[]> => {
      const batch = await nextOrNone(timeoutMs);
      if (batch === undefined) throw new Error(`no batch within ${timeoutMs} ms`);
      return batch;
    },
  };
}

async function startWatching(root: string, ignore: string[] = []) {
  const logs: string[] = [];
  const reported = batches();
  const watcher = await watchTree({ root, ignore, poll: false, emit: (event) => logs.push(formatEvent(event) ?? ''), onBatch: reported.onBatch });
  cleanups.unshift(() => watcher.close());
  await watcher.ready;
  return { watcher, logs, ...reported };
}

/** chokidar's watch, remembering the options of each start. */
function recordingChokidar(started: ChokidarOptions[]): WatchFunction {
  return (paths, options) => {
    started.push(options);
    return watch(paths, options);
  };
}

describe('watchTree', () => {
  it('falls back to polling, with one line saying how to fix it, when the OS runs out of watches', async () => {
    const root = await tempRoot({ 'a/one.html': '1', 'b/two.html': '2', 'c/three.html': '3' });
    const logs: string[] = [];
    const opened: FSWatcher[] = [];
    let closedCount = 0;
    // Two folders get a watch, then inotify fails the way it does once fs.inotify.max_user_watches is reached.
    const exhaustedAfterTwo: FsWatchFunction = (folder, options, listener) => {
      if (opened.length === 2) {
        throw Object.assign(new Error(`ENOSPC: System limit for number of file watchers reached, watch '${folder}'`), { code: 'ENOSPC' });
      }
      const watcher = fsWatch(folder, options, listener);
      watcher.once('close', () => closedCount++);
      opened.push(watcher);
      return watcher;
    };
    const started: ChokidarOptions[] = [];
    const { onBatch, next } = batches();
    const watcher: TreeWatcher = await watchTree(
      { root, ignore: [], poll: false, emit: (event) => logs.push(formatEvent(event) ?? ''), onBatch },
      { fs: exhaustedAfterTwo, chokidar: recordingChokidar(started) },
    );
    cleanups.unshift(() => watcher.close());
    await watcher.ready;

    expect(started.map((options) => options.usePolling)).toEqual([true]);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain('sudo sysctl fs.inotify.max_user_watches=');
    expect(logs[0]).toContain('polling');
    // The watches that were had are given back.
    expect(closedCount).toBe(2);

    // Still watching: the polling watcher reports the edit once it has scanned the tree.
    await writeFile(path.join(root, 'b/two.html'), 'edited');
    expect(await next()).toEqual(['/b/two.html']);
  });

  it('logs other errors of the OS watches once per kind, and keeps watching', async () => {
    const root = await tempRoot();
    const logs: string[] = [];
    const failing: FsWatchFunction = (folder, options, listener) => {
      const watcher = fsWatch(folder, options, listener);
      setImmediate(() => {
        for (let i = 0; i < 3; i++) watcher.emit('error', Object.assign(new Error('watch EIO'), { code: 'EIO' }));
      });
      return watcher;
    };
    const { onBatch, next } = batches();
    const watcher = await watchTree({ root, ignore: [], poll: false, emit: (event) => logs.push(formatEvent(event) ?? ''), onBatch }, { fs: failing });
    cleanups.unshift(() => watcher.close());
    await watcher.ready;
    await expect.poll(() => logs).toEqual(['live reload: watcher error: watch EIO']);

    await writeFile(path.join(root, 'index.html'), 'edited');
    expect(await next()).toEqual(['/index.html']);
    expect(logs).toHaveLength(1);
  });

  it('with --poll, watches with chokidar and logs its errors once per kind', async () => {
    const root = await tempRoot();
    const logs: string[] = [];
    const started: ChokidarOptions[] = [];
    const failing: WatchFunction = (paths, options) => {
      const watcher = recordingChokidar(started)(paths, options);
      watcher.once('ready', () => {
        for (let i = 0; i < 3; i++) watcher.emit('error', Object.assign(new Error('watch EIO'), { code: 'EIO' }));
      });
      return watcher;
    };
    const { onBatch, next } = batches();
    const watcher = await watchTree({ root, ignore: [], poll: true, emit: (event) => logs.push(formatEvent(event) ?? ''), onBatch }, { chokidar: failing });
    cleanups.unshift(() => watcher.close());
    await watcher.ready;

    await writeFile(path.join(root, 'index.html'), 'edited');
    expect(await next()).toEqual(['/index.html']);
    expect(started.map((options) => options.usePolling)).toEqual([true]);
    expect(logs).toEqual(['live reload: watcher error: watch EIO']);
  });

  it('resolves ready when closed before the scan ends', async () => {
    const root = await tempRoot();
    const watcher = await watchTree({ root, ignore: [], poll: false, emit: () => {}, onBatch: () => {} });
    await watcher.close();
    await watcher.ready;
  });

  it('reports what a folder moved in already holds, and later edits inside it', async () => {
    const root = await tempRoot();
    const { seen, logs } = await startWatching(root);
    // Built elsewhere and moved in whole: no watch can have seen its files being written.
    const staging = await tempDir();
    await mkdir(path.join(staging, 'fresh/nested'), { recursive: true });
    await writeFile(path.join(staging, 'fresh/site.css'), 'a {}');
    await writeFile(path.join(staging, 'fresh/nested/page.html'), 'page');
    await rename(path.join(staging, 'fresh'), path.join(root, 'fresh'));
    await expect.poll(() => [...seen].sort()).toEqual(['/fresh/', '/fresh/nested/', '/fresh/nested/page.html', '/fresh/site.css']);

    seen.clear();
    await writeFile(path.join(root, 'fresh/nested/page.html'), 'edited');
    await writeFile(path.join(root, 'fresh/nested/added.html'), 'added');
    await expect.poll(() => [...seen].sort()).toEqual(['/fresh/nested/added.html', '/fresh/nested/page.html']);
    expect(logs).toEqual([]);
  });

  it('reports a folder removed with all it held, without errors', async () => {
    const root = await tempRoot({ 'old/site.css': 'a {}', 'old/deep/page.html': 'page' });
    const { seen, logs } = await startWatching(root);
    await rm(path.join(root, 'old'), { recursive: true });
    await expect.poll(() => [...seen].sort()).toEqual(['/old/', '/old/deep/', '/old/deep/page.html', '/old/site.css']);
    expect(logs).toEqual([]);
  });

  it('watches a folder removed and created again under the same name', async () => {
    const root = await tempRoot({ 'css/site.css': 'a {}' });
    const { seen } = await startWatching(root);
    // All at once, before the watcher hears of any of it: the new folder may even reuse the old one's inode.
    rmSync(path.join(root, 'css'), { recursive: true });
    mkdirSync(path.join(root, 'css'));
    writeFileSync(path.join(root, 'css/site.css'), 'b {}');
    await expect.poll(() => [...seen]).toContain('/css/site.css');

    // A new file: the check the watcher makes of files it announced cannot see that one.
    await writeFile(path.join(root, 'css/added.css'), 'c {}');
    await expect.poll(() => [...seen]).toContain('/css/added.css');
  });

  it('reports both paths of a rename', async () => {
    const root = await tempRoot({ 'a.css': 'a {}' });
    const { seen } = await startWatching(root);
    await rename(path.join(root, 'a.css'), path.join(root, 'b.css'));
    await expect.poll(() => [...seen].sort()).toEqual(['/a.css', '/b.css']);
  });

  it("reports an editor's atomic save (a temporary file renamed over the page) as one change of the page", async () => {
    const root = await tempRoot();
    const { next, nextOrNone } = await startWatching(root);
    // Back to back, as an editor does: awaiting each step could leave more than a batch's window between them.
    writeFileSync(path.join(root, 'index.html.tmp-8842'), 'saved');
    renameSync(path.join(root, 'index.html.tmp-8842'), path.join(root, 'index.html'));
    expect(await next()).toEqual(['/index.html']);
    expect(await nextOrNone(NO_SECOND_BATCH_WAIT_MS)).toBeUndefined();
  });

  it('reports a file truncated, then written after a pause longer than a batch, as one change', async () => {
    const root = await tempRoot();
    const { next, nextOrNone } = await startWatching(root);
    // A writer on a loaded machine: open(O_TRUNC), a pause, write(), close().
    const fd = openSync(path.join(root, 'index.html'), 'w');
    await new Promise((resolve) => setTimeout(resolve, SLOW_WRITER_PAUSE_MS));
    writeSync(fd, 'saved');
    closeSync(fd);
    expect(await next()).toEqual(['/index.html']);
    expect(await nextOrNone(NO_SECOND_BATCH_WAIT_MS)).toBeUndefined();
  });

  it('reports a file that is emptied and stays empty', async () => {
    const root = await tempRoot();
    const { next } = await startWatching(root);
    writeFileSync(path.join(root, 'index.html'), '');
    expect(await next()).toEqual(['/index.html']);
  });

  it.runIf(process.platform === 'linux')('holds one inotify watch per folder, none per file, none on ignored folders', async () => {
    const root = await tempRoot({
      'css/a.css': 'a',
      'css/b.css': 'b',
      'js/lib/x.js': 'x',
      'docs/guide.html': 'guide',
      'docs/api/index.html': 'api',
      'dist/out.js': 'built',
      'node_modules/pkg/index.js': 'module',
      'js/node_modules/dep/index.js': 'nested module',
      '.git/HEAD': 'ref: refs/heads/main',
    });
    await startWatching(root, ['dist', 'docs/api']);
    const nameByInode = new Map([...(await treeInodes(root))].map(([name, inode]) => [inode, name]));
    const watchedInTree = (await inotifyWatchedInodes()).flatMap((inode) => nameByInode.get(inode) ?? []);
    expect(watchedInTree.sort()).toEqual(['.', 'css', 'docs', 'js', 'js/lib']);
  });

  it.runIf(process.platform === 'linux')('gives back the watches of a folder moved out of the tree', async () => {
    const root = await tempRoot({ 'old/deep/page.html': 'page' });
    const { seen } = await startWatching(root);
    const inodes = await treeInodes(root);
    expect(await inotifyWatchedInodes()).toEqual(expect.arrayContaining([inodes.get('old'), inodes.get('old/deep')]));

    // Unlike a removed folder's, the watches of a moved folder live on until they are closed.
    await rename(path.join(root, 'old'), path.join(await tempDir(), 'old'));
    await expect.poll(() => [...seen]).toContain('/old/');
    const watched = await inotifyWatchedInodes();
    expect(watched).not.toContain(inodes.get('old'));
    expect(watched).not.toContain(inodes.get('old/deep'));
    expect(watched).toContain(inodes.get('.'));
  });
});

/** Relative path ("." for the root) -> inode, for everything under `root`. */
async function treeInodes(root: string): Promise<Map<string, number>> {
  const inodes = new Map<string, number>([['.', (await stat(root)).ino]]);
  for (const relative of await readdir(root, { recursive: true })) {
    inodes.set(relative.split(path.sep).join('/'), (await stat(path.join(root, relative))).ino);
  }
  return inodes;
}
