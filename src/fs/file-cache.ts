import { readFileSync, realpathSync, statSync, type BigIntStats, type Stats } from 'node:fs';
import { formatHttpDate, lastModifiedFromMtime } from '../http/dates.js';
import { contentDigest, makeEtag } from '../http/etag.js';
import { contentTypeFor } from './content-type.js';
import { isInside } from './map-path.js';

/**
 * What the server knows about one path: revalidated against the file system on
 * every request (one stat), so an edit, a new file or a deletion shows at once.
 * sirv's lesson: a cache that can serve stale bytes is a bug.
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
  identity: StatIdentity;
  /** Bytes may be reused: the entry was filled well after the file last changed. */
  settled: boolean;
}

function sameIdentity(a: StatIdentity, b: Stats): boolean {
  return a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.size === b.size && a.ino === b.ino && a.dev === b.dev;
}

/** One options object for every stat, rather than a new one per request. */
const STAT_OPTIONS = { throwIfNoEntry: false } as const;

export class FileCache {
  private readonly entries = new Map<string, CachedEntry>();
  private bodyBytes = 0;
  /** The key set last, hence last in eviction order while it is still there. */
  private newest: string | undefined = undefined;

  /** `root` must be a real path (no symlinks), as from fs.realpathSync. */
  constructor(
    private readonly root: string,
    private readonly maxBodyBytes: number,
  ) {}

  /**
   * Current facts about `absolute`. One stat per call; realpath, hashing and reads
   * happen only when the file changed. Throws only for unexpected fs errors.
   */
  lookup(absolute: string): LookupResult {
    // A plain stat: half the cost of a BigInt one, which only a fill needs.
    let stats: Stats | undefined;
    try {
      stats = statSync(absolute, STAT_OPTIONS);
    } catch (error) {
      return classifyError(error);
    }
    if (stats === undefined || !(stats.isFile() || stats.isDirectory())) {
      this.forget(absolute);
      return 'not-found';
    }
    const cached = this.entries.get(absolute);
    const unchanged = cached !== undefined && sameIdentity(cached.identity, stats);
    if (unchanged && cached.settled) {
      if (cached.entry.body !== undefined && absolute !== this.newest) {
        // Keep recently used bytes at the end of the eviction order (where the newest already is).
        this.entries.delete(absolute);
        this.entries.set(absolute, cached);
        this.newest = absolute;
      }
      return cached.entry;
    }

    // Changed, new, or too recently written to trust: check where it really
    // lives (a symlink is followed only while its target stays in the root).
    if (!unchanged) {
      let real: string;
      try {
        real = realpathSync.native(absolute);
      } catch (error) {
        return classifyError(error);
      }
      if (!isInside(this.root, real)) {
        this.forget(absolute);
        return 'not-found';
      }
    }
    try {
      const { dev, ino, size, mtimeMs, ctimeMs } = stats;
      return this.fill(absolute, { dev, ino, size, mtimeMs, ctimeMs });
    } catch (error) {
      this.forget(absolute);
      return classifyError(error);
    }
  }

  /** Drop what is known about a path: the watcher calls this on changes. */
  invalidate(absolute: string): void {
    this.forget(absolute);
  }

  private fill(absolute: string, identity: StatIdentity): FileEntry {
    // Nanoseconds for the ETag. Should the file change between the two stats, the
    // identity kept is the older one, so the next request fills again.
    const stats = statSync(absolute, { bigint: true });
    const now = Date.now();
    const mtimeMs = Number(stats.mtimeMs);
    const lastModifiedMs = lastModifiedFromMtime(mtimeMs, now);
    const changedMs = Math.max(mtimeMs, Number(stats.ctimeMs));
    const settled = now - changedMs >= RACY_WINDOW_MS;
    const size = Number(stats.size);
    let body: Buffer | undefined;
    let contentHash: string | undefined;
    if (stats.isFile() && size <= SMALL_FILE_LIMIT) {
      body = readFileSync(absolute);
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
      contentType: stats.isDirectory() ? '' : contentTypeFor(absolute),
      body,
    };
    this.forget(absolute);
    // A body larger than the whole budget still answers this request, unretained.
    const keepBody = body !== undefined && body.length <= this.maxBodyBytes;
    this.entries.set(absolute, { entry: keepBody ? entry : { ...entry, body: undefined }, identity, settled });
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
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG' || code === 'ELOOP' || code === 'EISDIR') {
    return 'not-found';
  }
  throw error;
}
