// The Server-Sent Events endpoint: one long response per open page, over which batches of
// changed URL paths are pushed.
//
// Wire format (https://html.spec.whatwg.org/multipage/server-sent-events.html): every message
// is an unnamed event whose data is one line of JSON, and carries an id "<server>.<seq>":
//   {"type":"hello","server":"<server>"}   first, on every (re)connection
//   {"type":"change","paths":["/css/site.css"]}
//   {"type":"reload"}                      you missed more than we remember: reload
// <server> is random per start, so a page that reconnects to a restarted server sees a new
// one in "hello" and reloads once. <seq> counts batches: a page that reconnects (the browser
// sends the last id it saw as Last-Event-ID; a page coming back to the foreground passes it
// as ?last=) is sent the paths it missed, merged into one "change".

import type { IncomingMessage, ServerResponse } from 'node:http';
import { textPlan, type HeaderList, type ResponsePlan } from '../respond.js';

/** The browser reconnects this long after losing the stream: short, so a restarted server is found quickly. */
const RECONNECT_DELAY_MS = 500;
/** A comment this often keeps proxies and tunnels from closing a quiet stream. */
const HEARTBEAT_INTERVAL_MS = 30_000;
/** A page that stops reading is dropped once this much waits for it, rather than buffered without bound. */
const MAX_QUEUED_BYTES = 1024 * 1024;
/** Batches remembered for pages that reconnect, bounded by count and by the paths they hold. */
const HISTORY_MAX_BATCHES = 100;
const HISTORY_MAX_PATHS = 10_000;
/** What a refused stream is told to wait before trying again. */
const RETRY_AFTER_SECONDS = 10;

const STREAM_HEADERS: HeaderList = [
  'content-type',
  'text/event-stream',
  // no-transform: a compressing proxy would otherwise hold events back to fill its buffers.
  'cache-control',
  'no-cache, no-transform',
  // nginx buffers responses unless told not to.
  'x-accel-buffering',
  'no',
];
export const METHODS_ALLOWED: HeaderList = ['allow', 'GET, HEAD'];

/** Writes a response's head (and a body held in memory): the server's one writer, with its header policy. */
export type Respond = (plan: ResponsePlan) => void;

type Message = { type: 'hello'; server: string } | { type: 'change'; paths: string[] } | { type: 'reload' };

interface Batch {
  seq: number;
  paths: string[];
}

