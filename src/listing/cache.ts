import { statSync, watch, type FSWatcher } from 'node:fs';
import type { FileEntry } from '../fs/file-cache.js';
import { RACY_WINDOW_MS } from '../fs/file-cache.js';
import type { ListingEntry } from '../fs/read-directory.js';
import { withSeparator } from '../fs/map-path.js';
import type { SortSpec } from './sort.js';

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
  /** Estimated: the entries, plus every rendered page. */
  bytes: number;
  watcher: FSWatcher;
}

/** Work in flight for one version of a folder, which later requests for that version join. */
interface Pending<T> {
  directoryEtag: string;
  promise: Promise<T>;
}

/**
 * Heap bytes of one listed entry besides its name (the object, its slot in the
 * array, the sub-folder check): measured at about 80 on Node 20, rounded up.
 */
const ENTRY_OVERHEAD_BYTES = 96;

/**
 * A cached listing is checked with one synchronous stat per sub-folder on every
 * request: a few milliseconds for this many. A folder with more is not kept
 * (its check would hold the event loop longer than reading it again, which yields).
 */
const MAX_CHECKED_SUBDIRECTORIES = 1_000;

function estimateEntryBytes(entries: readonly ListingEntry[]): number {
  let bytes = 0;
  for (const entry of entries) bytes += ENTRY_OVERHEAD_BYTES + 2 * entry.name.length;
  return bytes;
}

/**
 * Listings of big folders, kept while the folder is provably unchanged. Reading
 * and rendering 10,000 entries costs tens of milliseconds; checking costs one
 * stat of the folder (done anyway by resolution), one of each sub-folder, and an
 * inotify watch on the folder, which reports any entry written, truncated,
 * touched, added, removed or renamed. A folder modified within the racy window
 * is not cached at all: its timestamp could hide a second change in the same tick.
 *
 * Entries and pages count against the budget. A folder whose entries alone
 * exceed it (about 100,000 entries in the default 16 MiB) is read again for
 * each request; concurrent requests for the same folder share one read, and
 * those for the same page share one build, cached or not.
 */
export class ListingCache {
  private readonly listings = new Map<string, CachedListing>();
  private readonly pendingReads = new Map<string, Pending<ListingEntry[]>>();
  private readonly pendingPages = new Map<string, Pending<RenderedListing>>();
  /** Sorted orders of a read, shared by the pages of that order; dropped with the read. */
  private readonly orders = new WeakMap<readonly ListingEntry[], Map<string, Promise<ListingEntry[]>>>();
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
   * The page `variant` of `directory`: from the cache, from a build in flight for
   * the same version of the folder, or built now by `build` (and kept if it may be).
   */
  page(directory: FileEntry, variant: string, build: () => Promise<RenderedListing>): Promise<RenderedListing> {
    const cached = this.rendered(directory, variant);
    if (cached !== undefined) return Promise.resolve(cached);
    return this.shared(this.pendingPages, `${directory.absolute}\0${variant}`, directory, async () => {
      const page = await build();
      this.store(directory, variant, page);
      return page;
    });
  }

  /**
   * Read through the cache: `read` runs with a watch already in place, so a change
   * during the read is not missed (the result is then used once, not kept).
   * Concurrent calls for the same version of a folder share one read.
   */
  read(directory: FileEntry, read: () => Promise<ListingEntry[]>): Promise<ListingEntry[]> {
    const cached = this.entries(directory);
    if (cached !== undefined) return Promise.resolve(cached);
    return this.shared(this.pendingReads, directory.absolute, directory, () => this.readAndKeep(directory, read));
  }

  /** `entries` in the order `spec`, sorted once per read and order by `sort`. */
  sorted(entries: readonly ListingEntry[], spec: SortSpec, sort: () => Promise<ListingEntry[]>): Promise<ListingEntry[]> {
    let orders = this.orders.get(entries);
    if (orders === undefined) {
      orders = new Map();
      this.orders.set(entries, orders);
    }
    const key = `${spec.key} ${spec.order}`;
    let sorted = orders.get(key);
    if (sorted === undefined) {
      sorted = sort();
      orders.set(key, sorted);
      const forget = orders;
      sorted.catch(() => forget.delete(key));
    }
    return sorted;
  }

  /** Join the work in flight under `key` for this version of the folder, or start it. */
  private shared<T>(pending: Map<string, Pending<T>>, key: string, directory: FileEntry, work: () => Promise<T>): Promise<T> {
    const inFlight = pending.get(key);
    if (inFlight !== undefined && inFlight.directoryEtag === directory.etag) return inFlight.promise;
    const promise = work();
    const entry = { directoryEtag: directory.etag, promise };
    pending.set(key, entry);
    const settle = () => {
      if (pending.get(key) === entry) pending.delete(key);
    };
    promise.then(settle, settle);
    return promise;
  }

  private async readAndKeep(directory: FileEntry, read: () => Promise<ListingEntry[]>): Promise<ListingEntry[]> {
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
    const bytes = estimateEntryBytes(entries);
    const base = withSeparator(directory.absolute);
    const subdirectories = entries.filter((entry) => entry.type === 'directory');
    if (changed || bytes > this.maxBytes || subdirectories.length > MAX_CHECKED_SUBDIRECTORIES) {
      watcher.close();
      return entries;
    }
    this.forget(directory.absolute);
    this.listings.set(directory.absolute, {
      directoryEtag: directory.etag,
      entries,
      subdirectories: subdirectories.map((entry) => [base + entry.name, entry.mtimeMs]),
      rendered: new Map(),
      bytes,
      watcher,
    });
    this.bytes += bytes;
    this.evict();
    return entries;
  }

  /** Keep a rendering of a cached listing. */
  store(directory: FileEntry, variant: string, page: RenderedListing): void {
    const cached = this.listings.get(directory.absolute);
    if (cached === undefined || cached.directoryEtag !== directory.etag || cached.rendered.has(variant)) return;
    // A page that would push its own listing out is sent, not kept.
    if (cached.bytes + page.body.length > this.maxBytes) return;
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
