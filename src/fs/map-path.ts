import { sep } from 'node:path';

/**
 * The one place where a request target becomes a file system path. Every
 * later stage trusts only what this returns, so the safety of the server can
 * be reviewed on this one screen (as CPython's `translate_path`).
 */

/** Read-only: the path guard shares one answer among all requests for the same target. */
export interface MappedPath {
  /** Decoded, normalised URL path: '/', '/a/b.txt' or '/a/b/' (trailing slash kept). */
  readonly urlPath: string;
  /** The decoded segments between slashes; never '', '.', '..', nor containing '/', '\' or NUL. */
  readonly segments: readonly string[];
  /** root + segments joined: always inside the root (symlinks are checked later, against real paths). */
  readonly absolute: string;
  /** The request asked for a directory form ('/a/' rather than '/a'). */
  readonly trailingSlash: boolean;
  /** The raw query string including its '?', or ''. Kept verbatim for redirects. */
  readonly query: string;
}

export type MapResult = { ok: true; path: MappedPath } | { ok: false; status: 400 | 404 | 414 };

/** Longest decoded path we look up; beyond it the name cannot exist (PATH_MAX). */
export const MAX_PATH_BYTES = 4096;
/** Longest name most file systems allow (NAME_MAX); a longer segment cannot exist. */
export const MAX_SEGMENT_BYTES = 255;

const HEX = /^[0-9A-Fa-f]{2}$/;
const IS_WINDOWS = process.platform === 'win32';

/**
 * Names Windows resolves to some other file than the one they spell, which
 * would walk around the dotfile rule (`GIT~1` is `.git`, `.env.` and `.env `
 * are `.env`, `.env::$DATA` is its contents) or reach a device (`NUL`, `COM1.txt`).
 * No file is served under such a name there.
 */
const WINDOWS_ALIAS = /:|[. ]$|~\d|^(?:con|prn|aux|nul|com\d|lpt\d)(?:\.|$)/i;

export function isWindowsAlias(segment: string): boolean {
  return WINDOWS_ALIAS.test(segment);
}

/**
 * Map the path of a request target (origin-form, `/a/b?q`) to a path inside `root`.
 *
 * - Percent-decoding happens exactly once, per segment, so `%2e%2e` can never
 *   become a separator and `%252e` stays the literal name `%2e`.
 * - Malformed escapes, invalid UTF-8 (including overlong forms) and NUL are 400:
 *   no file can have such a name, and guessing would hide attacks.
 * - An encoded slash or a backslash inside a segment is 400: it would mean one
 *   thing to us and another to a file system or proxy (Windows treats `\` as `/`).
 * - Dot segments are removed (RFC 3986 §5.2.4); climbing above the root is 400
 *   because no browser sends it, only a traversal attempt does.
 * - Dotfiles and dot-directories are 404 unless allowed; `/.well-known/` is
 *   always served (RFC 8615 puts public metadata there).
 */
