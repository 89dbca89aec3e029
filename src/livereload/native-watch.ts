// Watches a tree with the operating system's own change notifications, through node:fs's watch.
//
// - Linux (inotify) has no recursive watch, but a watch on a folder reports what happens to the
//   entries in it: created, written, attributes changed, removed, moved in or out. So each
//   folder that is not ignored gets one non-recursive watch, and ignored folders are neither
//   watched nor read. A folder that appears is watched, then read, and what it already holds is
//   reported as added (a tool may create a folder with files in one go, before any watch could
//   see them); a folder that goes away has its watches closed.
// - macOS (FSEvents) and Windows (ReadDirectoryChangesW) watch a whole tree with one handle;
//   events under ignored folders still arrive, and are dropped here.
//
// An event says only "rename" or "change", and a name. What happened is found by comparing the
// path's lstat with what we know of the tree: the folders (with their inode, so that a folder
// removed and created again under the same name is told apart) and the names of the other
// entries in each. A name we did not know that exists now was added, one we knew that is gone
// was removed, anything else changed.
//
// Symlinks are reported as entries of their own and not followed: the server serves a link
// only while its target stays inside the root, and there the target is watched itself.

import { lstatSync, statfsSync, watch as fsWatch, type FSWatcher, type Stats } from 'node:fs';
import { lstat, opendir, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { ChangeKind } from './batch.js';
import type { IgnoreMatcher } from './ignore.js';

/** The form of node:fs's watch used here; a parameter so that tests can make it fail. */
export type FsWatchFunction = (
  folder: string,
  options: { persistent: boolean; recursive: boolean },
  listener: (event: string, filename: string | null) => void,
) => FSWatcher;

export interface NativeWatchOptions {
  /** Absolute real path of the watched folder. */
  root: string;
  isIgnored: IgnoreMatcher;
  /** One recursive watch on the root (macOS, Windows) instead of one watch per folder (Linux). */
  recursive: boolean;
  onChange: (absolutePath: string, kind: ChangeKind, isFolder: boolean) => void;
  /** Errors of the OS's watches; ENOSPC or EMFILE means that it has no more to give. */
  onError: (error: NodeJS.ErrnoException) => void;
  watch?: FsWatchFunction;
}

export interface NativeWatcher {
  /** Resolves once every folder has been read (and on Linux watched), or on close. */
  readonly ready: Promise<void>;
  /** How many OS watches are held. */
  readonly watchCount: number;
  close(): void;
}

interface Folder {
  ino: number;
  /** Its path relative to the root, with "/" separators ('' for the root). */
  relative: string;
  /** Names of the entries that are not folders: files, symlinks, sockets... */
  files: Set<string>;
  /** Its own watch (Linux). */
  watcher: FSWatcher | undefined;
}

/** What an event says about the path it names, beyond "look at it". */
interface Look {
  /**
   * The entry itself was created, removed or moved, not only written to or touched (a
   * "rename" event in its folder's inotify watch; FSEvents and ReadDirectoryChangesW say
   * "rename" too loosely to rely on).
   */
  renamed?: boolean;
  /** A file seen empty has waited for its write long enough: report it as it is. */
  emptyWaitOver?: boolean;
}

/**
 * How long a file seen empty waits for the write that usually follows. Writers leave well under
 * a millisecond between the two, except on a loaded machine; a file that stays empty is rare
 * and is reported this much later.
 */
const EMPTY_FILE_WAIT_MS = 100;

/** Errors that say a path is gone (its parent's watch reports that) or not ours to read. */
const SKIPPED_PATH_ERRORS = new Set(['ENOENT', 'ENOTDIR', 'EACCES', 'EPERM']);

/**
 * Entries read from a folder per call. A first scan of a folder of 10,000 files read in one go
 * held all their entries at once; V8 saw them survive, doubled its young generation, and the
 * server started with 6 MB more resident. In batches, each one dies young.
 */
const ENTRIES_PER_READ = 256;

/**
 * File systems whose folders count their subfolders in their link count (2 + subfolders), the
 * Unix convention that find(1) relies on too: ext2/3/4, XFS, tmpfs. Btrfs, overlayfs, network
 * and FUSE file systems are read entry by entry.
 */
const LINK_COUNTING_FILE_SYSTEMS = new Set([0xef53, 0x58465342, 0x01021994]);

/** Whether the file system holding `folder` keeps the link-count convention. */
function countsSubfolders(folder: string): boolean {
  try {
    return LINK_COUNTING_FILE_SYSTEMS.has(statfsSync(folder).type);
  } catch {
    return false;
  }
}

export function watchNatively(options: NativeWatchOptions): NativeWatcher {
  const { root, isIgnored, recursive, onChange, onError } = options;
  const watch = options.watch ?? (fsWatch as FsWatchFunction);
  const folders = new Map<string, Folder>();
  /** Files seen empty after an event, held back a moment (see reconcile) with the kind they will be reported as. */
  const emptyFiles = new Map<string, { kind: ChangeKind; timer: NodeJS.Timeout }>();
  let treeWatcher: FSWatcher | undefined;
  let closed = false;
  /** The root's device, when its folders' link counts tell whether they hold subfolders. */
  let linkCountingDevice: number | undefined;

  function startWatch(folderPath: string): FSWatcher | undefined {
    try {
      // Not persistent: the HTTP server keeps the process alive; a watch never should.
      const watcher = watch(folderPath, { persistent: false, recursive }, (event, filename) => {
        // inotify, FSEvents and ReadDirectoryChangesW always name the entry.
        if (!closed && filename) onEvent(path.join(folderPath, filename), { renamed: event === 'rename' && !recursive });
      });
      watcher.on('error', (error: NodeJS.ErrnoException) => {
        if (!closed) onError(error);
      });
      return watcher;
    } catch (error) {
      if (!SKIPPED_PATH_ERRORS.has((error as NodeJS.ErrnoException).code ?? '')) onError(error as NodeJS.ErrnoException);
      return undefined;
    }
  }

  /**
   * Looks at a path an event named, at once, in the event's own callback: an lstat of a path
   * whose inode is cached takes microseconds, and libuv reads inotify until it is empty, so
   * the events that came meanwhile (the write after a truncation, say) are looked at before
   * any timer runs and land in the same batch. Through the thread pool, a look could finish
   * after its batch had been announced and make a second one.
   */
  function onEvent(absolutePath: string, look: Look = {}): void {
    if (isIgnored(absolutePath)) return;
    let stats: Stats | undefined;
    try {
      stats = lstatSync(absolutePath, { throwIfNoEntry: false });
    } catch {
      // Unreadable (EACCES, ENOTDIR, ...): as good as gone.
    }
    reconcile(absolutePath, stats, look);
  }

  /** Brings what we know of `absolutePath` in line with its lstat (undefined: gone), and reports the difference. */
  function reconcile(absolutePath: string, stats: Stats | undefined, { renamed = false, emptyWaitOver = false }: Look): void {
    const parentPath = path.dirname(absolutePath);
    const parent = folders.get(parentPath);
    if (parent === undefined) {
      // Under a folder we have not seen yet (FSEvents may name an entry before its new folder):
      // looking at the folder reads all of it. This climbs no higher than the root, which is
      // always known. On Linux, the folder is gone and has been reported already.
      if (recursive) onEvent(parentPath);
      return;
    }
    const name = path.basename(absolutePath);
    const folder = folders.get(absolutePath);
    if (folder !== undefined) {
      // Only the folder's own attributes changed: nothing a page shows. A folder removed and
      // created again may get the same inode number, but not without a "rename" in its
      // parent's watch, and its old watch died with it.
      if (stats?.isDirectory() && stats.ino === folder.ino && !renamed) return;
      forgetFolder(absolutePath);
    }
    const held = emptyFiles.get(absolutePath);
    if (held !== undefined) {
      clearTimeout(held.timer);
      emptyFiles.delete(absolutePath);
    }
    if (stats === undefined) {
      // A file held back since its creation was never reported: nothing to take back.
      if (parent.files.delete(name) && held?.kind !== 'add') onChange(absolutePath, 'unlink', false);
    } else if (stats.isDirectory()) {
      if (parent.files.delete(name)) onChange(absolutePath, 'unlink', false);
      void addFolder(absolutePath, stats, true);
    } else {
      const kind = held?.kind ?? (parent.files.has(name) ? 'change' : 'add');
      parent.files.add(name);
      if (!emptyWaitOver && stats.isFile() && stats.size === 0) {
        // Writers mostly create or truncate a file, then write to it. Reported now, the empty
        // file would reach pages, then the written one in a second batch: two reloads for one
        // save. The write's own event ends the wait; a file still empty after it is reported.
        const timer = setTimeout(() => onEvent(absolutePath, { emptyWaitOver: true }), EMPTY_FILE_WAIT_MS);
        timer.unref();
        emptyFiles.set(absolutePath, { kind, timer });
      } else {
        onChange(absolutePath, kind, false);
      }
    }
  }

  /** Watches (Linux) and reads a folder and all under it; with `announce`, reports each entry as added. */
  async function addFolder(folderPath: string, stats: Stats, announce: boolean): Promise<void> {
    const relative = folderPath === root ? '' : path.relative(root, folderPath).split(path.sep).join('/');
    const folder: Folder = { ino: stats.ino, relative, files: new Set(), watcher: undefined };
    folders.set(folderPath, folder);
    if (announce) onChange(folderPath, 'add', true);
    // Watched before it is read: an entry created meanwhile is seen by one or the other.
    if (!recursive) folder.watcher = startWatch(folderPath);
    const subfolders: Promise<void>[] = [];
    try {
      if (!announce && stats.nlink === 2 && stats.dev === linkCountingDevice) {
        // No subfolder: only the names are needed, and they are taken in one call, without a
        // loop over thousands of entries that would have V8 compile it, and page in its
        // optimizing compiler, while the server starts. Ignored names are kept with the rest
        // and skipped where files are reported.
        const names = new Set(await readdir(folderPath));
        // Keep what events reported while the folder was being read.
        for (const name of folder.files) names.add(name);
        folder.files = names;
      } else {
        // Iterating closes the folder's handle at the end, on a break and on an error.
        for await (const entry of await opendir(folderPath, { bufferSize: ENTRIES_PER_READ })) {
          // Closed, or removed (perhaps replaced) while it was being read.
          if (closed || folders.get(folderPath) !== folder) break;
          if (isIgnored.entry(relative, entry.name)) continue;
          if (entry.isDirectory()) {
            subfolders.push(addSubfolder(path.join(folderPath, entry.name), announce));
          } else if (!folder.files.has(entry.name)) {
            folder.files.add(entry.name);
            if (announce) onChange(path.join(folderPath, entry.name), 'add', false);
          }
        }
      }
    } catch (error) {
      if (!SKIPPED_PATH_ERRORS.has((error as NodeJS.ErrnoException).code ?? '')) onError(error as NodeJS.ErrnoException);
    }
    await Promise.all(subfolders);
  }

  async function addSubfolder(folderPath: string, announce: boolean): Promise<void> {
    const stats = await lstat(folderPath).catch(() => undefined);
    // Gone or replaced since its parent was read (the parent's watch reports that), or
    // already added by an event.
    if (closed || !stats?.isDirectory() || folders.has(folderPath) || !folders.has(path.dirname(folderPath))) return;
    await addFolder(folderPath, stats, announce);
  }

  /** Closes the watches of a folder that is gone and of all under it, and reports all of it removed. */
  function forgetFolder(folderPath: string): void {
    const inside = folderPath + path.sep;
    for (const [otherPath, folder] of folders) {
      if (otherPath !== folderPath && !otherPath.startsWith(inside)) continue;
      folders.delete(otherPath);
      folder.watcher?.close();
      for (const name of folder.files) if (!isIgnored.entry(folder.relative, name)) onChange(path.join(otherPath, name), 'unlink', false);
      onChange(otherPath, 'unlink', true);
    }
  }

  const ready = lstat(root).then(
    (stats) => {
      if (closed) return;
      if (recursive) treeWatcher = startWatch(root);
      linkCountingDevice = countsSubfolders(root) ? stats.dev : undefined;
      return addFolder(root, stats, false);
    },
    (error: NodeJS.ErrnoException) => onError(error),
  );

  return {
    ready,
    get watchCount() {
      if (recursive) return treeWatcher === undefined ? 0 : 1;
      let count = 0;
      for (const folder of folders.values()) if (folder.watcher !== undefined) count++;
      return count;
    },
    close() {
      closed = true;
      for (const held of emptyFiles.values()) clearTimeout(held.timer);
      emptyFiles.clear();
      treeWatcher?.close();
      for (const folder of folders.values()) folder.watcher?.close();
      folders.clear();
    },
  };
}
