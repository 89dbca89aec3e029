// Watches the served tree and reports batches of changed URL paths.
//
// chokidar is imported here, lazily, so that serving without --watch never loads it. Events are
// reported as URL paths relative to the root ("/css/site.css"; folders end in "/"), never as
// file system paths.

import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ChokidarOptions, FSWatcher } from 'chokidar';
import { ChangeBatcher, type BatchTiming, type ChangeKind } from './batch.js';
import { createIgnoreMatcher } from './ignore.js';

export interface TreeWatcherOptions {
  /** Absolute real path of the served directory. */
  root: string;
  /** Globs or paths to ignore, relative to the root (see ignore.ts). */
  ignore: readonly string[];
  /** Poll instead of using the OS's change notifications (network drives, WSL, containers). */
  poll: boolean;
  log: (line: string) => void;
  onBatch: (urlPaths: string[]) => void;
  timing?: BatchTiming;
}

export interface TreeWatcher {
  /** Resolves when the initial scan is done (or the watcher is closed). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** chokidar's `watch`; a parameter so that tests can simulate the OS running out of watches. */
export type WatchFunction = (paths: string, options: ChokidarOptions) => FSWatcher;

/**
 * chokidar drops a "change" of a path that comes within 50 ms of the one it reported (a
 * per-path throttle), and its report may describe a file caught mid-write (truncated, not yet
 * written). An editor's save followed by a formatter's, or a tool writing a file twice, would
 * then leave pages showing the first version. So each file of a batch is looked at when the
 * batch is announced (what pages will fetch) and again once the throttle is over, and
 * announced again if it changed in between.
 */
const SETTLE_CHECK_DELAY_MS = 60;

export async function watchTree(options: TreeWatcherOptions, watch?: WatchFunction): Promise<TreeWatcher> {
  // Compiled first: a malformed --ignore pattern fails before anything is watched.
  const isIgnored = createIgnoreMatcher(options.root, options.ignore);
  const watchFunction = watch ?? (await import('chokidar')).watch;
  const batcher = new ChangeBatcher((urlPaths) => {
    options.onBatch(urlPaths);
    for (const urlPath of urlPaths) if (!urlPath.endsWith('/')) void settleCheck(urlPath);
  }, options.timing);
  const settleChecks = new Map<string, NodeJS.Timeout>();
  const reportedErrorCodes = new Set<string>();
  let polling = options.poll;
  let closed = false;
  let current: FSWatcher;
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));

  function record(absolutePath: string, kind: ChangeKind, isFolder: boolean): void {
    const relative = path.relative(options.root, absolutePath);
    if (relative === '') return;
    const urlPath = `/${relative.split(path.sep).join('/')}${isFolder ? '/' : ''}`;
    // This batch will look at the file again when it is announced.
    clearTimeout(settleChecks.get(urlPath));
    settleChecks.delete(urlPath);
    batcher.record(urlPath, kind);
  }

  async function settleCheck(urlPath: string): Promise<void> {
    const absolutePath = path.join(options.root, ...urlPath.slice(1).split('/'));
    const announced = await stat(absolutePath).catch(() => undefined);
    // Gone: chokidar reports the removal itself.
    if (closed || announced === undefined) return;
    const timer = setTimeout(async () => {
      settleChecks.delete(urlPath);
      const settled = await stat(absolutePath).catch(() => undefined);
      if (closed || settled === undefined) return;
      const changed = settled.mtimeMs !== announced.mtimeMs || settled.size !== announced.size || settled.ino !== announced.ino;
      if (changed) record(absolutePath, 'change', false);
    }, SETTLE_CHECK_DELAY_MS);
    timer.unref();
    clearTimeout(settleChecks.get(urlPath));
    settleChecks.set(urlPath, timer);
  }

  function start(usePolling: boolean): FSWatcher {
    const watcher = watchFunction(options.root, {
      ignoreInitial: true,
      ignored: (absolutePath: string) => isIgnored(absolutePath),
      usePolling,
      // chokidar's atomic mode holds every removal back 100 ms to see whether the file comes
      // back; the batcher already folds a remove-and-recreate into one change, without delay.
      atomic: false,
      ignorePermissionErrors: true,
    });
    watcher.on('all', (event, absolutePath) => {
      if (event === 'add' || event === 'change' || event === 'unlink') record(absolutePath, event, false);
      else if (event === 'addDir') record(absolutePath, 'add', true);
      else if (event === 'unlinkDir') record(absolutePath, 'unlink', true);
    });
    watcher.on('error', (error) => {
      if (watcher === current) void onError(error as NodeJS.ErrnoException);
    });
    watcher.once('ready', () => {
      if (watcher === current) resolveReady();
    });
    return watcher;
  }

  async function onError(error: NodeJS.ErrnoException): Promise<void> {
    if (closed) return;
    const code = error.code ?? 'unknown';
    if (!polling && (code === 'ENOSPC' || code === 'EMFILE')) {
      // Out of OS watches: keep working by polling rather than dying or going blind.
      polling = true;
      options.log(watchLimitMessage(code));
      const exhausted = current;
      current = start(true);
      await closeWatcher(exhausted);
      return;
    }
    // One line per kind of error, not one per file.
    if (reportedErrorCodes.has(code)) return;
    reportedErrorCodes.add(code);
    options.log(`live reload: watcher error: ${error.message}`);
  }

  current = start(polling);

  return {
    ready,
    async close() {
      closed = true;
      batcher.close();
      for (const timer of settleChecks.values()) clearTimeout(timer);
      settleChecks.clear();
      resolveReady();
      await closeWatcher(current);
    },
  };
}

/**
 * chokidar drops every listener when it closes, yet work it had under way (a scan, a watch
 * being set up) may still fail afterwards and emit "error", which with no listener would throw
 * and take the server down.
 */
async function closeWatcher(watcher: FSWatcher): Promise<void> {
  const closing = watcher.close();
  watcher.on('error', () => {});
  await closing;
}

function watchLimitMessage(code: 'ENOSPC' | 'EMFILE'): string {
  const fix =
    code === 'ENOSPC'
      ? 'the limit on file watches is reached (ENOSPC); raise it with `sudo sysctl fs.inotify.max_user_watches=524288`'
      : 'too many open files (EMFILE); raise the limit with `ulimit -n 65536`';
  return `live reload: ${fix} or --ignore large folders. Watching by polling meanwhile (slower, more CPU).`;
}
