import { constants, lstat, lstatSync, realpath, realpathSync, stat, statSync, type Dirent, type Stats } from 'node:fs';
import { open, opendir, readdir } from 'node:fs/promises';
import { relative } from 'node:path';
import { promisify } from 'node:util';
import { DESCRIPTOR_LINKS, locateDescriptor, OPEN_FLAGS } from './file-cache.js';
import { isServableName, isServableRealPath, withSeparator } from './map-path.js';

export interface ListingEntry {
  /** The file name as on disk: any Unicode, including characters that are special in HTML and URLs. */
  name: string;
  /** A symlink is reported as what it points to. */
  type: 'file' | 'directory';
  /** Bytes; 0 for directories. */
  size: number;
  mtimeMs: number;
}

export interface ReadDirectoryOptions {
  /** Absolute real path of the served root (already realpath'd). */
  root: string;
  /** When false, dot names are omitted, except `.well-known` in the root (the path guard's rule). */
  dotfiles: boolean;
  /**
   * Longest stretch of synchronous stats before the event loop gets a turn.
   * Default {@link SYNC_SLICE_MS}; 0 sends every stat to the thread pool.
   */
  syncSliceMs?: number;
  /**
   * The folder's own st_size, if known: on every common file system it grows
   * with the entries, so a small one is read in one call (see readDirents).
   */
  directorySize?: number;
}

/**
 * Why stats start synchronous: warm in the page cache, a synchronous stat takes
 * a few microseconds, several times less than a round trip through the thread
 * pool (10,000 entries: ~30 ms against ~90 ms on a busy 2-core machine). Slices
 * keep the event loop turning meanwhile.
 */
export const SYNC_SLICE_MS = 5;

/**
 * Why they may not stay synchronous: on a network drive or WSL's /mnt a stat
 * waits for I/O, and one by one 10,000 of them take seconds. A slice averaging
 * more than this per stat hands the rest to the thread pool, where waits overlap.
 */
const SLOW_STAT_MS = 0.05;

/**
 * Pooled stats in flight at once. libuv runs file system calls on 4 threads by
 * default, so a few per thread keeps them all busy; a deeper queue would only
 * make other requests' file reads wait behind the listing.
 */
const STAT_CONCURRENCY = 16;

/** The three calls a listing makes, synchronous or pooled, so one function describes an entry either way. */
interface StatCalls {
  lstat(path: string): Stats | Promise<Stats>;
  stat(path: string): Stats | Promise<Stats>;
  realpath(path: string): string | Promise<string>;
}

const SYNC_CALLS: StatCalls = {
  lstat: (path) => lstatSync(path),
  stat: (path) => statSync(path),
  realpath: (path) => realpathSync.native(path),
};

// The callback functions, promisified: for 10,000 stats on Node 20 they measured
// faster than their fs.promises twins (less promise machinery per call).
const POOLED_CALLS: StatCalls = {
  lstat: promisify(lstat),
  stat: promisify(stat),
  realpath: promisify(realpath.native),
};

/**
 * Errors that mean "this entry cannot be listed", not "the listing failed": it
 * vanished after readdir (ENOENT, ENOTDIR), it is a broken or looping symlink
 * (ENOENT, ELOOP), its name is not valid UTF-8 so the decoded name matches no
 * file (ENOENT), or it cannot be read and so could not be served (EACCES, EPERM).
 */
const OMITTED_ENTRY_ERRORS = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EACCES', 'EPERM', 'ENAMETOOLONG']);

/**
 * Read a directory for a listing: one readdir, then the entries stat'ed, in
 * the same call while that is fast, then concurrently on the thread pool (never
 * awaited one by one: a folder of 10,000 files must list fast on any drive).
 *
 * Symlinks are followed only while their real path stays inside the root and,
 * without `dotfiles`, has no hidden segment (`cfg -> .git/config`): the same rule
 * as for serving, so a listing never shows what a click would refuse.
 * Entries that vanish, broken links, and anything but files and directories
 * (sockets, FIFOs, devices) are left out. Throws the open's or readdir's own error (ENOENT,
 * ENOTDIR, EACCES) for the caller to map to a status; any other stat error
 * (EMFILE, EIO) is thrown too, as the listing would be silently incomplete.
 */
export async function readDirectory(absoluteDir: string, options: ReadDirectoryOptions): Promise<ListingEntry[]> {
  const folder = await openFolder(absoluteDir, options);
  try {
    return await readOpenFolder(folder.path, relative(options.root, absoluteDir) === '', options);
  } finally {
    await folder.close();
  }
}

/**
 * The folder to list, as a path that keeps naming it whatever is renamed meanwhile.
 * On Linux the folder is opened and judged as files are (see file-cache.ts): its
 * real location must be servable; then it is read, and its entries stat'ed, through
 * `/proc/self/fd/N`, which names the opened folder itself. Elsewhere it is read by
 * name, as resolution last judged it.
 */
