// What the server has to tell, as data. Code below the CLI emits these events and never
// writes to the console or knows about colour; the CLI renders them as coloured text or as
// JSON lines (src/log.ts), and a library user receives them through `onEvent`.

import type { IncomingMessage, ServerResponse } from 'node:http';

/** Where a server listens: the first line of `--json`. */
export interface ListeningEvent {
  type: 'listening';
  /** Every URL to reach the server: the local ones, then the network ones. */
  urls: string[];
  /** The URLs other devices on the network can use (empty unless bound to 0.0.0.0 or ::). */
  network: string[];
  /** The port actually bound (after a fallback, or for port 0). */
  port: number;
  /** Absolute real path of the served folder. */
  directory: string;
}

/** One finished or aborted response. */
export interface RequestEvent {
  type: 'request';
  /** When the response ended, as an ISO 8601 string. */
  time: string;
  /** As the client sent them: not terminal-safe (the text rendering makes them so). */
  method: string;
  path: string;
  /** The status sent; an aborted response keeps the status it would have had. */
  status: number;
  /** Body bytes sent for this response, the head not counted (over HTTP/2: those its stream took). */
  bytes: number;
  ms: number;
  /** The connection closed before the response was complete. */
  aborted: boolean;
}

/** A batch of changes seen by the live-reload watcher, and how many pages were told. */
export interface ChangeEvent {
  type: 'change';
  /** URL paths relative to the root ("/css/site.css"; folders end in "/"). */
  paths: string[];
  pages: number;
}

/** The live-reload watcher has scanned the tree: changes from now on are seen. */
export interface WatchingEvent {
  type: 'watching';
  /** How long the scan took. */
  ms: number;
}

export type WarningCode =
  | 'connections-full'
  | 'host-refused'
  | 'host-refused-more'
  | 'out-of-descriptors'
  | 'watch-limit'
  | 'watcher-error'
  | 'page-charset'
  | 'open-failed'
  | 'qr-needs-network'
  | 'proxy-backend-down'
  | 'proxy-backend-timeout'
  | 'http2-session-closed';

/** Something the user may want to act on; the server runs on. */
export interface WarningEvent {
  type: 'warning';
  code: WarningCode;
  /** Which part says it: the text rendering starts the line with "serve-dir:" or "live reload:". */
  from: 'server' | 'live-reload';
  /** One line, without that prefix. May hold text from a file name or an error: not terminal-safe. */
  message: string;
}

/** A bug of ours: the request (or the change) was answered or told as well as possible, the server runs on. */
export interface ErrorEvent {
  type: 'error';
  /** What was being done: serving a request, or telling a change listener. */
  during: 'request' | 'change';
  /** `Name: message` of the error. */
  message: string;
  /** The stack frames, one per line, when the error had them. */
  stack?: string;
  /** The request being served, for `during: 'request'`. */
  request?: { method: string; path: string };
}

export type ServerEvent = ListeningEvent | RequestEvent | ChangeEvent | WatchingEvent | WarningEvent | ErrorEvent;

export type EmitEvent = (event: ServerEvent) => void;

/** The listening event of a server bound to `port`. */
export function listeningEvent(directory: string, port: number, urls: { local: string[]; network: string[] }): ListeningEvent {
  return { type: 'listening', urls: [...urls.local, ...urls.network], network: [...urls.network], port, directory };
}

/** `Name: message`, and the stack frames below it (without the head the stack repeats). */
export function errorDetails(error: unknown): { message: string; stack?: string } {
  if (!(error instanceof Error)) return { message: String(error) };
  const head = `${error.name}: ${error.message}`;
  const stack = error.stack ?? '';
  const framesAt = stack.startsWith(head) ? head.length : stack.search(/\n\s+at /);
  const frames = framesAt < 0 ? '' : stack.slice(framesAt).replace(/^\n+/, '');
  return frames === '' ? { message: head } : { message: head, stack: frames };
}

/** An internal error met while serving `req`. */
export function requestErrorEvent(method: string, path: string, error: unknown): ErrorEvent {
  return { type: 'error', during: 'request', ...errorDetails(error), request: { method, path } };
}

/** What the transport knows of a response on an HTTP/2 stream, which shares its socket with others. */
export interface StreamAccount {
  /** Body bytes the stream has taken. */
  bytes(): number;
  /** Reset before the response completed. */
  reset(): boolean;
}

/**
 * A request hook that emits one request event per finished (or aborted) response.
 * Over HTTP/2 the transport passes the stream's own account of it.
 */
export function emitRequests(emit: EmitEvent, skip: (req: IncomingMessage) => boolean = () => false) {
  return (req: IncomingMessage, res: ServerResponse, stream?: StreamAccount): void => {
    // The live-reload client's own requests are the tool talking to itself, not the site's traffic.
    if (skip(req)) return;
    const start = performance.now();
    // Under HTTP/2 the socket is the whole session's, shared by every stream on it.
    const http2 = req.httpVersionMajor === 2;
    const socket = req.socket;
    const writtenBefore = http2 ? 0 : socket.bytesWritten;
    res.once('close', () => {
      emit({
        type: 'request',
        time: new Date().toISOString(),
        method: req.method ?? '?',
        path: req.url ?? '',
        status: res.statusCode,
        bytes: http2 ? http2BodyBytes(req, res, stream) : bodyBytes(req, res, socket.bytesWritten - writtenBefore),
        ms: Math.round((performance.now() - start) * 10) / 10,
        aborted: !res.writableFinished || stream?.reset() === true,
      });
    });
  };
}

/**
 * Bytes of the body sent: what went on the wire for this response, less its header
 * block (a 1,087-byte page is 1,087 B, a 304 is 0 B). A chunked body counts its small
 * chunk framing too.
 */
function bodyBytes(req: IncomingMessage, res: ServerResponse, onWire: number): number {
  if (req.method === 'HEAD' || res.statusCode === 304 || res.statusCode === 204) return 0;
  const head = (res as ServerResponse & { _header?: string | null })._header;
  return Math.max(0, onWire - (typeof head === 'string' ? Buffer.byteLength(head, 'latin1') : 0));
}

/**
 * HTTP/2: the bytes the response's stream took, as the transport counted them (a
 * compressed stream without a length, a download cut short); without a count, the
 * declared length of a finished response.
 */
function http2BodyBytes(req: IncomingMessage, res: ServerResponse, stream: StreamAccount | undefined): number {
  if (req.method === 'HEAD' || res.statusCode === 304 || res.statusCode === 204) return 0;
  if (stream !== undefined) return stream.bytes();
  if (!res.writableFinished) return 0;
  const length = Number(res.getHeader('content-length'));
  return Number.isFinite(length) ? length : 0;
}
