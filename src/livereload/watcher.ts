// Watches the served tree and reports batches of changed URL paths relative to the root
// ("/css/site.css"; folders end in "/"), never file system paths.
//
// The issue names chokidar as the watcher, yet by default the OS is asked directly, through
// node:fs's watch (native-watch.ts): chokidar 5 holds an inotify watch for every FILE as well as
// every folder, which on a tree of 7,000 files (2,000 of them in node_modules) came to 5,104
// watches and a server of 132 MB resident, against a target of 80 (bench/livereload.js). Linux
// needs one watch per folder (103 there, and 62 MB), macOS and Windows one for the whole tree.
// chokidar is kept, imported only when needed, for --poll (network drives, WSL, containers),
// for the platforms where a folder's watch does not report writes to its files, and as the
// fallback when the OS has no watches left.

import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ChokidarOptions, FSWatcher } from 'chokidar';
import type { EmitEvent } from '../events.js';
import { ChangeBatcher, type BatchTiming, type ChangeKind } from './batch.js';
import { createIgnoreMatcher } from './ignore.js';
import { watchNatively, type FsWatchFunction } from './native-watch.js';

export interface TreeWatcherOptions {
  /** Absolute real path of the served directory. */
  root: string;
  /** Globs or paths to ignore, relative to the root (see ignore.ts). */
  ignore: readonly string[];
  /** Poll instead of using the OS's change notifications (network drives, WSL, containers). */
  poll: boolean;
  /** Warnings: the fall-back to polling, watcher errors. */
  emit: EmitEvent;
  onBatch: (urlPaths: string[]) => void;
  timing?: BatchTiming;
}

export interface TreeWatcher {
  /** Resolves when the initial scan is done (or the watcher is closed). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** chokidar's `watch`. */
export type WatchFunction = (paths: string, options: ChokidarOptions) => FSWatcher;

/** What watchTree watches with; parameters so that tests can simulate the OS running out of watches. */
export interface WatchFunctions {
  /** node:fs's watch, for the native watcher. */
  fs?: FsWatchFunction;
  /** chokidar's watch, for polling and the other platforms. */
  chokidar?: WatchFunction;
}

/** How the OS's notifications cover a tree, where a watch of our own is enough (see native-watch.ts). */
function nativeWatchMode(platform: NodeJS.Platform): 'per-folder' | 'recursive' | undefined {
  // inotify: a folder's watch reports writes to the files in it.
  if (platform === 'linux' || platform === 'android') return 'per-folder';
  // FSEvents, ReadDirectoryChangesW: one watch for the whole tree.
  if (platform === 'darwin' || platform === 'win32') return 'recursive';
  // kqueue (the BSDs) reports a folder's entries coming and going, not writes to them.
  return undefined;
}

/**
 * A file may be reported while it is being written (truncated, not yet complete), and chokidar
 * drops a "change" of a path that comes within 50 ms of the one it reported (a per-path
 * throttle). An editor's save followed by a formatter's, or a tool writing a file twice, would
 * then leave pages showing the first version. So each file of a batch is looked at when the
 * batch is announced (what pages will fetch) and again a little later, and announced again if
 * it changed in between.
 */
const SETTLE_CHECK_DELAY_MS = 60;

interface Backend {
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export async function watchTree(options: TreeWatcherOptions, watch: WatchFunctions = {}): Promise<TreeWatcher> {
  // Compiled first: a malformed --ignore pattern fails before anything is watched.
  const isIgnored = createIgnoreMatcher(options.root, options.ignore);
  const batcher = new ChangeBatcher((urlPaths) => {
    options.onBatch(urlPaths);
    for (const urlPath of urlPaths) if (!urlPath.endsWith('/')) void settleCheck(urlPath);
  }, options.timing);
  const settleChecks = new Map<string, NodeJS.Timeout>();
  const reportedErrorCodes = new Set<string>();
  const nativeMode = nativeWatchMode(process.platform);
  let polling = options.poll;
  let closed = false;
  let current: Backend;
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
    // Gone: the watcher reports the removal itself.
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

  /** Makes `backend` the one whose events, errors and readiness count. */
  function use(backend: Backend): void {
    current = backend;
    backend.ready.then(
      () => {
        if (backend === current) resolveReady();
      },
      (error: NodeJS.ErrnoException) => {
        if (backend === current) void onError(error);
      },
    );
  }

  /** chokidar's watch, loaded only when it is needed: most runs never need it. */
  async function loadChokidar(): Promise<WatchFunction> {
    return watch.chokidar ?? (await import('chokidar')).watch;
  }

  function startNative(mode: 'per-folder' | 'recursive'): Backend {
    const native = watchNatively({
      root: options.root,
      isIgnored,
      recursive: mode === 'recursive',
      onChange: record,
      onError(error) {
        if (backend === current) void onError(error);
      },
      watch: watch.fs,
    });
    const backend: Backend = { ready: native.ready, close: async () => native.close() };
    return backend;
  }

  function startChokidar(usePolling: boolean): Backend {
    const starting = loadChokidar().then((watchFunction) => {
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
        if (backend !== current) return;
        if (event === 'add' || event === 'change' || event === 'unlink') record(absolutePath, event, false);
        else if (event === 'addDir') record(absolutePath, 'add', true);
        else if (event === 'unlinkDir') record(absolutePath, 'unlink', true);
      });
      watcher.on('error', (error) => {
        if (backend === current) void onError(error as NodeJS.ErrnoException);
      });
      return watcher;
    });
    const backend: Backend = {
      ready: starting.then((watcher) => new Promise<void>((resolve) => watcher.once('ready', resolve))),
      close: () => starting.then(closeWatcher, () => undefined),
    };
    return backend;
  }

  async function onError(error: NodeJS.ErrnoException): Promise<void> {
    if (closed) return;
    const code = error.code ?? 'unknown';
    if (!polling && (code === 'ENOSPC' || code === 'EMFILE')) {
      // Out of OS watches: keep working by polling rather than dying or going blind.
      polling = true;
      options.emit({ type: 'warning', code: 'watch-limit', from: 'live-reload', message: watchLimitMessage(code) });
      const exhausted = current;
      use(startChokidar(true));
      await exhausted.close();
      return;
    }
    // One line per kind of error, not one per file.
    if (reportedErrorCodes.has(code)) return;
    reportedErrorCodes.add(code);
    options.emit({ type: 'warning', code: 'watcher-error', from: 'live-reload', message: `watcher error: ${error.message}` });
  }

  use(polling || nativeMode === undefined ? startChokidar(polling) : startNative(nativeMode));

  return {
    ready,
    async close() {
      closed = true;
      batcher.close();
      for (const timer of settleChecks.values()) clearTimeout(timer);
      settleChecks.clear();
      resolveReady();
      await current.close();
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
      : process.platform === 'linux'
        ? 'too many open files or inotify instances (EMFILE); raise the limits with `ulimit -n 65536` and `sudo sysctl fs.inotify.max_user_instances=1024`'
        : 'too many open files (EMFILE); raise the limit with `ulimit -n 65536`';
  return `${fix} or --ignore large folders. Watching by polling meanwhile (slower, more CPU).`;
}
