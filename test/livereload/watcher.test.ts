import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { watch, type ChokidarOptions } from 'chokidar';
import { afterEach, describe, expect, it } from 'vitest';
import { watchTree, type TreeWatcher, type WatchFunction } from '../../src/livereload/watcher.js';

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
  cleanups = [];
});

async function tempRoot(): Promise<string> {
  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), 'serve-dir-watcher-')));
  await writeFile(path.join(root, 'index.html'), 'home');
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  return root;
}

/** Resolves with the next batch the watcher reports. */
function batches(): { onBatch: (paths: string[]) => void; next: () => Promise<string[]> } {
  const waiting: ((paths: string[]) => void)[] = [];
  const queued: string[][] = [];
  return {
    onBatch: (paths) => (waiting.length > 0 ? waiting.shift()!(paths) : queued.push(paths)),
    next: () => (queued.length > 0 ? Promise.resolve(queued.shift()!) : new Promise((resolve) => waiting.push(resolve))),
  };
}

describe('watchTree', () => {
  it('falls back to polling, with one line saying how to fix it, when the OS runs out of watches', async () => {
    const root = await tempRoot();
    const logs: string[] = [];
    const started: ChokidarOptions[] = [];
    // The first (native) watcher fails the way inotify does once fs.inotify.max_user_watches is reached.
    const failingOnce: WatchFunction = (paths, options) => {
      const watcher = watch(paths, options);
      started.push(options);
      if (started.length === 1) {
        watcher.once('ready', () => {
          for (let i = 0; i < 3; i++) watcher.emit('error', Object.assign(new Error('watch ENOSPC'), { code: 'ENOSPC' }));
        });
      }
      return watcher;
    };
    const { onBatch, next } = batches();
    const watcher: TreeWatcher = await watchTree({ root, ignore: [], poll: false, log: (line) => logs.push(line), onBatch }, failingOnce);
    cleanups.unshift(() => watcher.close());
    await watcher.ready;

    await expect.poll(() => started.length).toBe(2);
    expect(started.map((options) => options.usePolling)).toEqual([false, true]);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain('sudo sysctl fs.inotify.max_user_watches=');
    expect(logs[0]).toContain('polling');

    // Still watching: the polling watcher reports the edit once it has scanned the tree.
    await writeFile(path.join(root, 'index.html'), 'edited');
    expect(await next()).toEqual(['/index.html']);
  });

  it('logs other watcher errors once per kind, and keeps watching', async () => {
    const root = await tempRoot();
    const logs: string[] = [];
    const failing: WatchFunction = (paths, options) => {
      const watcher = watch(paths, options);
      watcher.once('ready', () => {
        for (let i = 0; i < 3; i++) watcher.emit('error', Object.assign(new Error('watch EIO'), { code: 'EIO' }));
      });
      return watcher;
    };
    const { onBatch, next } = batches();
    const watcher = await watchTree({ root, ignore: [], poll: false, log: (line) => logs.push(line), onBatch }, failing);
    cleanups.unshift(() => watcher.close());
    await watcher.ready;

    await writeFile(path.join(root, 'index.html'), 'edited');
    expect(await next()).toEqual(['/index.html']);
    expect(logs).toEqual(['live reload: watcher error: watch EIO']);
  });

  it('resolves ready when closed before the scan ends', async () => {
    const root = await tempRoot();
    const watcher = await watchTree({ root, ignore: [], poll: false, log: () => {}, onBatch: () => {} });
    await watcher.close();
    await watcher.ready;
  });
});
