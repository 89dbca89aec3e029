import { realpathSync, statSync, type Stats } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import type { EmitEvent, ServerEvent } from './events.js';
import { createBasicAuth, parseCredentials, type BasicAuth } from './http/basic-auth.js';
import { createHeaderRules, parseHeaderLine, type HeaderRules, type ScopedHeadersConfig } from './http/header-rules.js';
import { mapRequestPath } from './fs/map-path.js';
import { fallbackFileSegments } from './http/navigation.js';
import { createIgnoreMatcher } from './livereload/ignore.js';
import { textSink } from './log.js';
import { compileProxyRoutes, type CompiledRoute, type ProxyRoute } from './proxy/route.js';

/**
 * Options accepted by `createHandler` and `startServer`. Each has the name of
 * the CLI flag it mirrors (camel-cased), so `--no-listing` is `listing: false`.
 */
export interface Options {
  /** Directory to serve (the positional `dir`, or `-d, --directory`). Default: `.` */
  directory?: string;
  /** Port to listen on. Default 8000; `0` picks any free port. */
  port?: number;
  /**
   * Whether `port` was chosen by the user. When false and the port is busy,
   * the server moves on to the next free port instead of failing.
   */
  strictPort?: boolean;
  /** Address to bind (`-b, --bind`, alias `--host`). Default `localhost` (127.0.0.1 and ::1). */
  bind?: string;
  /** No request log. */
  quiet?: boolean;
  /** Serve directory listings for folders without an index. Default true. */
  listing?: boolean;
  /**
   * File names tried in order when a folder is requested (`--index`, repeatable).
   * Default `['index.html', 'index.htm']`; `false` or `[]` (`--no-index`): none, so
   * a folder is listed (or 404 without listings).
   */
  index?: string[] | false;
  /** Redirect a folder asked for without its slash to the slash form (`/docs` → `/docs/`). Default true; false answers 404. */
  redirect?: boolean;
  /** Serve dotfiles and dot-directories. Default false (they give 404). */
  dotfiles?: boolean;
  /** Cache-Control max-age in seconds; undefined means `no-cache` (always revalidate). */
  cache?: number;
  /** Add `immutable` to Cache-Control; only with `cache` (an error without it). */
  immutable?: boolean;
  /** Compress responses on the fly and serve precompressed `.br`/`.gz` sidecars. Default true. */
  compress?: boolean;
  /** Watch the directory and live-reload open pages. Default false. */
  watch?: boolean;
  /** Extra glob patterns the watcher ignores (in addition to `.git` and `node_modules`); only with `watch`. */
  ignore?: string[];
  /** Watch by polling (network drives, WSL, containers); only with `watch`. */
  poll?: boolean;
  /**
   * The DNS-rebinding defence: while bound to loopback, refuse (403) requests whose
   * Host is not a loopback name or in `allowedHost`. Default: on for `startServer`
   * and the CLI; for `createHandler`, on only when this is true or `allowedHost`
   * names hosts (an app behind a proxy or on a LAN has names the handler cannot know).
   */
  checkHost?: boolean;
  /** Host names accepted besides localhost when bound to a loopback address. */
  allowedHost?: string[];
  /** Upper bound, in bytes, of file contents kept in memory. Default 64 MiB. */
  cacheMemory?: number;
  /**
   * Seconds a response may wait on a client that takes none of its bytes before its
   * connection is cut (only `startServer`: the server owns the connections). Default 30;
   * `0` never cuts. Idle connections and live-reload streams between events have no
   * bytes waiting and are not affected.
   */
  stallTimeout?: number;
  /** TLS certificate chain file (PEM), with `tlsKey`: serve HTTPS (only `startServer`). */
  tlsCert?: string;
  /** TLS private key file (PEM); when absent, looked for in `tlsCert`. */
  tlsKey?: string;
  /** A file whose first line is the password of an encrypted `tlsKey`. */
  tlsPasswordFile?: string;
  /** HTTPS with a certificate made and kept in the user's cache folder (see src/tls/cache.ts). */
  https?: boolean;
  /** With TLS, offer HTTP/2 by ALPN (HTTP/1.1 stays for older clients). Default true. */
  http2?: boolean;
  /**
   * Receives what the server has to tell, as typed events (see events.ts): `listening`,
   * `request`, `change`, `watching`, `warning`, `error`. Text in them is as the client or
   * the file system gave it: make it safe before printing it on a terminal. With `quiet`, no
   * `request`, `change` or `watching` events are sent.
   */
  onEvent?: (event: ServerEvent) => void;
  /**
   * Deprecated, use `onEvent`: the events rendered as plain text lines (no colour; text that
   * came from a file name, a request or an error message made terminal-safe). Default, when
   * neither this nor `onEvent` is given: those lines on the console (problems on stderr).
   */
  log?: (line: string) => void;
  /**
   * Files never served (404), as paths; a symlink to one is refused too. The CLI hides its
   * config file this way. Default: none.
   */
  hide?: string[];
  /**
   * As middleware: hand client errors other than 404 (400, 403, 412, 416) to the
   * app's error handler as `next(err)`, with `err.status` and `err.statusCode` set
   * (serve-static's `fallthrough: false`). A 404 always calls `next()`. Default false.
   */
  forwardErrors?: boolean;
  /**
   * Called for every file response (200, 206, 304) before its headers go out, with the
   * file's path and stats, as serve-static's `setHeaders`: headers it sets win over
   * serve-dir's own (framing fields aside). Example:
   * `setHeaders: (res, path) => { if (path.endsWith('.wasm')) res.setHeader('Cache-Control', 'max-age=600'); }`
   */
  setHeaders?: (res: ServerResponse, path: string, stat: Stats) => void;
  /** `Access-Control-Allow-Origin: *` on every response, and CORS preflights answered (`--cors`). Default false. */
  cors?: boolean;
  /** Headers on every response, as `"Name: value"` (`-H, --header`, repeatable); they replace built-in ones of the same name. */
  header?: string[];
  /** Headers for the URL paths matching each `source` glob (`/assets/**`, `*.js`); later rules win, over `header` too. */
  headers?: ScopedHeadersConfig[];
  /**
   * HTTP Basic authentication on every path, as `"user:password"` (`--auth`). The CLI also
   * reads SERVE_DIR_AUTH; the library reads only this option. Default: none.
   */
  auth?: string;
  /**
   * Single-page app (`--spa [file]`, alias `-s, --single`): a browser navigation (GET or HEAD
   * accepting text/html, last segment without a known file extension) to a path where nothing
   * exists gets this file of the served folder with 200; `true` means `index.html`. Missing
   * assets, real files and real folders keep their own answers. As middleware, navigations get
   * the page too (the app asked for it) and other misses go to `next()`. The file must exist at
   * start. Default false.
   */
  spa?: boolean | string;
  /** `/about` serves `about.html`; `/about.html` and `/about/` redirect (301) to `/about` (`--clean-urls`). Default false. */
  cleanUrls?: boolean;
  /**
   * Reverse proxy (`--proxy <prefix>=<url>`): path prefix -> backend URL, or a route object
   * `{ target, changeOrigin, rewrite, ws, timeout }` (Vite's shape). Longest prefix wins; the
   * path is forwarded whole, prefix included, unless `rewrite` says otherwise. Example:
   * `proxy: { '/api': 'http://127.0.0.1:5000', '/auth': { target: 'http://127.0.0.1:5001', changeOrigin: true } }`.
   */
  proxy?: Record<string, string | ProxyRoute>;
}

