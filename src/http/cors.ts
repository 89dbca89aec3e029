// CORS for `--cors` (the Fetch standard, "CORS protocol", §3.2): any origin may read what
// serve-dir sends. No credentials are involved: `Access-Control-Allow-Origin: *` is exactly
// the answer for resources that are public to any page (Fetch §3.2.5), and it does not vary
// by Origin, so no `Vary: Origin` is needed on simple responses.

import type { IncomingHttpHeaders } from 'node:http';

/**
 * How long a browser may reuse a preflight answer. Chromium caps it at 7200 s, Firefox at
 * 86400; ten minutes keeps the preflight off most requests while a restart with other
 * flags is noticed soon.
 */
export const DEFAULT_PREFLIGHT_MAX_AGE = 600;

/** What serve-dir answers; GET and HEAD are CORS-safelisted, so a preflight asks only because of headers. */
const ALLOWED_METHODS = 'GET, HEAD';

/**
 * Response headers a page may read besides the CORS-safelisted ones (Fetch §2.2.6: Cache-Control,
 * Content-Language, Content-Length, Content-Type, Expires, Last-Modified, Pragma): what a script
 * needs for ranges (PDF viewers, media players) and revalidation.
 */
const EXPOSED_HEADERS = 'Accept-Ranges, Content-Encoding, Content-Range, ETag';

/** The headers of every CORS response except the preflight's 204 (which has its own). */
export const CORS_RESPONSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'access-control-allow-origin': '*',
  'access-control-expose-headers': EXPOSED_HEADERS,
});

/** tchar, RFC 9110 §5.6.2: methods (§9.1) and field names (§5.1) are tokens. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A CORS preflight is an OPTIONS request with `Origin` and `Access-Control-Request-Method`
 * (Fetch §3.2.2). Anything else, an OPTIONS without them included, is no preflight: it gets the
 * server's usual answer (204 with Allow).
 */
export function isPreflight(method: string, headers: IncomingHttpHeaders): boolean {
  return method === 'OPTIONS' && headers.origin !== undefined && TOKEN.test((headers['access-control-request-method'] ?? '').trim());
}

/**
 * The headers of the 204 that answers a preflight, or undefined when the request is not one.
 *
 * - `Access-Control-Allow-Methods: GET, HEAD` whatever was asked: the browser, not the server,
 *   decides that a POST is not allowed, and says why in its console.
 * - `Access-Control-Allow-Headers` echoes the requested names (lower-cased, each checked to be a
 *   token, duplicates dropped). Echoing rather than `*` also covers `Authorization`, which the
 *   wildcard never does (Fetch §3.2.3). A malformed name is left out, not the whole list.
 * - `Vary: Access-Control-Request-Headers`: the answer depends on it (Fetch §3.2.5 CORS and
 *   caching); the method and origin do not change it.
 */
export function preflightHeaders(method: string, headers: IncomingHttpHeaders, maxAge = DEFAULT_PREFLIGHT_MAX_AGE): Record<string, string> | undefined {
  if (!isPreflight(method, headers)) return undefined;
  const answer: Record<string, string> = {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': ALLOWED_METHODS,
    'access-control-max-age': String(maxAge),
    vary: 'Access-Control-Request-Headers',
  };
  const requested = requestedHeaderNames(headers['access-control-request-headers']);
  if (requested.length > 0) answer['access-control-allow-headers'] = requested.join(', ');
  return answer;
}

/** The names of `Access-Control-Request-Headers`: a comma-separated list (RFC 9110 §5.6.1). */
export function requestedHeaderNames(value: string | undefined): string[] {
  if (value === undefined) return [];
  const names = new Set<string>();
  for (const member of value.split(',')) {
    const name = member.trim().toLowerCase();
    if (TOKEN.test(name)) names.add(name);
  }
  return [...names];
}
