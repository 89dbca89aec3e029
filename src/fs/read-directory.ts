import { lstat, realpath, stat, type Dirent, type Stats } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { isHidden, isInside } from './map-path.js';

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
}

/**
 * Stats in flight at once. libuv runs file system calls on 4 threads by default,
 * so a few per thread keeps them all busy; a deeper queue would only make other
 * requests' file reads wait behind the listing.
 */
const STAT_CONCURRENCY = 16;

// The callback functions, promisified: for 10,000 stats on Node 20 they measured
// about twice as fast as their fs.promises twins (less promise machinery per call).
const lstatAsync = promisify(lstat);
const statAsync = promisify(stat);
const realpathAsync = promisify(realpath.native);

/**
 * Errors that mean "this entry cannot be listed", not "the listing failed": it
 * vanished after readdir (ENOENT, ENOTDIR), it is a broken or looping symlink
 * (ENOENT, ELOOP), its name is not valid UTF-8 so the decoded name matches no
 * file (ENOENT), or it cannot be read and so could not be served (EACCES, EPERM).
 */
const OMITTED_ENTRY_ERRORS = new Set(['ENOENT', 'ENOTDIR', 'ELOOP', 'EACCES', 'EPERM', 'ENAMETOOLONG']);

/**
 * Read a directory for a listing: one readdir, then the entries stat'ed
 * concurrently (never one after the other: a folder of 10,000 files must list fast).
 *
 * Symlinks are followed only while their real path stays inside the root, the
 * same rule as for serving, so a listing never shows what a click would refuse.
 * Entries that vanish, broken links, and anything but files and directories
 * (sockets, FIFOs, devices) are left out. Throws the readdir's own error (ENOENT,
 * ENOTDIR, EACCES) for the caller to map to a status; any other stat error
 * (EMFILE, EIO) is thrown too, as the listing would be silently incomplete.
 */
export async function readDirectory(absoluteDir: string, options: ReadDirectoryOptions): Promise<ListingEntry[]> {
  const dirents = await readdir(absoluteDir, { withFileTypes: true });
  const directorySegments = relative(options.root, absoluteDir).split(sep).filter((segment) => segment !== '');
  const prefix = absoluteDir.endsWith(sep) ? absoluteDir : absoluteDir + sep;

  const candidates = dirents.filter(
    (dirent) =>
      (dirent.isFile() || dirent.isDirectory() || dirent.isSymbolicLink()) &&
      (options.dotfiles || !isHidden([...directorySegments, dirent.name])),
  );
  const entries = await mapConcurrently(candidates, STAT_CONCURRENCY, (dirent) =>
    describeEntry(dirent, prefix + dirent.name, options.root),
  );
  return entries.filter((entry): entry is ListingEntry => entry !== undefined);
}

async function describeEntry(dirent: Dirent, path: string, root: string): Promise<ListingEntry | undefined> {
  try {
    if (!dirent.isSymbolicLink()) {
      // lstat, not stat: an entry swapped for a symlink since readdir is not followed.
      return toEntry(dirent.name, await lstatAsync(path));
    }
    const target = await realpathAsync(path);
    if (!isInside(root, target)) return undefined;
    return toEntry(dirent.name, await statAsync(target));
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