export class EventHub {
  /** Identifies this server instance to the pages (URL-safe, no "."). */
  // Web Crypto's lazy global: loading node:crypto would add ~8 ms to every --watch start.
  readonly serverId = Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(9))).toString('base64url');
  readonly #streams = new Set<ServerResponse>();
  readonly #history: Batch[] = [];
  #historyPaths = 0;
  #seq = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(private readonly maxStreams: number) {}

  /** Number of open streams, i.e. of pages listening. */
  get size(): number {
    return this.#streams.size;
  }

  /**
   * Answers a request for the event stream: opens it, or refuses it with a status code.
   * The head goes out through `respond`; the events are then written to `res`.
   */
  accept(req: IncomingMessage, res: ServerResponse, respond: Respond): void {
    if (this.#closed) {
      // A network error (not a status) makes the browser retry, and find the restarted server.
      // (The response's own destroy: over HTTP/2 the stream, not the session's socket.)
      res.destroy();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return respond(textPlan(405, 'Method Not Allowed', METHODS_ALLOWED));
    if (isCrossOrigin(req)) return respond(textPlan(403, 'Forbidden: cross-origin request'));
    if (this.#streams.size >= this.maxStreams) {
      return respond(textPlan(503, 'Too many live-reload connections', ['retry-after', String(RETRY_AFTER_SECONDS)]));
    }

    respond({ status: 200, headers: STREAM_HEADERS, body: req.method === 'HEAD' ? { kind: 'none' } : { kind: 'open' } });
    if (req.method === 'HEAD') return;
    // The stream is idle between saves for as long as the page is open. The response's
    // own timeout: over HTTP/1.1 its socket's, over HTTP/2 its stream's, never the session's.
    res.setTimeout(0);
    const since = header(req, 'last-event-id') ?? queryParameter(req.url, 'last');
    res.write(`retry: ${RECONNECT_DELAY_MS}\n\n${this.#event({ type: 'hello', server: this.serverId })}${this.#catchUp(since)}`);
    this.#streams.add(res);
    res.on('close', () => {
      this.#streams.delete(res);
      if (this.#streams.size === 0) this.#stopHeartbeat();
    });
    this.#heartbeat ??= setInterval(() => this.#writeToAll(':\n\n'), HEARTBEAT_INTERVAL_MS).unref();
  }

  /** The id of the latest event: a page served now has seen everything up to it. */
  get lastEventId(): string {
    return `${this.serverId}.${this.#seq}`;
  }

  /** Sends a batch of changed URL paths to every open stream; returns how many were told. */
  broadcast(paths: string[]): number {
    this.#seq++;
    this.#remember({ seq: this.#seq, paths });
    return this.#writeToAll(this.#event({ type: 'change', paths }));
  }

  /** Ends every stream; later requests for the stream are dropped. */
  close(): void {
    this.#closed = true;
    this.#stopHeartbeat();
    for (const res of this.#streams) res.end();
    this.#streams.clear();
  }

  #writeToAll(chunk: string): number {
    let told = 0;
    for (const res of this.#streams) {
      if (res.writableLength > MAX_QUEUED_BYTES) {
        res.destroy();
        continue;
      }
      res.write(chunk);
      told++;
    }
    return told;
  }

  #event(message: Message): string {
    // JSON.stringify escapes line breaks, so the data is always a single "data:" line.
    return `id: ${this.serverId}.${this.#seq}\ndata: ${JSON.stringify(message)}\n\n`;
  }

  /** What a page that last saw event `lastEventId` has missed, as one event (or nothing). */
  #catchUp(lastEventId: string | undefined): string {
    if (lastEventId === undefined) return '';
    const dot = lastEventId.lastIndexOf('.');
    const seenSeq = Number(lastEventId.slice(dot + 1));
    // Another server's id: the "hello" already tells the page to reload.
    if (lastEventId.slice(0, dot) !== this.serverId || dot < 0) return '';
    if (!Number.isSafeInteger(seenSeq) || seenSeq < 0 || seenSeq >= this.#seq) return '';
    const oldest = this.#history[0];
    if (oldest === undefined || oldest.seq > seenSeq + 1) return this.#event({ type: 'reload' });
    const missed = new Set<string>();
    for (const batch of this.#history) {
      if (batch.seq > seenSeq) for (const path of batch.paths) missed.add(path);
    }
    return this.#event({ type: 'change', paths: [...missed] });
  }

  #remember(batch: Batch): void {
    this.#history.push(batch);
    this.#historyPaths += batch.paths.length;
    while (this.#history.length > HISTORY_MAX_BATCHES || (this.#historyPaths > HISTORY_MAX_PATHS && this.#history.length > 1)) {
      this.#historyPaths -= this.#history.shift()!.paths.length;
    }
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }
}

/**
 * Only pages served by this server may listen. A browser names the page's origin in `Origin`
 * on any cross-origin request (and on same-origin ones, sometimes), and says where a request
 * comes from in `Sec-Fetch-Site`; a page elsewhere, even on another port of localhost, is
 * refused. The host may also be the one a proxy or tunnel received (X-Forwarded-Host): a page
 * cannot set that header on an EventSource, so it cannot be used to get around the check.
 * Schemes are not compared: behind a TLS-terminating proxy the page is https and we are not,
 * and no other server can answer on our host and port with another scheme.
 */
export function isCrossOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  let originUrl: URL;
  try {
    originUrl = new URL(origin);
  } catch {
    // Includes "null", sent by sandboxed frames and opaque origins.
    return true;
  }
  const forwardedHost = header(req, 'x-forwarded-host')?.split(',')[0]?.trim();
  const hosts = [req.headers.host ?? header(req, ':authority'), forwardedHost];
  return !hosts.some((host) => host !== undefined && sameHost(originUrl, host));
}

/** Compares as URLs do, so that "localhost:80" and "LOCALHOST" are the same host for http. */
function sameHost(origin: URL, host: string): boolean {
  try {
    return new URL(`${origin.protocol}//${host}`).host === origin.host;
  } catch {
    return false;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function queryParameter(url: string | undefined, name: string): string | undefined {
  const queryStart = url?.indexOf('?') ?? -1;
  if (queryStart < 0) return undefined;
  return new URLSearchParams(url!.slice(queryStart + 1)).get(name) ?? undefined;
}
