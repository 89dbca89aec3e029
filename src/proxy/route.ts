// The routes of the reverse proxy: which requests go to which backend, and at which path.
// Pure: strings in, strings out. The stage (src/stages/proxy.ts) does the I/O.

import { quote } from '../config/json-schema.js';
import { UsageError } from '../options.js';

/** A route of the reverse proxy (issue 15), in Vite's shape; a bare URL string becomes `{ target }`. */
export interface ProxyRoute {
  /** Backend base URL: http:, https:, ws: or wss:. */
  target: string;
  /** Send the backend's own host as Host, and rewrite its Location and cookie domains back. */
  changeOrigin?: boolean;
  /** Replace the path prefix `from` by `to` before forwarding (`{ "from": "/api", "to": "" }`). */
  rewrite?: { from: string; to: string };
  /** Also tunnel WebSocket upgrades under this prefix (default true). */
  ws?: boolean;
  /** Seconds to wait for the backend's response headers before answering 504 (default 60). */
  timeout?: number;
}

/** A route ready to match: its prefix, its target parsed once. */
export interface CompiledRoute {
  readonly prefix: string;
  readonly target: URL;
  /** `http:` or `https:` (ws: and wss: are the same schemes for the first request). */
  readonly protocol: 'http:' | 'https:';
  /** The target's path without its trailing slash: '' for `http://h:5000` and `http://h:5000/`. */
  readonly basePath: string;
  /** The target's `host[:port]`, as Host says it with changeOrigin. */
  readonly host: string;
  /** The target's origin, as a backend's absolute Location names it. */
  readonly origin: string;
  readonly changeOrigin: boolean;
  readonly rewrite: { readonly from: string; readonly to: string } | undefined;
  readonly ws: boolean;
  readonly timeoutMs: number;
}

export const DEFAULT_PROXY_TIMEOUT_SECONDS = 60;

/** Longest prefix first: `/api/v2` wins over `/api`. */
export function compileProxyRoutes(routes: Record<string, string | ProxyRoute> | undefined): CompiledRoute[] {
  if (routes === undefined) return [];
  const compiled: CompiledRoute[] = [];
  for (const [prefix, given] of Object.entries(routes)) {
    const route = checkProxyRoute(prefix, typeof given === 'string' ? { target: given } : given);
    const target = new URL(route.target);
    const secure = target.protocol === 'https:' || target.protocol === 'wss:';
    compiled.push({
      // '/api/' and '/api' are the same route: the boundary is checked at match time.
      prefix: prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix,
      target,
      protocol: secure ? 'https:' : 'http:',
      basePath: target.pathname.replace(/\/+$/, ''),
      host: target.host,
      origin: `${secure ? 'https:' : 'http:'}//${target.host}`,
      changeOrigin: route.changeOrigin ?? false,
      rewrite: route.rewrite,
      ws: route.ws ?? true,
      timeoutMs: (route.timeout ?? DEFAULT_PROXY_TIMEOUT_SECONDS) * 1000,
    });
  }
  return compiled.sort((a, b) => b.prefix.length - a.prefix.length);
}

/** Where a request goes: its route and the path and query to ask the backend for. */
export interface ProxyMatch {
  route: CompiledRoute;
  /** Origin-form target for the backend: `/v1/api/users?page=2`. */
  path: string;
}

/**
 * The route for a request target (origin-form, as the client sent it), or undefined when no
 * prefix matches, or 'refused' when it matches but tries to step outside it.
 *
 * A prefix matches whole segments only: `/api` takes `/api`, `/api/x` and `/api?q`, never
 * `/apiX`. What follows is then checked as a backend would read it, since it will: a dot
 * segment (`..`, `%2e%2e`, `.%2E`, and `..;` which Java servers read as `..`), an encoded
 * slash (`%2f`) or a backslash (`%5c`, `\`, a slash to Windows and some frameworks) could
 * make the backend serve a path outside the prefix (`/api/../secret` is `/secret` to it). No
 * browser sends these: they are refused (400), not normalised.
 */
export function matchProxyRoute(routes: readonly CompiledRoute[], target: string): ProxyMatch | 'refused' | undefined {
  if (routes.length === 0 || target.charCodeAt(0) !== 0x2f /* '/' */) return undefined;
  const queryAt = target.indexOf('?');
  const path = queryAt === -1 ? target : target.slice(0, queryAt);
  const query = queryAt === -1 ? '' : target.slice(queryAt);
  for (const route of routes) {
    if (!underPrefix(path, route.prefix)) continue;
    if (escapesPrefix(path)) return 'refused';
    return { route, path: backendPath(route, path) + query };
  }
  return undefined;
}

function underPrefix(path: string, prefix: string): boolean {
  if (prefix === '/') return true;
  return path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 0x2f);
}

