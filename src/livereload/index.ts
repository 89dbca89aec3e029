// Live reload: watches the served tree and tells open pages what changed, over Server-Sent
// Events on the server's own origin, under a reserved prefix.
//
//   watcher.ts  fs.watch (chokidar to poll), ignores, batching -> batches of URL paths
//   index.ts    listeners (cache invalidation) first, then the pages, then one terminal line
//   hub.ts      the event stream                       <- GET /__serve-dir/events
//   client.ts   the browser script                     <- GET /__serve-dir/client.js
//   inject.ts   the script tag into HTML pages

import type { IncomingMessage, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import { listMatches } from '../http/etag.js';
import { errorDetails, type EmitEvent } from '../events.js';
import { buildClientScript } from './client.js';
import { textPlan } from '../respond.js';
import { EventHub, METHODS_ALLOWED, type Respond } from './hub.js';
import { watchTree } from './watcher.js';

export { incompatibleCharset, injectScript, pageFileCharset, PageFileScans, type PageScan } from './inject.js';

export const LIVERELOAD_PREFIX = '/__serve-dir/';
const CLIENT_PATH = `${LIVERELOAD_PREFIX}client.js`;
export const EVENTS_PATH = `${LIVERELOAD_PREFIX}events`;
const DEFAULT_MAX_STREAMS = 100;

export interface LiveReloadOptions {
  /** Absolute real path of the served directory. */
  root: string;
  /** Extra globs/paths to ignore, relative to the root (.git and node_modules always are). */
  ignore: string[];
  /** Watch by polling (with chokidar) instead of the OS's change notifications. */
  poll: boolean;
  /** One change event per batch of changes (unless `quiet`), and one warning per watcher problem (always). */
  emit: EmitEvent;
  /** No line per batch of changes; problems are still told. */
  quiet?: boolean;
  /** Cap of open event streams; beyond it the stream is refused with 503. Default 100. */
  maxStreams?: number;
  /**
   * Whether pages may hear of a changed URL path: a request for it would be served (or was, for
   * a file just deleted). The server decides by its own rules; by default every path is told.
   */
  announces?: (urlPath: string) => boolean;
}

export interface LiveReload {
  /**
   * Answers a request whose path starts with LIVERELOAD_PREFIX: `client.js` (the browser
   * script) or `events` (the event stream; cross-origin requests get 403, streams beyond the
   * cap 503). Returns false for any other path under the prefix (the caller answers 404).
   * Every answer goes out through `respond`, the caller's one writer; the event stream's
   * events are then written to `res`.
   */
  handle(req: IncomingMessage, res: ServerResponse, respond: Respond): boolean;
  /**
   * Subscribes to batches of changed URL paths relative to the root ("/css/site.css"; folders
   * end in "/"). Listeners are called before the pages are told, so caches can be invalidated
   * first.
   */
  onChange(listener: (urlPaths: string[]) => void): void;
  /**
   * The tag to give injectScript. It names the latest event, so a page connects
   * asking for whatever changed after it was served: a save that lands while the
   * page is (re)loading, before its stream is open, is not lost.
   */
  readonly scriptTag: string;
  /** The id of the latest event (the one the script tag names now). */
  readonly lastEventId: string;
  /** Resolves when the watcher's initial scan is done. */
  readonly ready: Promise<void>;
  /** Stops watching and ends every event stream (so the HTTP server can close). */
  close(): Promise<void>;
}

export async function startLiveReload(options: LiveReloadOptions): Promise<LiveReload> {
  const hub = new EventHub(options.maxStreams ?? DEFAULT_MAX_STREAMS);
  const listeners: ((urlPaths: string[]) => void)[] = [];
  const clientScript = createClientScriptResponder();

  const watcher = await watchTree({
    root: options.root,
    ignore: options.ignore,
    poll: options.poll,
    emit: options.emit,
    onBatch(changed) {
      for (const listener of listeners) {
        try {
          listener(changed);
        } catch (error) {
          // A bug of ours, but the pages should still hear of the change.
          options.emit({ type: 'error', during: 'change', ...errorDetails(error) });
        }
      }
      // A name no request can be served for (one the path guard refuses, a link leading out of
      // the root) is nobody's business, and a page could do nothing with it.
      const urlPaths = options.announces === undefined ? changed : changed.filter(options.announces);
      if (urlPaths.length === 0) return;
      const told = hub.broadcast(urlPaths);
      if (!options.quiet) options.emit({ type: 'change', paths: urlPaths, pages: told });
    },
  });

  return {
    handle(req, res, respond) {
      const path = pathOf(req.url ?? '');
      if (path === CLIENT_PATH) clientScript(req, respond);
      else if (path === EVENTS_PATH) hub.accept(req, res, respond);
      else return false;
      return true;
    },
    onChange(listener) {
      listeners.push(listener);
    },
    get scriptTag() {
      return `<script src="${CLIENT_PATH}" data-since="${hub.lastEventId}"></script>`;
    },
    get lastEventId() {
      return hub.lastEventId;
    },
    ready: watcher.ready,
    async close() {
      hub.close();
      await watcher.close();
    },
  };
}

/** Serves the client script: revalidated on every page load (no-cache), answered 304 when unchanged. */
function createClientScriptResponder(): (req: IncomingMessage, respond: Respond) => void {
  const bytes = Buffer.from(buildClientScript(EVENTS_PATH), 'utf8');
  // The script is built into this version of serve-dir; a checksum names it well enough.
  const etag = `"${bytes.length.toString(36)}-${crc32(bytes).toString(36)}"`;
  // RFC 9110 §15.4.5: a 304 carries the validators and caching fields, not the content's metadata.
  const validators = ['cache-control', 'no-cache', 'etag', etag];
  return (req, respond) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return respond(textPlan(405, 'Method Not Allowed', METHODS_ALLOWED));
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifNoneMatch !== undefined && listMatches(ifNoneMatch, etag, 'weak')) {
      return respond({ status: 304, headers: validators, body: { kind: 'none' } });
    }
    const headers = [...validators, 'content-type', 'text/javascript; charset=utf-8', 'content-length', bytes.length];
    respond({ status: 200, headers, body: { kind: 'bytes', bytes } });
  };
}

/** The path of a request target, without its query (origin-form or absolute-form). */
function pathOf(target: string): string {
  const queryStart = target.indexOf('?');
  const withoutQuery = queryStart < 0 ? target : target.slice(0, queryStart);
  if (withoutQuery.startsWith('/')) return withoutQuery;
  try {
    return new URL(withoutQuery).pathname;
  } catch {
    return withoutQuery;
  }
}