/** Options with every default filled in and the root resolved to an absolute path. */
export interface ResolvedOptions {
  root: string;
  port: number;
  strictPort: boolean;
  bind: string;
  quiet: boolean;
  listing: boolean;
  index: string[];
  redirect: boolean;
  dotfiles: boolean;
  cache: number | undefined;
  immutable: boolean;
  compress: boolean;
  watch: boolean;
  ignore: string[];
  poll: boolean;
  checkHost: boolean;
  allowedHost: string[];
  cacheMemory: number;
  stallTimeout: number;
  /** Where the server's events go: `onEvent`, and `log` as text. */
  emit: EmitEvent;
  /** Real paths of the files never served. */
  hide: string[];
  forwardErrors: boolean;
  setHeaders: ((res: ServerResponse, path: string, stat: Stats) => void) | undefined;
  cors: boolean;
  /** `header` and `headers` checked and compiled; `empty` when there are none. */
  headerRules: HeaderRules;
  /** The credential check of `auth` (it holds a digest, never the password), or undefined when off. */
  auth: BasicAuth | undefined;
  /** The SPA's page, mapped by the path guard's rules; undefined without `spa`. */
  spa: SpaFallback | undefined;
  cleanUrls: boolean;
  /** The proxy's routes, checked and parsed, longest prefix first; empty without `proxy`. */
  proxy: CompiledRoute[];
}

