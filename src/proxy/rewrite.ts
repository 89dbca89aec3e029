// What a backend says about addresses, translated back to the ones the browser uses. The backend
// knows its own paths (without the prefix a `rewrite` strips, under the target's path) and, with
// changeOrigin, believes it is reached at its own host: its redirects and cookie domains would
// otherwise send the browser away from serve-dir, or to a path serve-dir does not proxy.

import type { OutgoingHttpHeaders } from 'node:http';

export interface LocationContext {
  /** The backend's origin, `http://127.0.0.1:5000`. */
  backendOrigin: string;
  /** The origin the client used, `http://localhost:8000`. */
  clientOrigin: string;
  /** With changeOrigin, a Location on the backend's origin is put on the client's. */
  changeOrigin: boolean;
  /** The client's path for a path of the backend, or undefined when it has none (see clientPathFor). */
  mapPath: (path: string) => string | undefined;
}

/**
 * The Location for the client (RFC 9110 §10.2.2):
 * - a path (`/login`), or a URL on the client's own origin: its path mapped back
 *   (`/login` is `/api/login` when a rewrite strips `/api`);
 * - with changeOrigin, a URL on the backend's origin (`http://127.0.0.1:5000/login`): put on the
 *   client's origin (`http://localhost:8000/login`), its path mapped back;
 * - anything else (another site, a relative path, a path the backend has outside the route): kept.
 */
export function rewriteLocation(location: string, context: LocationContext): string {
  if (location.startsWith('/') && !location.startsWith('//')) {
    const split = splitPath(location);
    const path = context.mapPath(split.path);
    return path === undefined ? location : path + split.rest;
  }
  const networkPath = location.startsWith('//');
  // A relative reference (`next`, `../x`) is relative to wherever the client is.
  if (!networkPath && !/^[a-z][a-z0-9+.-]*:/i.test(location)) return location;
  let url: URL;
  try {
    url = new URL(networkPath ? `${context.backendOrigin.slice(0, context.backendOrigin.indexOf(':') + 1)}${location}` : location);
  } catch {
    return location;
  }
  const onBackend = context.changeOrigin && url.origin === context.backendOrigin;
  if (!onBackend && url.origin !== context.clientOrigin) return location;
  const path = context.mapPath(url.pathname);
  if (path === undefined && !onBackend) return location;
  return `${context.clientOrigin}${path ?? url.pathname}${url.search}${url.hash}`;
}

function splitPath(reference: string): { path: string; rest: string } {
  const end = reference.search(/[?#]/);
  return end === -1 ? { path: reference, rest: '' } : { path: reference.slice(0, end), rest: reference.slice(end) };
}

/**
 * A cookie's Domain attribute names the backend's host, which the browser is not on: without
 * it the cookie belongs to the host the browser asked (RFC 6265 §5.3 step 6, host-only).
 */
export function withoutCookieDomain(setCookie: string): string {
  return setCookie.replace(/;\s*domain\s*=[^;]*/gi, '');
}

/** Rewrite a response's Location, and with changeOrigin its cookie domains, in place. */
export function rewriteForClient(headers: OutgoingHttpHeaders, context: LocationContext): void {
  const location = headers['location'];
  if (typeof location === 'string') headers['location'] = rewriteLocation(location, context);
  if (!context.changeOrigin) return;
  const cookies = headers['set-cookie'];
  if (typeof cookies === 'string') headers['set-cookie'] = withoutCookieDomain(cookies);
  else if (Array.isArray(cookies)) headers['set-cookie'] = cookies.map(withoutCookieDomain);
}
