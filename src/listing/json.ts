import { isoTimestamp } from './format.js';
import type { ListingPage } from './html.js';

/** One entry of the JSON listing: `mtime` is ISO 8601 in UTC (null only when no Date can hold it). */
export interface JsonListingEntry {
  name: string;
  type: 'file' | 'directory';
  size: number;
  mtime: string | null;
}

/** `{ "path": urlPath, "entries": [{ "name", "type", "size", "mtime" }] }`, in the page's sort order. */
export function renderListingJson(page: ListingPage): string {
  const entries: JsonListingEntry[] = page.entries.map((entry) => ({
    name: entry.name,
    type: entry.type,
    size: entry.size,
    mtime: isoTimestamp(entry.mtimeMs),
  }));
  return JSON.stringify({ path: page.urlPath, entries });
}