/** The `--spa` page: its URL segments and its path inside the root, as the path guard maps them. */
export interface SpaFallback {
  readonly segments: readonly string[];
  readonly absolute: string;
}

export const DEFAULT_PORT = 8000;
export const DEFAULT_BIND = 'localhost';
export const DEFAULT_CACHE_MEMORY = 64 * 1024 * 1024;
export const DEFAULT_STALL_TIMEOUT = 30;
export const DEFAULT_INDEX = ['index.html', 'index.htm'];

/** A mistake the user made in flags or options: reported as one line, never a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function parsePort(value: string | number): number {
  const text = String(value).trim();
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new UsageError(`invalid port "${value}": expected a whole number from 0 to 65535`);
  }
  return Number(text);
}

export function parseSeconds(value: string | number, flag: string): number {
  const text = String(value).trim();
  if (!/^\d{1,10}$/.test(text)) {
    throw new UsageError(`invalid ${flag} "${value}": expected a whole number of seconds`);
  }
  return Number(text);
}

/** Fill defaults, check the directory, and return options the server can trust. */
export function resolveOptions(options: Options = {}): ResolvedOptions {
  const root = resolve(options.directory ?? '.');
  let stat;
  try {
    stat = statSync(root);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new UsageError(`cannot read directory ${root}: permission denied`);
    throw new UsageError(`directory not found: ${root}`);
  }
  if (!stat.isDirectory()) throw new UsageError(`not a directory: ${root}`);
  // Symlink checks compare real paths, so the root must be one too.
  const realRoot = realpathSync(root);

  const port = options.port === undefined ? DEFAULT_PORT : parsePort(options.port);
  const cache = options.cache === undefined ? undefined : parseSeconds(options.cache, '--cache');
  const cacheMemory = options.cacheMemory ?? DEFAULT_CACHE_MEMORY;
  if (!Number.isSafeInteger(cacheMemory) || cacheMemory < 0) {
    throw new UsageError(`invalid cache memory "${options.cacheMemory}": expected a number of bytes`);
  }
  const stallTimeout = options.stallTimeout ?? DEFAULT_STALL_TIMEOUT;
  if (!Number.isFinite(stallTimeout) || stallTimeout < 0) {
    throw new UsageError(`invalid stall timeout "${options.stallTimeout}": expected a number of seconds (0 for none)`);
  }
  const ignore = options.ignore ?? [];
  // Accepted without a watcher, they would look like they worked.
  if (!options.watch && options.poll) throw new UsageError('--poll only applies with --watch');
  if (!options.watch && ignore.length > 0) throw new UsageError('--ignore only applies with --watch');
  if (options.immutable && cache === undefined) throw new UsageError('--immutable only applies with --cache');
  try {
    createIgnoreMatcher(realRoot, ignore);
  } catch (error) {
    throw new UsageError(`invalid --ignore: ${(error as Error).message}`);
  }
  const hide = realPaths(options.hide ?? []);
  return {
    root: realRoot,
    port,
    strictPort: options.strictPort ?? options.port !== undefined,
    bind: options.bind?.trim() || DEFAULT_BIND,
    quiet: options.quiet ?? false,
    listing: options.listing ?? true,
    index: indexFiles(options.index),
    redirect: options.redirect ?? true,
    dotfiles: options.dotfiles ?? false,
    cache,
    immutable: options.immutable ?? false,
    compress: options.compress ?? true,
    watch: options.watch ?? false,
    ignore,
    poll: options.poll ?? false,
    allowedHost: options.allowedHost ?? [],
    checkHost: options.checkHost ?? (options.allowedHost ?? []).length > 0,
    cacheMemory,
    stallTimeout,
    emit: eventSink(options.onEvent, options.log),
    hide,
    forwardErrors: options.forwardErrors ?? false,
    setHeaders: options.setHeaders,
    cors: options.cors ?? false,
    headerRules: createHeaderRules((options.header ?? []).map((line) => parseHeaderLine(line)), options.headers ?? []),
    auth: options.auth === undefined ? undefined : createBasicAuth(parseCredentials(options.auth)),
    spa: spaFallback(options.spa, realRoot, hide),
    cleanUrls: options.cleanUrls ?? false,
    proxy: proxyRoutes(options.proxy),
  };
}

