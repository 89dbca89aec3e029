import { isoTimestamp } from './format.js';
import type { ListingPage } from './html.js';
import { nextPageQuery } from './paging.js';

/** One entry of the JSON listing: `mtime` is ISO 8601 in UTC (null only when no Date can hold it). */
export interface JsonListingEntry {
  name: string;
  type: 'file' | 'directory';
  size: number;
  mtime: string | null;
}

/**
 * `{ "path": urlPath, "entries": [{ "name", "type", "size", "mtime" }], "offset", "total", "next" }`,
 * entries in the page's sort order. `next` is the query of the following page
 * (`?sort=name&order=asc&offset=10000`), or null on the last.
 */
export function renderListingJson(page: ListingPage): string {
  const entries: JsonListingEntry[] = page.entries.map((entry) => ({
    name: entry.name,
    type: entry.type,
    size: entry.size,
    mtime: isoTimestamp(entry.mtimeMs),
  }));
  const offset = page.window?.offset ?? 0;
  const total = page.window?.total ?? entries.length;
  const next = page.window === undefined ? null : nextPageQuery(page.sort, page.window);
  return JSON.stringify({ path: page.urlPath, entries, offset, total, next });
}
