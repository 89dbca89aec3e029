import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readFileSync,
  readSync,
  readlinkSync,
  realpathSync,
  statSync,
  type BigIntStats,
  type Stats,
} from 'node:fs';
import { open, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import { sep } from 'node:path';
import { formatHttpDate, lastModifiedFromMtime } from '../http/dates.js';
import { contentDigest, makeEtag } from '../http/etag.js';
import { contentTypeFor, isTypeScriptName, TRANSPORT_STREAM_SNIFF_BYTES, typeScriptOrTransportStream } from './content-type.js';
import { isServableRealPath, withSeparator } from './map-path.js';

/**
 * What the server knows about one path: revalidated against the file system on
 * every request (one lstat, and one per folder below the root), so an edit, a new
 * file or a deletion shows at once. sirv's lesson: a cache that can serve stale
 * bytes is a bug.
 */
export interface FileEntry {
  kind: 'file' | 'directory';
  /** The path that was asked for (inside the root, perhaps through a symlink). */
  absolute: string;
  size: number;
  mtimeMs: number;
  /** Strong validator: differs whenever the bytes can differ. */
  etag: string;
  /** Last-Modified as a validator: whole seconds, never later than when we looked (RFC 9110 §8.8.2.1). */
  lastModifiedMs: number;
  /** The same, as an IMF-fixdate. */
  lastModified: string;
  /** Content-Type for files (with charset for text), '' for directories. */
  contentType: string;
  /** The bytes of a small file, when cached; large files are streamed. */
  body: Buffer | undefined;
}

export type LookupResult = FileEntry | 'not-found' | 'forbidden';

/** Files up to this size are read into memory and answered from there. */
export const SMALL_FILE_LIMIT = 256 * 1024;
/**
 * File system timestamps are coarse (a kernel tick, 1 s on some file systems), so
 * a file written twice within one tick keeps its mtime. Like git's "racy clean"
 * rule, an entry filled less than this long after the file's mtime is not trusted:
 * its bytes are read again on every request until the file has been still this long.
 */
export const RACY_WINDOW_MS = 2000;
/** Metadata-only entries are tiny; bound their count anyway. */
const MAX_ENTRIES = 50_000;

/** What a stat said when an entry was filled: any change makes the entry stale. */
interface StatIdentity {
  dev: number;
  ino: number;
  size: number;
  /** Fractional milliseconds: sub-microsecond resolution, finer than file system clocks. */
  mtimeMs: number;
  ctimeMs: number;
}

interface CachedEntry {
  entry: FileEntry;
  /** Of the file that was opened (through any symlinks): what `absolute` must still lead to. */
  identity: StatIdentity;
  /** The folders between the root and `absolute`, outermost first; each must stay a real folder. */
  folders: readonly string[];
  /** Bytes may be reused: the entry was filled well after the file last changed. */
  settled: boolean;
}

function sameIdentity(a: StatIdentity, b: Stats): boolean {
  return a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.size === b.size && a.ino === b.ino && a.dev === b.dev;
}

/** One options object for every stat, rather than a new one per request. */
const STAT_OPTIONS = { throwIfNoEntry: false } as const;

/**
 * Read-only and non-blocking: opening a FIFO for reading would otherwise wait
 * for a writer, parking a thread-pool worker (or the event loop) for good. A
 * regular file ignores O_NONBLOCK; anything else is refused once opened. A
 * terminal opened so never becomes the server's controlling terminal (O_NOCTTY).
 * (Windows has neither flag, nor FIFOs or terminals to open by name.)
 */
export const OPEN_FLAGS =
  constants.O_RDONLY | ((constants.O_NONBLOCK as number | undefined) ?? 0) | ((constants.O_NOCTTY as number | undefined) ?? 0);

/** Linux names the file behind each descriptor of ours here, whatever was renamed since. */
export const DESCRIPTOR_LINKS = process.platform === 'linux' ? '/proc/self/fd/' : undefined;
/** What Linux appends to such a link once the file's name is gone. */
const DELETED_MARK = ' (deleted)';

const EMPTY = Buffer.alloc(0);

/** The first bytes of an open file, enough to tell a transport stream from source. */
function readHead(descriptor: number): Buffer {
  const head = Buffer.alloc(TRANSPORT_STREAM_SNIFF_BYTES);
  return head.subarray(0, readSync(descriptor, head, 0, head.length, 0));
}

export class FileCache {
  private readonly entries = new Map<string, CachedEntry>();
  private bodyBytes = 0;
  /** The key set last, hence last in eviction order while it is still there. */
  private newest: string | undefined = undefined;

  /**
   * `root` must be a real path (no symlinks), as from fs.realpathSync. Unless
   * `allowDotfiles`, a file whose real path has a hidden segment is not served,
   * whatever name it was asked for by.
   */
  constructor(
    private readonly root: string,
    private readonly maxBodyBytes: number,
    private readonly allowDotfiles = false,
  ) {}

  /**
   * Current facts about `absolute`. A cached entry costs one lstat, plus one per
   * folder between the root and it; opening, hashing and reading happen only
   * when the file changed, and realpath only when a symlink is on the way.
   * Throws only for unexpected fs errors.
   */
  lookup(absolute: string): LookupResult {
    // lstat, not stat: a name that became a symlink must not pass for the file it
    // now leads to (the identity of a link's target says nothing about where it is).
    // A plain lstat: half the cost of a BigInt one, which only a fill needs.
    let stats: Stats | undefined;
    try {
      stats = lstatSync(absolute, STAT_OPTIONS);
    } catch (error) {
      return classifyError(error);
    }
    if (stats === undefined || !(stats.isFile() || stats.isDirectory() || stats.isSymbolicLink())) {
      this.forget(absolute);
      return 'not-found';
    }
    const cached = this.entries.get(absolute);
    if (cached !== undefined && cached.settled) {
      const direct = !stats.isSymbolicLink();
      if (direct && !sameIdentity(cached.identity, stats)) return this.refill(absolute);
      if (direct && this.onRealFolders(cached.folders)) return this.reuse(absolute, cached);
      // A symlink on the way: reuse the bytes only while the path really leads,
      // inside the root, to the very file they were read from.
      let real: string;
      let now: Stats | undefined;
      try {
        real = realpathSync.native(absolute);
        now = statSync(real, STAT_OPTIONS);
      } catch (error) {
        this.forget(absolute);
        return classifyError(error);
      }
      if (!isServableRealPath(this.root, real, this.allowDotfiles)) {
        this.forget(absolute);
        return 'not-found';
      }
      if (now !== undefined && sameIdentity(cached.identity, now)) return this.reuse(absolute, cached);
    }
    // Changed, new, or too recently written to trust: open it and judge what was opened.
    return this.refill(absolute);
  }

  /**
   * Open `path` for streaming, as a fill opens what it reads: non-blocking, and
   * judged by the descriptor (a regular file whose real location may be served),
   * so nothing renamed over the name since the lookup is read in its place.
   * Throws the open's own error (ENOENT, EACCES, EMFILE) for the caller to map.
   */
  async openFile(path: string): Promise<FileHandle | 'not-found'> {
    const handle = await open(path, OPEN_FLAGS);
    let servable = false;
    try {
      const opened = await handle.stat();
      if (opened.isFile()) {
        const real = await locateDescriptor(handle.fd, path, opened);
        servable = real !== undefined && isServableRealPath(this.root, real, this.allowDotfiles);
      }
    } finally {
      if (!servable) await handle.close();
    }
    if (servable) return handle;
    this.forget(path);
    return 'not-found';
  }

  /** The whole of a file too large to keep, opened and judged as by openFile (live reload injects into such pages). */
  async readFile(path: string): Promise<Buffer | 'not-found'> {
    const handle = await this.openFile(path);
    if (handle === 'not-found') return handle;
    try {
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  /** Drop what is known about a path: the watcher calls this on changes. */
  invalidate(absolute: string): void {
    this.forget(absolute);
  }

  private reuse(absolute: string, cached: CachedEntry): FileEntry {
    if (cached.entry.body !== undefined && absolute !== this.newest) {
      // Keep recently used bytes at the end of the eviction order (where the newest already is).
      this.entries.delete(absolute);
      this.entries.set(absolute, cached);
      this.newest = absolute;
    }
    return cached.entry;
  }

  /**
   * Is every folder between the root and a cached name still a real folder? The
   * lstat of the name itself follows the folders above it: a folder moved out of
   * the root and symlinked back leaves the name leading to the same unchanged file,
   * and only the folder's own name tells. One lstat a level, none at the root's
   * top level (where the benchmarked 1 KiB file is).
   */
  private onRealFolders(folders: readonly string[]): boolean {
    for (let i = 0; i < folders.length; i++) {
      let stats: Stats | undefined;
      try {
        stats = lstatSync(folders[i] as string, STAT_OPTIONS);
      } catch {
        return false; // judged again, errors and all, by the slower path
      }
      if (stats === undefined || !stats.isDirectory()) return false;
    }
    return true;
  }

  private refill(absolute: string): LookupResult {
    try {
      const filled = this.fill(absolute);
      if (filled === 'not-found') this.forget(absolute);
      return filled;
    } catch (error) {
      this.forget(absolute);
      return classifyError(error);
    }
  }

  /**
   * Open `absolute`, judge the descriptor (a regular file or a folder, whose real
   * location may be served), and only then read it: whatever is renamed over the
   * name meanwhile, the bytes kept are those of the file that was judged.
   */
  private fill(absolute: string): FileEntry | 'not-found' {
    let descriptor: number;
    try {
      descriptor = openSync(absolute, OPEN_FLAGS);
    } catch (error) {
      // Windows opens no folder this way, and a folder one may enter but not read cannot be
      // opened either; a folder's bytes are never read, so its real path is what is judged.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EISDIR' || code === 'EACCES') return this.fillFolder(absolute, error);
      throw error;
    }
    try {
      // Nanoseconds for the ETag. Should the file change between the two fstats,
      // the identity kept is the older one, so the next request fills again.
      const opened = fstatSync(descriptor);
      if (!(opened.isFile() || opened.isDirectory())) return 'not-found';
      const real = locateDescriptorSync(descriptor, absolute, opened);
      if (real === undefined || !isServableRealPath(this.root, real, this.allowDotfiles)) return 'not-found';
      const stats = fstatSync(descriptor, { bigint: true });
      const body = stats.isFile() && Number(stats.size) <= SMALL_FILE_LIMIT ? readFileSync(descriptor) : undefined;
      // A large `.ts` is told from TypeScript source by its first bytes (content-type.ts).
      const head = body === undefined && stats.isFile() && isTypeScriptName(absolute) ? readHead(descriptor) : body;
      return this.store(absolute, opened, stats, body, head);
    } finally {
      closeSync(descriptor);
    }
  }

  /** Fill for a folder that could not be opened; `openError` is thrown on for anything else. */
  private fillFolder(absolute: string, openError: unknown): FileEntry | 'not-found' {
    const identity = statSync(absolute);
    if (!identity.isDirectory()) throw openError;
    const stats = statSync(absolute, { bigint: true });
    if (!isServableRealPath(this.root, realpathSync.native(absolute), this.allowDotfiles)) return 'not-found';
    return this.store(absolute, identity, stats, undefined);
  }

  private store(absolute: string, opened: Stats, stats: BigIntStats, body: Buffer | undefined, head?: Buffer): FileEntry {
    const { dev, ino, size: identitySize, mtimeMs: identityMtimeMs, ctimeMs } = opened;
    const identity: StatIdentity = { dev, ino, size: identitySize, mtimeMs: identityMtimeMs, ctimeMs };
    const now = Date.now();
    const mtimeMs = Number(stats.mtimeMs);
    const lastModifiedMs = lastModifiedFromMtime(mtimeMs, now);
    const changedMs = Math.max(mtimeMs, Number(stats.ctimeMs));
    const settled = now - changedMs >= RACY_WINDOW_MS;
    const size = Number(stats.size);
    let contentHash: string | undefined;
    if (body !== undefined) {
      // The read may see a newer version than the stat did; the digest keeps
      // the tag true to the bytes we hold, whatever the timestamps say, even
      // for bytes chosen to collide (see contentDigest).
      contentHash = contentDigest(body);
    }
    // Large files are not hashed (that would read them whole): see largeFileTag.
    const entry: FileEntry = {
      kind: stats.isDirectory() ? 'directory' : 'file',
      absolute,
      size: body?.length ?? size,
      mtimeMs,
      etag: makeEtag(body?.length ?? size, stats.mtimeNs, contentHash ?? largeFileTag(stats)),
      lastModifiedMs,
      lastModified: formatHttpDate(lastModifiedMs),
      contentType: stats.isDirectory() ? '' : isTypeScriptName(absolute) ? typeScriptOrTransportStream(absolute, head ?? EMPTY) : contentTypeFor(absolute),
      body,
    };
    this.forget(absolute);
    // A body larger than the whole budget still answers this request, unretained.
    const keepBody = body !== undefined && body.length <= this.maxBodyBytes;
    const folders = foldersBetween(this.root, absolute);
    this.entries.set(absolute, { entry: keepBody ? entry : { ...entry, body: undefined }, identity, folders, settled });
    this.newest = absolute;
    if (keepBody) this.bodyBytes += entry.size;
    this.evict();
    return entry;
  }

  private forget(absolute: string): void {
    const cached = this.entries.get(absolute);
    if (cached === undefined) return;
    this.entries.delete(absolute);
    this.bodyBytes -= cached.entry.body?.length ?? 0;
  }

  /** Least recently used first: Map iteration follows insertion order. */
  private evict(): void {
    for (const [key, cached] of this.entries) {
      if (this.bodyBytes <= this.maxBodyBytes && this.entries.size <= MAX_ENTRIES) return;
      if (cached.entry.body === undefined && this.entries.size <= MAX_ENTRIES) continue;
      this.forget(key);
    }
  }
}

/**
 * What tells versions of a large (unhashed) file apart besides size and mtime:
 * its inode (a file replaced by rename) and ctime (moved by every write; no
 * program can set it back, unlike the mtime with `touch -r`). Limit: where the
 * kernel's timestamps are coarse (before Linux 6.13 they tick every 1-4 ms),
 * two same-size writes within one tick look alike; only reading the whole file
 * could tell them apart, which is what small files get (a content hash).
 */
function largeFileTag(stats: BigIntStats): string {
  return `${stats.ino.toString(36)}_${stats.ctimeNs.toString(36)}`;
}

/**
 * What a file system error means to a client: the path names nothing servable
 * (404), or something it may not read (403). Anything else (EMFILE, EIO) is not
 * the client's doing and is thrown on.
 */
export function classifyError(error: unknown): 'not-found' | 'forbidden' {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'forbidden';
  // ENXIO: a socket (or a device without its driver) renamed over a file name, found by open.
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG' || code === 'ELOOP' || code === 'EISDIR' || code === 'ENXIO') {
    return 'not-found';
  }
  throw error;
}

/** The folders strictly between `root` and `absolute`, outermost first. */
function foldersBetween(root: string, absolute: string): string[] {
  const folders: string[] = [];
  const start = withSeparator(root).length;
  if (absolute.length <= start) return folders;
  for (let i = absolute.indexOf(sep, start); i !== -1; i = absolute.indexOf(sep, i + 1)) folders.push(absolute.slice(0, i));
  return folders;
}

/*
 * Where an open descriptor's file really lives, for judging containment.
 *
 * Why the order is safe: the file is opened first and judged second. Once open,
 * the descriptor holds one file, whatever is renamed over its name afterwards, and
 * every byte we send is read from that descriptor. Asking where that very file
 * lives (Linux: the kernel's /proc/self/fd link, which follows renames), or, where
 * that is not available, finding that the path's real location resolved *after*
 * the open holds the same device and inode, proves the file we will read was
 * inside the root at a moment when we already held it. The old order (realpath
 * first, open by name later) proved nothing about what the open would find.
 *
 * A file unlinked since (an editor's save renames the new version over it) shows
 * as `path (deleted)`: the path is still where it was when last it had a name,
 * which is what to judge. undefined: the file could not be located (the path
 * now leads elsewhere; only without /proc).
 */
function locateDescriptorSync(descriptor: number, path: string, opened: Stats): string | undefined {
  if (DESCRIPTOR_LINKS !== undefined) {
    try {
      return withoutDeletedMark(readlinkSync(DESCRIPTOR_LINKS + String(descriptor)));
    } catch {
      // No /proc mounted: the portable way below.
    }
  }
  const real = realpathSync.native(path);
  const now = statSync(real, STAT_OPTIONS);
  return now !== undefined && now.dev === opened.dev && now.ino === opened.ino ? real : undefined;
}

/** locateDescriptorSync off the event loop, for streamed files and listed folders. */
export async function locateDescriptor(descriptor: number, path: string, opened: Stats): Promise<string | undefined> {
  if (DESCRIPTOR_LINKS !== undefined) {
    try {
      return withoutDeletedMark(await readlink(DESCRIPTOR_LINKS + String(descriptor)));
    } catch {
      // No /proc mounted: the portable way below.
    }
  }
  const real = await realpath(path);
  const now = await stat(real).catch(() => undefined);
  return now !== undefined && now.dev === opened.dev && now.ino === opened.ino ? real : undefined;
}

function withoutDeletedMark(link: string): string {
  return link.endsWith(DELETED_MARK) ? link.slice(0, -DELETED_MARK.length) : link;
}