/**
 * The `--spa` page, mapped like a request for it, so it obeys every rule of the path guard (never
 * hidden, never outside the root). It must exist now: a typo (`--spa 200.htm`) is a one-line
 * error at start rather than a site whose every route is a 404. It may not be a hidden file
 * (the config file): the fallback must never serve what a request for it could not get.
 */
function spaFallback(spa: boolean | string | undefined, root: string, hide: readonly string[]): SpaFallback | undefined {
  if (spa === undefined || spa === false) return undefined;
  const name = spa === true ? 'index.html' : spa;
  const segments = fallbackFileSegments(name);
  const mapped = mapRequestPath(`/${segments.map(encodeURIComponent).join('/')}`, root, false);
  if (!mapped.ok) throw new UsageError(`invalid --spa: ${JSON.stringify(name)} cannot be served from ${root}`);
  let real: string;
  try {
    if (!statSync(mapped.path.absolute).isFile()) throw new Error('not a file');
    real = realpathSync.native(mapped.path.absolute);
  } catch {
    throw new UsageError(`--spa: ${mapped.path.urlPath.slice(1)} not found in ${root} (name the app's page: --spa 200.html)`);
  }
  if (hide.includes(real)) throw new UsageError(`invalid --spa: ${JSON.stringify(name)} is a file serve-dir never serves`);
  return { segments: mapped.path.segments, absolute: mapped.path.absolute };
}

function proxyRoutes(routes: Options['proxy']): CompiledRoute[] {
  try {
    return compileProxyRoutes(routes);
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(`invalid proxy: ${error.message}`);
    throw error;
  }
}

/** Index names are single file names: a path or a hidden name would reach around the path guard. */
function indexFiles(index: string[] | false | undefined): string[] {
  if (index === undefined) return DEFAULT_INDEX;
  if (index === false) return [];
  for (const name of index) {
    if (typeof name !== 'string' || name === '' || name.startsWith('.') || /[/\\\0]/.test(name)) {
      throw new UsageError(`invalid index file name ${JSON.stringify(name)}: expected a file name such as index.html, without a path or a leading dot`);
    }
  }
  return index;
}

/** `onEvent`, and `log` as plain text; the console as plain text when neither is given. */
function eventSink(onEvent: EmitEvent | undefined, log: ((line: string) => void) | undefined): EmitEvent {
  if (onEvent === undefined) return textSink(log);
  if (log === undefined) return onEvent;
  const text = textSink(log);
  return (event) => {
    onEvent(event);
    text(event);
  };
}

/** The real paths of files that exist (one that does not cannot be served either). */
function realPaths(paths: readonly string[]): string[] {
  const real: string[] = [];
  for (const path of paths) {
    try {
      real.push(realpathSync.native(resolve(path)));
    } catch {
      // absent: nothing to hide
    }
  }
  return real;
}
