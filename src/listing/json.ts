import type { ListingEntry } from '../fs/read-directory.js';
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
 * (`?sort=name&order=asc&offset=10000`), or null on the last. `entryItems` are
 * the entries already rendered by {@link jsonItems}, perhaps in slices.
 */
export function renderListingJson(page: ListingPage, entryItems: readonly string[] = [jsonItems(page.entries)]): string {
  const offset = page.window?.offset ?? 0;
  const total = page.window?.total ?? page.entries.length;
  const next = page.window === undefined ? null : nextPageQuery(page.sort, page.window);
  const items = page.entries.length === 0 ? '' : entryItems.join(',');
  return `{"path":${JSON.stringify(page.urlPath)},"entries":[${items}],"offset":${offset},"total":${total},"next":${JSON.stringify(next)}}`;
}

/** `entries` as JSON objects separated by commas, without the brackets. */
export function jsonItems(entries: readonly ListingEntry[]): string {
  return entries
    .map((entry) => {
      const item: JsonListingEntry = { name: entry.name, type: entry.type, size: entry.size, mtime: isoTimestamp(entry.mtimeMs) };
      return JSON.stringify(item);
    })
    .join(',');
}
