// What to do with paths that name no file: the SPA fallback of `--spa` and the mapping of
// `--clean-urls`. Both run only after the path guard (so on decoded, normalised segments that
// are inside the root) and after a real file or folder has been looked for: real entries
// always win. Order for a miss: clean URL first (`/about` -> about.html), then the SPA
// fallback, then 404.
//
// Relative links: a page is only ever served at a URL whose folder is the page's own folder
// (`/about` for about.html, `/docs/intro` for docs/intro.html, `/` for index.html), because
// `/about/` and `/about.html` redirect there rather than serving the page. So `href="style.css"`
// in about.html means /style.css however the page was reached. The SPA fallback cannot promise
// that (`/dashboard/settings` serves index.html from one folder deeper): single-page apps must
// use root-relative URLs (`/assets/app.js`) or a `<base href="/">`, as their build tools do.

import { UsageError } from '../options.js';

/**
 * The SPA fallback answers browser navigations only (Fetch's "navigate" requests send
 * `text/html` in Accept): a script, stylesheet or image that is missing keeps its 404, so a
 * broken link stays visible instead of "loading" index.html as JavaScript.
 */
export interface NavigationRequest {
  readonly method: string;
  readonly accept: string | undefined;
  /** Decoded path segments, as the path guard gives them. */
  readonly segments: readonly string[];
}

/**
 * Does this request for a missing path get the SPA's index page?
 *
 * - GET or HEAD only: other methods never change state through a fallback page.
 * - `Accept` lists `text/html` (with a q above 0). `*\/*` alone is not enough: curl, fetch()
 *   and `<script>` send it, and they want the missing resource to be missing.
 * - Never for hidden names: a dotted segment anywhere stays a 404, like the file would.
 * - The last segment has no file extension. What counts as one is ambiguous
 *   (`/user/john.doe`, `/releases/v1.2`): here it is the text after the last dot of the last
 *   segment, if `hasMediaType` knows it as a type (the server's Content-Type table). So
 *   `/report.pdf` and `/app.js` are asset misses (404), while `/user/john.doe` and
 *   `/releases/v1.2` are routes. A dot in an earlier segment (`/v1.2/users`) never matters.
 *   Percent-encoded segments arrive decoded (`/caf%C3%A9` is the route `café`).
 */
export function isSpaNavigation(request: NavigationRequest, hasMediaType: (extension: string) => boolean): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  if (!acceptsHtml(request.accept)) return false;
  if (request.segments.some((segment) => segment.charCodeAt(0) === 0x2e /* '.' */)) return false;
  const last = request.segments[request.segments.length - 1];
  if (last === undefined) return true;
  const extension = fileExtension(last);
  return extension === undefined || !hasMediaType(extension);
}

/**
 * The segments of the SPA's page (`--spa [file]`, default index.html), a file of the served
 * folder: "200.html", "app/shell.html" or "/app/shell.html". Never a hidden file and never
 * outside the root, whatever the flag says, so the fallback cannot become a way around the
 * path guard. Throws a UsageError naming `source`.
 */
export function fallbackFileSegments(name: string, source = '--spa'): string[] {
  const segments = name.replace(/^\/+/, '').split('/');
  const bad = name.includes('\\') || name.includes('\0') || segments.some((segment) => segment === '' || segment === '.' || segment === '..' || segment.startsWith('.'));
  if (bad) throw new UsageError(`invalid ${source}: must name a file inside the served folder, such as "index.html" or "200.html", not ${JSON.stringify(name)}`);
  return segments;
}

/** The lower-cased text after the last dot of a name, if any ('tar.gz' -> 'gz'; 'v1.' -> none). */
export function fileExtension(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return undefined;
  return name.slice(dot + 1).toLowerCase();
}

/**
 * Does `Accept` (RFC 9110 §12.5.1) list text/html with a non-zero weight? Media types are
 * case-insensitive; parameters other than q are ignored.
 */
export function acceptsHtml(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  for (const member of accept.split(',')) {
    const [range = '', ...parameters] = member.split(';');
    if (range.trim().toLowerCase() !== 'text/html') continue;
    const q = parameters.map((parameter) => /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(parameter)).find((match) => match !== null);
    if (q === undefined || Number(q[1]) > 0) return true;
  }
  return false;
}

/** What a path is on disk, as the caller's lookup reports it. */
export type EntryKind = 'file' | 'directory' | undefined;

/** Looks up segments under the root (sync or async); only ever asked about names ending `.html` or their stems. */
export type EntryLookup = (segments: readonly string[]) => EntryKind | Promise<EntryKind>;

/** The parts of the path guard's MappedPath that clean URLs need. */
export interface CleanUrlPath {
  readonly segments: readonly string[];
  readonly trailingSlash: boolean;
  /** Raw query with its '?', or '': kept on redirects. */
  readonly query: string;
}

export type CleanUrlOutcome =
  /** Nothing to do: serve, list or 404 as usual. */
  | { readonly kind: 'as-is' }
  /** Answer 301 with this Location (already percent-encoded, query kept). */
  | { readonly kind: 'redirect'; readonly location: string }
  /** Serve this file (the `.html` of the requested path) with 200 at the requested URL. */
  | { readonly kind: 'serve'; readonly segments: readonly string[] };

const AS_IS: CleanUrlOutcome = { kind: 'as-is' };
const HTML = '.html';

/**
 * `--clean-urls`: pages are reached without `.html`.
 *
 * - `/about` missing, `about.html` a file -> serve about.html.
 * - `/about/` missing, `about.html` a file -> 301 to `/about` (query kept), so relative links
 *   resolve as on the page's own URL.
 * - `/about.html` a file -> 301 to `/about`, unless `about` exists too (the redirect would then
 *   land on that other file or folder); `/docs/index.html` -> 301 to `/docs/`.
 * - A folder keeps its own rules (slash redirect, index.html, listing): `found` is 'directory'.
 * - Never for hidden names, even under `--dotfiles`: `/.secret` never reaches `.secret.html`.
 *
 * `found` is what the requested path itself is. Only `.html` names are affected (not `.htm`,
 * not `.HTML`): one spelling, so one canonical URL per page.
 */
export async function resolveCleanUrl(path: CleanUrlPath, found: EntryKind, lookup: EntryLookup): Promise<CleanUrlOutcome> {
  const { segments } = path;
  const last = segments[segments.length - 1];
  if (last === undefined || found === 'directory') return AS_IS;
  if (segments.some((segment) => segment.charCodeAt(0) === 0x2e /* '.' */)) return AS_IS;
  const parent = segments.slice(0, -1);

  if (found === 'file') {
    if (path.trailingSlash || !last.endsWith(HTML)) return AS_IS;
    if (last === 'index.html') return { kind: 'redirect', location: locationOf(parent, true, path.query) };
    const stem = [...parent, last.slice(0, -HTML.length)];
    if ((await lookup(stem)) !== undefined) return AS_IS;
    return { kind: 'redirect', location: locationOf(stem, false, path.query) };
  }

  if (last.endsWith(HTML)) return AS_IS;
  const page = [...parent, last + HTML];
  if ((await lookup(page)) !== 'file') return AS_IS;
  if (path.trailingSlash) return { kind: 'redirect', location: locationOf(segments, false, path.query) };
  return { kind: 'serve', segments: page };
}

/** A path on this server, each segment percent-encoded (as the directory slash redirect does). */
function locationOf(segments: readonly string[], trailingSlash: boolean, query: string): string {
  if (segments.length === 0) return `/${query}`;
  return `/${segments.map(encodeURIComponent).join('/')}${trailingSlash ? '/' : ''}${query}`;
}