/** A dot segment, encoded or not (with Java's `;params` after it), or an encoded slash or a backslash anywhere. */
const ESCAPE = /(?:^|\/)(?:\.|%2e){1,2}(?:;[^/]*)?(?:\/|$)|%2f|%5c|\\/i;

export function escapesPrefix(path: string): boolean {
  return ESCAPE.test(path);
}

/**
 * The path the backend is asked for. By default the whole path, prefix included, after the
 * target's own path (Vite's and http-proxy's default: `/api/users` to `http://h:5000` asks for
 * `/api/users`; to `http://h:5000/v1`, `/v1/api/users`). A `rewrite` replaces its `from` prefix
 * by `to` first (`{ from: '/api', to: '' }` strips the prefix).
 */
export function backendPath(route: CompiledRoute, path: string): string {
  let rest = path;
  const rewrite = route.rewrite;
  if (rewrite !== undefined && underPrefix(path, rewrite.from.replace(/(.)\/+$/, '$1'))) {
    const from = rewrite.from.replace(/(.)\/+$/, '$1');
    rest = rewrite.to.replace(/\/+$/, '') + path.slice(from === '/' ? 0 : from.length);
  }
  const joined = route.basePath + (rest.startsWith('/') ? rest : `/${rest}`);
  return joined === '' ? '/' : joined;
}

/**
 * The inverse of backendPath: the path a client asks for to reach `path` of the backend, or
 * undefined when no request through this route reaches it (outside the target's path, or
 * outside the rewrite's `to`). Without a target path or a rewrite, every path is its own.
 */
export function clientPathFor(route: CompiledRoute, path: string): string | undefined {
  let rest = path;
  if (route.basePath !== '') {
    if (!underPrefix(rest, route.basePath)) return undefined;
    rest = rest.slice(route.basePath.length) || '/';
  }
  const rewrite = route.rewrite;
  if (rewrite === undefined) return rest;
  const from = rewrite.from.replace(/(.)\/+$/, '$1');
  const to = rewrite.to.replace(/\/+$/, '');
  if (to !== '') {
    if (!underPrefix(rest, to)) return undefined;
    rest = rest.slice(to.length);
  }
  const joined = (from === '/' ? '' : from) + rest;
  return joined === '' ? '/' : joined;
}

/**
 * Check a proxy route (the prefix a plain URL path, the target an http(s) or ws(s) URL without
 * query, the rewrite a path prefix) and return a copy. Throws a UsageError naming the prefix.
 */
export function checkProxyRoute(prefix: string, route: ProxyRoute): ProxyRoute {
  checkProxyPrefix(prefix);
  checkProxyTarget(prefix, route.target);
  if (route.rewrite !== undefined && !route.rewrite.from.startsWith('/')) {
    throw new UsageError(`the rewrite of ${quote(prefix)} must replace a path prefix starting with "/", not ${quote(route.rewrite.from)}`);
  }
  if (route.timeout !== undefined && !(Number.isFinite(route.timeout) && route.timeout > 0)) {
    throw new UsageError(`the timeout of ${quote(prefix)} must be a number of seconds above 0, not ${quote(String(route.timeout))}`);
  }
  return { ...route, ...(route.rewrite === undefined ? {} : { rewrite: { ...route.rewrite } }) };
}

/** `--proxy <prefix>=<url>` (issue 15): the same checks as the config file's "proxy". */
export function parseProxyFlag(text: string): [prefix: string, route: ProxyRoute] {
  const equals = text.indexOf('=');
  if (equals <= 0) throw new UsageError(`invalid --proxy ${quote(text)}: expected <prefix>=<url>, such as /api=http://127.0.0.1:5000`);
  const prefix = text.slice(0, equals);
  try {
    return [prefix, checkProxyRoute(prefix, { target: text.slice(equals + 1) })];
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`invalid --proxy: ${error.message}`);
    throw error;
  }
}

function checkProxyPrefix(prefix: string): void {
  const segments = prefix.split('/').slice(1);
  if (!prefix.startsWith('/') || /[\\?#%\0]/.test(prefix) || segments.some((segment) => segment === '.' || segment === '..')) {
    throw new UsageError(`the prefix ${quote(prefix)} must be a plain URL path starting with "/", such as "/api"`);
  }
}

function checkProxyTarget(prefix: string, target: string): void {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new UsageError(`the target of ${quote(prefix)} is not a URL: ${quote(target)}`);
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    throw new UsageError(`the target of ${quote(prefix)} must be an http(s) or ws(s) URL, not ${quote(target)}`);
  }
  if (url.search !== '' || url.hash !== '') throw new UsageError(`the target of ${quote(prefix)} cannot have a query or fragment: ${quote(target)}`);
  if (url.username !== '' || url.password !== '') throw new UsageError(`the target of ${quote(prefix)} cannot carry credentials: ${quote(target)}`);
}
