import type { IncomingMessage } from 'node:http';

/**
 * Where a middleware handler is mounted (`app.use('/static', handler)`): Express
 * and Connect strip the mount path from `req.url` before calling us, so every URL
 * we send back (a redirect's Location, a listing's title and breadcrumbs, the
 * live-reload script) must put it back, or it points outside the mount.
 */
export interface Mount {
  /** The mount path as the client sent it (percent-encoded), '' at the root: '/static'. */
  prefix: string;
  /** The same, decoded, for pages people read. */
  shown: string;
  /**
   * The request named the mount point itself without its slash (`/static`), which
   * the framework hands us as `/`: like any folder, it is redirected to `/static/`
   * so the relative links of its index and listing resolve inside it.
   */
  bare: boolean;
}

export const NO_MOUNT: Mount = Object.freeze({ prefix: '', shown: '', bare: false });

/**
 * Non-empty segments of unreserved, sub-delims, ':', '@' and escapes (RFC 3986
 * §3.3): what a Location may start with and stay a path on this server, never
 * `//host` or `/\host`, never a CR or LF.
 */
const SAFE_PREFIX = /^(?:\/[A-Za-z0-9\-._~!$&'()*+,;=:@%]+)+$/;

export function mountOf(req: IncomingMessage): Mount {
  const { originalUrl, baseUrl } = req as IncomingMessage & { originalUrl?: unknown; baseUrl?: unknown };
  if (typeof originalUrl !== 'string') return NO_MOUNT;
  const url = req.url ?? '';
  const path = url.split('?', 1)[0]!;
  const originalPath = originalUrl.split('?', 1)[0]!;
  // Express names the mount; Connect leaves it to be found as what was cut from the front.
  let prefix: string;
  if (typeof baseUrl === 'string') prefix = baseUrl;
  else if (originalPath.endsWith(path)) prefix = originalPath.slice(0, originalPath.length - path.length);
  else if (path === '/') prefix = originalPath;
  else return NO_MOUNT;
  if (prefix === '' || !SAFE_PREFIX.test(prefix)) return NO_MOUNT;
  let shown: string;
  try {
    shown = decodeURIComponent(prefix);
  } catch {
    shown = prefix;
  }
  return { prefix, shown, bare: path === '/' && originalPath === prefix };
}
