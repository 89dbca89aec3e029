import { htmlPage, LISTING_STYLE } from '../page-style.js';
import type { ListingEntry } from '../fs/read-directory.js';
import { escapeHtml, formatDate, formatSize, isoTimestamp, visibleName } from './format.js';
import { fileKind } from './kind.js';
import { nextPageQuery, pageQuery, previousPageQuery, type ListingWindow } from './paging.js';
import { DEFAULT_SORT, type SortKey, type SortSpec } from './sort.js';

export interface ListingPage {
  /** The decoded URL path of the directory, starting and ending with '/', e.g. '/docs/a b/'. */
  urlPath: string;
  /** Already sorted; only those of the window when there is one. */
  entries: ListingEntry[];
  sort: SortSpec;
  /** Where `entries` sit in the whole sorted folder; absent when they are all of it. */
  window?: ListingWindow;
}

/**
 * A complete HTML page for a directory: no script, no external assets (the CSS
 * and the icons are inline, the tab's icon is empty), readable on a phone and
 * in dark mode. Its Content-Security-Policy (LISTING_POLICY) allows exactly
 * that stylesheet.
 *
 * Every link is relative, so the page works behind any prefix or host: entries
 * are `./` + the percent-encoded name (the `./` keeps a name like `a:b` from
 * reading as a URL scheme), ancestors are `../` chains. Names are escaped for
 * HTML everywhere they appear, and shown with control and bidi-override
 * characters made visible (see `visibleName`).
 */
export function renderListingHtml(page: ListingPage, entryRows: readonly string[] = [htmlRows(page.entries)]): string {
  const segments = pathSegments(page.urlPath);
  const rows: string[] = [];
  if (segments.length > 0) rows.push(PARENT_ROW);
  if (page.entries.length > 0) rows.push(...entryRows);
  if (page.entries.length === 0 && (page.window?.total ?? 0) === 0) rows.push(EMPTY_ROW);
  const paging = page.window === undefined ? '' : pagingNote(page.window, page.sort, page.entries.length);

  const title = `Index of ${escapeHtml(visibleName(page.urlPath))}`;
  return htmlPage(title, LISTING_STYLE, `<h1>Index of ${breadcrumbs(segments)}</h1>
${paging}<table>
<thead><tr>${COLUMNS.map((column) => columnHeader(column.key, column.label, page.sort)).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
${paging}`);
}

/**
 * The table rows of `entries`, one a line: what renderListingHtml takes as
 * `entryRows`, so a big page can be rendered a slice of entries at a time.
 */
export function htmlRows(entries: readonly ListingEntry[]): string {
  return entries.map(entryRow).join('\n');
}

/** '/docs/a b/' → ['docs', 'a b']; '/' → []. */
function pathSegments(urlPath: string): string[] {
  const inner = urlPath.replace(/^\/+/, '').replace(/\/+$/, '');
  return inner === '' ? [] : inner.split('/');
}

/** The path with each ancestor a link; the current folder is plain text. */
function breadcrumbs(segments: readonly string[]): string {
  if (segments.length === 0) return '/';
  const parts = [`<a href="${'../'.repeat(segments.length)}">/</a>`];
  segments.forEach((segment, index) => {
    const text = escapeHtml(visibleName(segment));
    const levelsUp = segments.length - 1 - index;
    parts.push(
      levelsUp === 0
        ? `<span dir="auto" aria-current="page">${text}</span>/`
        : `<a href="${'../'.repeat(levelsUp)}" dir="auto">${text}</a>/`,
    );
  });
  return parts.join('');
}

const COLUMNS: readonly { key: SortKey; label: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'size', label: 'Size' },
  { key: 'mtime', label: 'Modified<span class="wide"> (UTC)</span>' },
];

/**
 * A header that sorts by its column; on the current column it flips the order.
 * A button in a GET form rather than a link: the same `?sort=…&order=…` URL for
 * a person, but nothing a crawler follows, so `wget --mirror` saves each folder
 * once instead of once per order (a form without `action` names no URL either).
 */
function columnHeader(key: SortKey, label: string, sort: SortSpec): string {
  const current = sort.key === key;
  const ascending = sort.order === 'asc';
  const order = current && ascending ? 'desc' : 'asc';
  const ariaSort = current ? ` aria-sort="${ascending ? 'ascending' : 'descending'}"` : '';
  const arrow = current ? `<span aria-hidden="true">${ascending ? ' ↑' : ' ↓'}</span>` : '';
  return (
    `<th scope="col" class="${key}"${ariaSort}><form><input type="hidden" name="sort" value="${key}">` +
    `<button name="order" value="${order}">${label}${arrow}</button></form></th>`
  );
}

/**
 * Which entries a capped page shows, of how many, with links to the pages
 * around it (in the same order); nothing when the page shows the whole folder.
 */
function pagingNote(window: ListingWindow, sort: SortSpec, shown: number): string {
  if (window.offset === 0 && shown === window.total) return '';
  const range = shown === 0 ? 'No entries' : `Entries ${formatCount(window.offset + 1)}–${formatCount(window.offset + shown)}`;
  const links: string[] = [];
  const previous = previousPageQuery(sort, window);
  const next = nextPageQuery(sort, window);
  // The first page in the default order is the folder's own URL: a crawler that pages back saves it once.
  const previousHref = previous === pageQuery(DEFAULT_SORT, 0) ? './' : previous;
  if (previousHref !== null) links.push(`<a href="${escapeHtml(previousHref)}" rel="prev">Previous ${formatCount(window.pageSize)}</a>`);
  if (next !== null) {
    const count = Math.min(window.pageSize, window.total - window.offset - window.pageSize);
    links.push(`<a href="${escapeHtml(next)}" rel="next">Next ${formatCount(count)}</a>`);
  }
  return `<p class="paging">${range} of ${formatCount(window.total)}, ${formatCount(window.pageSize)} a page. ${links.join(' · ')}</p>\n`;
}

/** 200000 → '200,000': the same on every machine (no Intl). */
function formatCount(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+$)/g, ',');
}

const PARENT_ROW =
  '<tr><td class="name"><a href="../" class="up" aria-label="Parent folder">../</a></td><td class="size"></td><td class="mtime"></td></tr>';
const EMPTY_ROW = '<tr><td class="empty" colspan="3">This folder is empty.</td></tr>';

function entryRow(entry: ListingEntry): string {
  const isDirectory = entry.type === 'directory';
  const slash = isDirectory ? '/' : '';
  const href = escapeHtml(`./${encodeURIComponent(entry.name)}${slash}`);
  // dir="auto" gives each name its own direction, isolated: a right-to-left
  // name reads right to left and cannot reorder the text around it.
  // The class picks the icon (see page-style.ts): a folder, or the file's kind.
  const kind = isDirectory ? 'dir' : fileKind(entry.name);
  const link = `<a href="${href}"${kind === 'file' ? '' : ` class="${kind}"`} dir="auto">${escapeHtml(visibleName(entry.name))}${slash}</a>`;
  const size = isDirectory ? '—' : `<data value="${entry.size}">${formatSize(entry.size)}</data>`;
  return `<tr><td class="name">${link}</td><td class="size">${size}</td><td class="mtime">${modified(entry.mtimeMs)}</td></tr>`;
}

/** Date and time in their own spans: a phone shows the date only, which never wraps (the instant is in `datetime`). */
function modified(mtimeMs: number): string {
  const iso = isoTimestamp(mtimeMs);
  if (iso === null) return '';
  const [day, time] = formatDate(iso).split(' ');
  return `<time datetime="${iso}"><span>${day}</span> <span>${time}</span></time>`;
}