export function mapRequestPath(target: string, root: string, allowDotfiles: boolean, windows = IS_WINDOWS): MapResult {
  if (target.charCodeAt(0) !== 0x2f /* '/' */) return { ok: false, status: 400 };
  const queryStart = target.indexOf('?');
  const rawPath = queryStart === -1 ? target : target.slice(0, queryStart);
  const query = queryStart === -1 ? '' : target.slice(queryStart);

  const segments: string[] = [];
  let trailingSlash = false;
  let totalBytes = 0;
  const rawSegments = rawPath.split('/');
  // rawSegments[0] is the empty string before the leading '/'.
  for (let i = 1; i < rawSegments.length; i++) {
    const raw = rawSegments[i] as string;
    const last = i === rawSegments.length - 1;
    const segment = decodeSegment(raw);
    if (segment === undefined) return { ok: false, status: 400 };
    if (segment === '' || segment === '.') {
      // Empty segments ('//') collapse; '.' and a final '' mean "this directory".
      if (last) trailingSlash = true;
      continue;
    }
    if (segment === '..') {
      if (segments.pop() === undefined) return { ok: false, status: 400 };
      if (last) trailingSlash = true;
      continue;
    }
    if (segment.includes('/') || segment.includes('\\')) return { ok: false, status: 400 };
    if (windows && isWindowsAlias(segment)) return { ok: false, status: 404 };
    const bytes = Buffer.byteLength(segment);
    if (bytes > MAX_SEGMENT_BYTES) return { ok: false, status: 404 };
    totalBytes += bytes + 1;
    if (totalBytes > MAX_PATH_BYTES) return { ok: false, status: 414 };
    segments.push(segment);
    trailingSlash = false;
  }

  if (!allowDotfiles && isHidden(segments)) return { ok: false, status: 404 };

  const joined = segments.join('/');
  const urlPath = segments.length === 0 ? '/' : `/${joined}${trailingSlash ? '/' : ''}`;
  const absolute = segments.length === 0 ? root : withSeparator(root) + (sep === '/' ? joined : segments.join(sep));
  return { ok: true, path: { urlPath, segments, absolute, trailingSlash: trailingSlash || segments.length === 0, query } };
}

/** A segment naming a hidden file or folder, other than the root's `.well-known`. */
export function isHidden(segments: readonly string[]): boolean {
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as string;
    if (segment.charCodeAt(0) === 0x2e /* '.' */ && !(i === 0 && segment === '.well-known')) return true;
  }
  return false;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Percent-decode one segment; undefined when malformed, not UTF-8, or containing NUL. */
function decodeSegment(raw: string): string | undefined {
  // Node hands over the request line's bytes as latin1; a client that sent raw
  // (unencoded) UTF-8 means the UTF-8 name, as curl and wget users expect.
  if (/[\x80-\xff]/.test(raw)) {
    try {
      raw = utf8.decode(Buffer.from(raw, 'latin1'));
    } catch {
      return undefined;
    }
  }
  if (!raw.includes('%')) return raw.includes('\0') ? undefined : raw;
  // decodeURIComponent rejects bad escapes and invalid or overlong UTF-8, but
  // accepts a lone '%' followed by non-hex only by throwing too; check '%XX' shape
  // explicitly so every malformed escape gets the same answer.
  for (let i = raw.indexOf('%'); i !== -1; i = raw.indexOf('%', i + 1)) {
    if (!HEX.test(raw.slice(i + 1, i + 3))) return undefined;
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  return decoded.includes('\0') ? undefined : decoded;
}

/** Is `candidate` the root itself or inside it? (`/srv/site-secret` is not inside `/srv/site`.) */
export function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(withSeparator(root));
}

/**
 * May a file whose real path (symlinks resolved) is `real` be served? It must
 * lie inside the root, and, unless dotfiles are allowed, no segment of its path
 * below the root may be hidden: a link with an ordinary name (`cfg -> .git/config`,
 * `.well-known -> .git`) shows nothing that its target's own name would not.
 */
export function isServableRealPath(root: string, real: string, allowDotfiles: boolean): boolean {
  if (!isInside(root, real)) return false;
  if (allowDotfiles || real === root) return true;
  return !isHidden(real.slice(withSeparator(root).length).split(sep));
}

/** `directory` with one trailing separator, ready for a name to be appended. */
export function withSeparator(directory: string): string {
  return directory.endsWith(sep) ? directory : directory + sep;
}

/**
 * Would the guard serve an entry of this name inside a folder it serves?
 * Listings use it so that they never show a link the guard would refuse.
 */
export function isServableName(name: string, inRoot: boolean, allowDotfiles: boolean): boolean {
  if (name.includes('\\') || Buffer.byteLength(name) > MAX_SEGMENT_BYTES) return false;
  return allowDotfiles || name.charCodeAt(0) !== 0x2e /* '.' */ || (inRoot && name === '.well-known');
}
