// changeOrigin: the backend believes it is reached at its own address, so what it says about
// that address (redirects to itself, cookies for its host name) is translated back to the
// address the browser used, or the browser would leave serve-dir for the backend.

import type { OutgoingHttpHeaders } from 'node:http';

/**
 * A Location naming the backend's origin (`http://127.0.0.1:5000/login`) names the client's
 * instead (`http://localhost:8000/login`). Relative references and other sites are kept.
 */
export function rewriteLocation(location: string, backendOrigin: string, clientOrigin: string): string {
  const networkPath = location.startsWith('//');
  // A relative reference is already relative to wherever the client is.
  if (!networkPath && !/^[a-z][a-z0-9+.-]*:/i.test(location)) return location;
  let url: URL;
  try {
    url = new URL(networkPath ? `${backendOrigin.slice(0, backendOrigin.indexOf(':') + 1)}${location}` : location);
  } catch {
    return location;
  }
  if (url.origin !== backendOrigin) return location;
  return `${clientOrigin}${url.pathname}${url.search}${url.hash}`;
}

/**
 * A cookie's Domain attribute names the backend's host, which the browser is not on: without
 * it the cookie belongs to the host the browser asked (RFC 6265 §5.3 step 6, host-only).
 */
export function withoutCookieDomain(setCookie: string): string {
  return setCookie.replace(/;\s*domain\s*=[^;]*/gi, '');
}

/** Apply both rewrites to a response's fields, in place. */
export function rewriteForClient(headers: OutgoingHttpHeaders, backendOrigin: string, clientOrigin: string): void {
  const location = headers['location'];
  if (typeof location === 'string') headers['location'] = rewriteLocation(location, backendOrigin, clientOrigin);
  const cookies = headers['set-cookie'];
  if (typeof cookies === 'string') headers['set-cookie'] = withoutCookieDomain(cookies);
  else if (Array.isArray(cookies)) headers['set-cookie'] = cookies.map(withoutCookieDomain);
}
