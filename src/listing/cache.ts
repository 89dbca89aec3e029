import { statSync, watch, type FSWatcher } from 'node:fs';
import type { FileEntry } from '../fs/file-cache.js';
import { RACY_WINDOW_MS } from '../fs/file-cache.js';
import type { ListingEntry } from '../fs/read-directory.js';
import { withSeparator } from '../fs/map-path.js';

/** A rendered page of a listing (one per format and sort order). */
export interface RenderedListing {
  body: Buffer;
  etag: string;
}

interface CachedListing {
  /** The directory's own validator when it was read: adding, removing or renaming an entry changes it. */
  directoryEtag: string;
  entries: ListingEntry[];
  /** Sub-folders and the mtimes shown for them: their changes do not reach this folder's watch. */
  subdirectories: Array<[path: string, mtimeMs: number]>;
  rendered: Map<string, RenderedListing>;
  bytes: number;
  watcher: FSWatcher;
}

/**
 * Listings of big folders, kept while the folder is provably unchanged. Reading
 * and rendering 10,000 entries costs tens of milliseconds; checking costs one
 * stat of the folder (done anyway by resolution), one of each sub-folder, and an
 * inotify watch on the folder, which reports any entry written, truncated,
 * touched, added, removed or renamed. A folder modified within the racy window
 * is not cached at all: its timestamp could hide a second change in the same tick.
 */
export class ListingCache {
  private readonly listings = new Map<string, CachedListing>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxDirectories = 32,
  ) {}

  /** Entries of `directory` if a still-valid read is cached (and refresh its place in the LRU order). */
  entries(directory: FileEntry): ListingEntry[] | undefined {
    const cached = this.valid(directory);
    return cached?.entries;
  }

  rendered(directory: FileEntry, variant: string): RenderedListing | undefined {
    return this.valid(directory)?.rendered.get(variant);
  }

  /**
   * Read through the cache: `read` runs with a watch already in place, so a change
   * during the read is not missed (the result is then used once, not kept).
   */
  async read(directory: FileEntry, read: () => Promise<ListingEntry[]>): Promise<ListingEntry[]> {
    const cached = this.entries(directory);
    if (cached !== undefined) return cached;
    if (Date.now() - directory.mtimeMs < RACY_WINDOW_MS) return read();
    let changed = false;
    let watcher: FSWatcher;
    try {
      watcher = watch(directory.absolute, { persistent: false }, () => {
        changed = true;
        this.forget(directory.absolute);
      });
    } catch {
      return read(); // out of inotify watches: correct, just uncached
    }
    watcher.on('error', () => this.forget(directory.absolute));
    let entries: ListingEntry[];
    try {
      entries = await read();
    } catch (error) {
      watcher.close();
      throw error;
    }
    if (changed) {
      watcher.close();
      return entries;
    }
    const base = withSeparator(directory.absolute);
    this.forget(directory.absolute);
    this.listings.set(directory.absolute, {
      directoryEtag: directory.etag,
      entries,
      subdirectories: entries.filter((entry) => entry.type === 'directory').map((entry) => [base + entry.name, entry.mtimeMs]),
      rendered: new Map(),
      bytes: 0,
      watcher,
    });
    this.evict();
    return entries;
  }

  /** Keep a rendering of a cached listing. */
  store(directory: FileEntry, variant: string, page: RenderedListing): void {
    const cached = this.listings.get(directory.absolute);
    if (cached === undefined || cached.directoryEtag !== directory.etag || cached.rendered.has(variant)) return;
    cached.rendered.set(variant, page);
    cached.bytes += page.body.length;
    this.bytes += page.body.length;
    this.evict();
  }

  close(): void {
    for (const path of [...this.listings.keys()]) this.forget(path);
  }

  private valid(directory: FileEntry): CachedListing | undefined {
    const cached = this.listings.get(directory.absolute);
    if (cached === undefined) return undefined;
    if (cached.directoryEtag !== directory.etag || !subdirectoriesUnchanged(cached)) {
      this.forget(directory.absolute);
      return undefined;
    }
    this.listings.delete(directory.absolute);
    this.listings.set(directory.absolute, cached);
    return cached;
  }

  private forget(path: string): void {
    const cached = this.listings.get(path);
    if (cached === undefined) return;
    cached.watcher.close();
    this.listings.delete(path);
    this.bytes -= cached.bytes;
  }

  private evict(): void {
    for (const path of this.listings.keys()) {
      if (this.bytes <= this.maxBytes && this.listings.size <= this.maxDirectories) return;
      this.forget(path);
    }
  }
}

function subdirectoriesUnchanged(cached: CachedListing): boolean {
  for (const [path, mtimeMs] of cached.subdirectories) {
    const stats = statSync(path, { throwIfNoEntry: false });
    if (stats === undefined || stats.mtimeMs !== mtimeMs) return false;
  }
  return true;
}