async function openFolder(absoluteDir: string, options: ReadDirectoryOptions): Promise<{ path: string; close(): Promise<void> }> {
  if (DESCRIPTOR_LINKS === undefined) return { path: absoluteDir, close: async () => {} };
  const handle = await open(absoluteDir, OPEN_FLAGS | constants.O_DIRECTORY);
  let servable = false;
  try {
    const real = await locateDescriptor(handle.fd, absoluteDir, await handle.stat());
    servable = real !== undefined && isServableRealPath(options.root, real, options.dotfiles);
  } finally {
    if (!servable) await handle.close();
  }
  if (!servable) throw Object.assign(new Error(`not a servable folder: ${absoluteDir}`), { code: 'ENOENT' });
  return { path: DESCRIPTOR_LINKS + String(handle.fd), close: () => handle.close() };
}

async function readOpenFolder(folderPath: string, inRoot: boolean, options: ReadDirectoryOptions): Promise<ListingEntry[]> {
  const prefix = withSeparator(folderPath);

  const candidates = await readDirents(
    folderPath,
    options.directorySize,
    (dirent) =>
      (dirent.isFile() || dirent.isDirectory() || dirent.isSymbolicLink()) &&
      isServableName(dirent.name, inRoot, options.dotfiles),
  );
  const describe = (dirent: Dirent, calls: StatCalls) => describeEntry(dirent, prefix + dirent.name, options, calls);

  const synchronous = await mapInSlices(candidates, options.syncSliceMs ?? SYNC_SLICE_MS, (dirent) =>
    describe(dirent, SYNC_CALLS),
  );
  const pooled = await mapConcurrently(candidates.slice(synchronous.length), STAT_CONCURRENCY, (dirent) =>
    describe(dirent, POOLED_CALLS),
  );
  const entries = synchronous.concat(pooled);
  return entries.filter((entry): entry is ListingEntry => entry !== undefined);
}

/**
 * Names read per call from a big folder. One readdir of 200,000 names builds
 * all their Dirents in one go on the main thread, and filtering them takes as
 * long again (over 100 ms each in which no other client is answered); in
 * batches, the event loop turns between them.
 */
const DIRENT_BATCH = 1024;

/**
 * Folders whose st_size is at most this are read in one readdir: a few thousand
 * entries on ext4, btrfs, XFS or tmpfs (a few milliseconds of Dirents). Batches
 * cost four calls on the thread pool even for a small folder (3× the time of
 * one readdir for 20 entries), and a listing not yet cached pays that each time.
 */
const ONE_CALL_DIRECTORY_SIZE = 256 * 1024;

/** The entries of a folder that `keep` accepts; throws the error of opening it (ENOENT, ENOTDIR, EACCES). */
async function readDirents(path: string, directorySize: number | undefined, keep: (dirent: Dirent) => boolean): Promise<Dirent[]> {
  if (directorySize !== undefined && directorySize <= ONE_CALL_DIRECTORY_SIZE) {
    return (await readdir(path, { withFileTypes: true })).filter(keep);
  }
  const dirents: Dirent[] = [];
  // The iterator closes the directory when the loop ends, by error or not.
  for await (const dirent of await opendir(path, { bufferSize: DIRENT_BATCH })) if (keep(dirent)) dirents.push(dirent);
  return dirents;
}

async function describeEntry(
  dirent: Dirent,
  path: string,
  options: ReadDirectoryOptions,
  calls: StatCalls,
): Promise<ListingEntry | undefined> {
  try {
    if (!dirent.isSymbolicLink()) {
      // lstat, not stat: an entry swapped for a symlink since readdir is not followed.
      return toEntry(dirent.name, await calls.lstat(path));
    }
    const target = await calls.realpath(path);
    if (!isServableRealPath(options.root, target, options.dotfiles)) return undefined;
    return toEntry(dirent.name, await calls.stat(target));
  } catch (error) {
    if (OMITTED_ENTRY_ERRORS.has((error as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw error;
  }
}

function toEntry(name: string, stats: Stats): ListingEntry | undefined {
  if (stats.isFile()) return { name, type: 'file', size: stats.size, mtimeMs: stats.mtimeMs };
  if (stats.isDirectory()) return { name, type: 'directory', size: 0, mtimeMs: stats.mtimeMs };
  return undefined;
}

/**
 * `items.map(work)` for a prefix of `items`, with synchronous calls, in slices of
 * at most `sliceMs` with a turn of the event loop between them. Stops when a
 * slice shows stats are slow, leaving the rest to the thread pool.
 */
async function mapInSlices<T, R>(items: readonly T[], sliceMs: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  while (sliceMs > 0 && results.length < items.length) {
    const sliceStart = performance.now();
    const sliceFirst = results.length;
    while (results.length < items.length && performance.now() - sliceStart < sliceMs) {
      results.push(await work(items[results.length] as T));
    }
    if ((performance.now() - sliceStart) / (results.length - sliceFirst) > SLOW_STAT_MS) break;
    if (results.length < items.length) await new Promise((resolve) => setImmediate(resolve));
  }
  return results;
}

/** `items.map(work)` with at most `limit` calls pending; results keep the items' order. */
async function mapConcurrently<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index] as T);
      } catch (error) {
        next = items.length; // the result is lost anyway: stop the other workers early
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
