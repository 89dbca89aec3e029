import type { SortSpec } from './sort.js';

/**
 * Entries shown on one listing page. A 200,000-entry folder rendered whole is a
 * 59 MiB page, built in seconds and held in memory once per request; capped,
 * a page stays under about 3 MiB and a few tens of milliseconds. 10,000 keeps
 * the benchmark's 10,000-entry listing whole.
 */
export const LISTING_PAGE_SIZE = 10_000;

/** Which part of a sorted listing a page shows. */
export interface ListingWindow {
  /** Index of the first entry shown, in the requested order. */
  offset: number;
  /** Entries in the whole folder (after hidden ones are left out). */
  total: number;
  /** At most this many entries from `offset`. */
  pageSize: number;
}

/**
 * `offset=N` from a raw query string (without its '?'): a whole number of at
 * most 15 digits, else 0, so a typo shows the first page rather than an error.
 */
export function parseOffsetQuery(query: string): number {
  const value = new URLSearchParams(query).get('offset');
  if (value === null || !/^\d{1,15}$/.test(value)) return 0;
  return Number(value);
}

/** The query of the page of `sort` starting at `offset` (relative, so it works behind any prefix). */
export function pageQuery(sort: SortSpec, offset: number): string {
  return `?sort=${sort.key}&order=${sort.order}&offset=${offset}`;
}

/** The query of the next page, or null when `window` shows the last entries. */
export function nextPageQuery(sort: SortSpec, window: ListingWindow): string | null {
  const next = window.offset + window.pageSize;
  return next < window.total ? pageQuery(sort, next) : null;
}

/** The query of the previous page, or null on the first. */
export function previousPageQuery(sort: SortSpec, window: ListingWindow): string | null {
  if (window.offset === 0) return null;
  return pageQuery(sort, Math.max(0, Math.min(window.offset, window.total) - window.pageSize));
}
