import { createServer as createHttpServer, maxHeaderSize, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { constants, createSecureServer, type Http2SecureServer, type Http2Session, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';
import { buildHandler, type Handler } from './handler.js';
import { endWithSlices, systemWriteSlice } from './write-slices.js';
import { emitRequests, listeningEvent } from './events.js';
import { resolveOptions, UsageError, type Options, type ResolvedOptions } from './options.js';
import { LIVERELOAD_PREFIX } from './stages/livereload.js';
import type { UpgradedConnection } from './stages/proxy.js';
import { ALLOW } from './stages/method.js';
import { planBytes, writeResponse } from './respond.js';
import { serverCredentials, type ServerCredentials } from './tls/wiring.js';

export interface RunningServer {
  /**
   * The node:http server, node:https with TLS, node:http2's secure server with TLS and
   * HTTP/2 (it also serves connections accepted on the IPv6 loopback).
   */
  server: Server;
  /** The certificate's SHA-256 fingerprint with TLS, and its file when `https` just made it. */
  tls?: { fingerprint256: string; createdPath?: string };
  handler: Handler;
  /** The port actually bound (differs from the one asked for after a fallback or with port 0). */
  port: number;
  /** URLs to open on this machine. */
  urls: { local: string[]; network: string[] };
  /** Stop accepting, let in-flight responses finish (up to `graceMs`), then close everything. */
  close(graceMs?: number): Promise<void>;
}

/** How many ports above a busy default port are tried. */
const PORT_ATTEMPTS = 50;
/** Limits that keep one slow or hostile client from starving the others (slowloris). */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/**
 * How often Node looks for connections past the two timeouts above. Its default
 * (30 s) would let a slowloris client hold a connection for up to 40 s instead of 10.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/**
 * HTTP/2 limits (RFC 9113), chosen one by one; each bounds what one session (one
 * TLS connection) can make this process hold or do. See `http2Options`.
 *
 * Streams open at once: nginx's default (128). A browser loading a page of 300
 * modules queues the rest, as it queues over six HTTP/1.1 connections, but on one
 * TLS handshake; more would let a client make us work on more files at once.
 */
const H2_MAX_CONCURRENT_STREAMS = 128;
/**
 * Streams opened past that cap are refused (REFUSED_STREAM); a client that keeps
 * opening them after this many has ignored our SETTINGS and loses its session.
 * Node's default, kept: a client that read the cap never gets here, and the race
 * of a session's first flight (before our SETTINGS arrive) costs a client fewer.
 */
const H2_MAX_REJECTED_STREAMS = 100;
/**
 * Frames the protocol calls invalid that a session may send before it is closed.
 * A correct client sends none; Node's default (1000) lets a hostile one make the
 * process parse and log a thousand broken frames per connection.
 */
const H2_MAX_INVALID_FRAMES = 32;
/**
 * Header fields per request. Node's default, named here: a browser sends 10 to 20,
 * and HTTP/1.1 requests are bounded by size alone (`maxHeaderSize`).
 */
const H2_MAX_HEADER_PAIRS = 128;
/**
 * MB that one session may hold (HPACK tables, stream state, and the data queued to go
 * out, which is most of it) before node:http2 refuses it new streams with
 * ENHANCE_YOUR_CALM; Node's unit is the megabyte. 128 streams each reading a file in
 * 64 KiB chunks hold about 8 MB: a client downloading 128 files of 1 MiB at once on one
 * connection (h2load -c1 -m128) had 103 of 1024 streams refused with 4, 1 with Node's
 * default of 10, none with 16. The bound per connection, times the connection cap, is
 * what a hostile client could make us queue; a client that stops reading is cut by the
 * idle timeout below.
 */
const H2_MAX_SESSION_MEMORY_MB = 16;
/**
 * How long a session may go without a frame sent or received before it is closed:
 * a client that opened a connection and says nothing, or stopped reading (flow
 * control then holds our frames, so nothing moves). Longer than the live-reload
 * heartbeat (30 s, `livereload/hub.ts`), whose writes keep a page's session alive.
 */
const H2_SESSION_IDLE_TIMEOUT_MS = 45_000;
/** Per listening socket: with the default `localhost`, 127.0.0.1 and ::1 each have this cap. */
export const MAX_CONNECTIONS = 1024;

/**
 * Start serving. With the default `localhost`, the server listens on both
 * 127.0.0.1 and ::1 (when the machine has IPv6), so `http://localhost:PORT`
 * works however the browser resolves the name; other addresses bind as given.
 */
export async function startServer(options: Options = {}): Promise<RunningServer> {
  // A server of its own knows its addresses: the DNS-rebinding defence is on unless turned off.
  const resolved = resolveOptions({ ...options, checkHost: options.checkHost ?? true });
  const credentials = await serverCredentials(options);
  const useHttp2 = credentials !== undefined && options.http2 !== false;
  // Our own sockets: bodies go out in slices where TCP paces (write-slices.ts). An
  // HTTP/2 stream shares its session's socket, whose tuning is not a response's to touch.
  const slice = systemWriteSlice();
  const upgrades = new WeakMap<IncomingMessage, UpgradedConnection>();
  const handler = buildHandler(resolved, {
    endBody:
      slice === Infinity
        ? (res, body) => res.end(body)
        : (res, body) => (isHttp2(res) ? res.end(body) : endWithSlices(res, body, slice)),
    upgradeOf: (req) => upgrades.get(req),
  });

  const server = createTransport(credentials, useHttp2);
  server.maxConnections = MAX_CONNECTIONS;
  const stalls = resolved.stallTimeout > 0 ? new StallWatch(resolved.stallTimeout * 1000) : undefined;
  // Under TLS this is the TCP socket under the TLS one: the kernel's queue is the same.
  // An HTTP/2 stream that a client stops reading is held by flow control in our
  // process, not on the socket: HTTP/2 relies on its session limits (SECURITY.md).
  server.on('connection', (socket: Socket) => stalls?.watch(socket));
  const sessions = new Set<ServerHttp2Session>();
  if (useHttp2) {
    trackSockets(server);
    (server as Http2SecureServer).on('session', (session: ServerHttp2Session) => {
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
    });
    watchHttp2Sessions(server as Http2SecureServer, resolved.emit);
  }
  let warnedFull = false;
  server.on('drop', (refused?: { localAddress?: string }) => {
    // Full: the connection that has kept bytes waiting longest without taking them
    // makes room at once, so that the client turned away now finds a place when it tries again.
    stalls?.evictOne(refused?.localAddress);
    if (warnedFull) return;
    warnedFull = true;
    resolved.emit({ type: 'warning', code: 'connections-full', from: 'server', message: `${MAX_CONNECTIONS} connections open; refusing more until some close` });
  });
  const log = resolved.quiet
    ? undefined
    : emitRequests(resolved.emit, (req) => resolved.watch && (req.url ?? '').startsWith(LIVERELOAD_PREFIX));
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    // An HTTP/2 stream shares its session's socket: its own bytes are counted as handed over.
    const sent = isHttp2(res) && (log !== undefined || stalls !== undefined) ? meterStream(res) : undefined;
    if (sent !== undefined) stalls?.watchStream(sent);
    log?.(req, res, sent);
    if (hasUndeterminedLength(req)) return refuseFraming(res);
    handler(req, res);
  };
  server.on('request', onRequest);
  // HTTP/1.1 Upgrade (WebSocket), listened to only when a proxy route may tunnel it: without a
  // listener node answers Upgrade requests as plain ones. The request runs the pipeline like any
  // other (Host check, auth) on a response of its own; the proxy stage takes the socket for a
  // tunnel, and any other answer closes the connection after it.
  const tunnels = resolved.proxy.some((route) => route.ws);
  if (tunnels) {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      upgrades.set(req, { via: 'upgrade', socket, head });
      const res = new ServerResponse(req);
      res.shouldKeepAlive = false;
      res.assignSocket(socket as Socket);
      res.once('finish', () => socket.end());
      socket.on('error', () => socket.destroy());
      onRequest(req, res);
    });
    // HTTP/2: WebSocket by extended CONNECT (RFC 8441), announced once the session is set up.
    if (useHttp2) (server as Http2SecureServer).on('session', (session: ServerHttp2Session) => session.settings({ enableConnectProtocol: true }));
  }
  // Node hands CONNECT to 'connect' listeners, not to 'request', and drops the
  // connection without a word when there are none. A file server tunnels
  // nothing: answer 405 as the method stage does for every other method.
  // Over HTTP/2, node:http2 hands it the request and its response instead of a socket.
  server.on('connect', (req: IncomingMessage, socket: Duplex | ServerResponse) => {
    // Told apart by what node handed us, not the version the client claimed: a raw
    // HTTP/1 request line may say "HTTP/2.0" and still come with a bare socket.
    if ('writeHead' in socket) {
      if (tunnels && req.headers[':protocol'] === 'websocket') {
        upgrades.set(req, { via: 'connect', socket: (socket as unknown as { stream: Duplex }).stream, head: Buffer.alloc(0) });
        return onRequest(req, socket);
      }
      return writeResponse(socket, { status: 405, headers: ['allow', ALLOW, 'content-length', 0], body: { kind: 'none' } });
    }
    (socket as Duplex).end(planBytes({ status: 405, headers: ['Allow', ALLOW, 'Connection', 'close', 'Content-Length', 0], body: { kind: 'none' } }));
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // Malformed requests get a plain 400 (or 431/408) and never reach the handler.
    // Once a response has begun on this connection (the error is in the body of a
    // request already being answered), writing one more would splice it into that
    // response's body: cut the connection instead.
    if (!socket.writable || error.code === 'ECONNRESET' || responseStarted(socket)) return socket.destroy();
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    socket.end(planBytes({ status, headers: ['Connection', 'close', 'Content-Length', 0], body: { kind: 'none' } }));
  });

  let bound: Awaited<ReturnType<typeof listen>>;
  try {
    // Told as each socket binds, before any request on it is read.
    bound = await listen(server, resolved, handler.listeningOn);
  } catch (error) {
    await handler.close(); // a watcher started for nothing would outlive the failure
    throw error;
  }
  const { port, extra } = bound;
  const urls = urlsFor(resolved.bind, port, credentials === undefined ? 'http' : 'https');
  resolved.emit(listeningEvent(resolved.root, port, urls));
  return {
    // Typed as node:http's Server for the existing API: with HTTP/2 it is node:http2's
    // secure server, which has the same listening and HTTP/1.1 members but not the
    // HTTP/1 timeouts (headersTimeout and friends are undefined there).
    server: server as Server,
    handler,
    port,
    urls,
    ...(credentials === undefined ? {} : { tls: { fingerprint256: credentials.fingerprint256, ...(credentials.createdPath === undefined ? {} : { createdPath: credentials.createdPath }) } }),
    close: async (graceMs = 2000) => {
      await closeGracefully(server, sessions, extra, handler, graceMs);
      stalls?.close();
    },
  };
}

type AnyServer = Server | HttpsServer | Http2SecureServer;

function createTransport(credentials: ServerCredentials | undefined, useHttp2: boolean): AnyServer {
  const limits = {
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
    // Refuse ambiguous framing instead of guessing (request smuggling).
    insecureHTTPParser: false,
    requireHostHeader: true,
  };
  if (credentials === undefined) return createHttpServer(limits);
  const { cert, key } = credentials;
  if (!useHttp2) return createHttpsServer({ ...limits, cert, key });
  // ALPN offers h2 and http/1.1; HTTP/1.1 clients get node:http's parser.
  // noDelay: Nagle's algorithm off, as node:http and node:https have it on their sockets
  // and node:http2 does not: without it the HTTP/1.1 connections this server takes would
  // differ from the same ones on the --no-http2 server, where a response leaving in two
  // writes cannot have its second wait for the client's delayed ACK.
  const server = createSecureServer({ cert, key, allowHTTP1: true, noDelay: true, ...http2Options() });
  // node:http2 ignores the HTTP/1 limits among its options and sets its own on the
  // server (60 s for headers, 300 s per request, checked every 30 s, no keep-alive
  // timeout, no Host required); node:http reads them from the server, so they are set there.
  Object.assign(server, limits);
  server.setTimeout(H2_SESSION_IDLE_TIMEOUT_MS);
  return server;
}

/** node:http2's session limits, as chosen above (the settings part is sent to each client). */
function http2Options() {
  return {
    settings: {
      maxConcurrentStreams: H2_MAX_CONCURRENT_STREAMS,
      // The same bound as an HTTP/1.1 head (16 KiB unless --max-http-header-size says
      // otherwise). HTTP/2 counts 32 bytes more per field (RFC 9113 §6.5.2), where
      // HTTP/1.1 spends 4 on ": " and CRLF: a request fitting one fits the other within a few hundred bytes.
      maxHeaderListSize: maxHeaderSize,
    },
    maxHeaderListPairs: H2_MAX_HEADER_PAIRS,
    maxSessionMemory: H2_MAX_SESSION_MEMORY_MB,
    maxSessionInvalidFrames: H2_MAX_INVALID_FRAMES,
    maxSessionRejectedStreams: H2_MAX_REJECTED_STREAMS,
    // A backstop: with allowHTTP1, only a TLS client that negotiated some other protocol
    // gets there; it is answered 403 and cut after the HTTP/1 headers timeout.
    unknownProtocolTimeout: HEADERS_TIMEOUT_MS,
  };
}

/**
 * Streams a client may cancel before their answer is complete: at most this many at
 * once, and this many more each second after (a token bucket per session). Rapid
 * reset (CVE-2023-44487) opens a stream and cancels it at once, over and over: each
 * costs us the stream's setup and the start of its answer, the client nothing.
 * nghttp2's own limit (1000 at once, then 33 a second) let one connection take
 * about 50 ms of our CPU before its GOAWAY; with this one, about 10 ms, near the
 * cost of the TLS handshake the attacker pays for the next connection (measured with
 * the attacker of test/hardening/http2.test.ts: in 3 s, for the same CPU, nghttp2 cut
 * 46 connections and this limit 236).
 * A browser leaving a page cancels at most its open streams (128) at once.
 */
const H2_RESET_BURST = 2 * H2_MAX_CONCURRENT_STREAMS;
const H2_RESETS_PER_SECOND = H2_MAX_CONCURRENT_STREAMS / 2;

/**
 * A client that breaks HTTP/2's rules or our limits (invalid frames, too many
 * refused streams, a flood of settings or pings, an oversized header block,
 * CONTINUATION floods as in CVE-2024-27316) has its session torn down by node:http2
 * with a GOAWAY; what is left to us is to close it without a stack trace, let the
 * user know once, and serve everyone else. Rapid reset is counted here (above).
 */
function watchHttp2Sessions(server: Http2SecureServer, emit: ResolvedOptions['emit']): void {
  let warned = false;
  const warnOnce = (why: string) => {
    if (warned) return;
    warned = true;
    emit({ type: 'warning', code: 'http2-session-closed', from: 'server', message: `closed an HTTP/2 client's connection: ${why} (later ones are not reported)` });
  };
  server.on('sessionError', (error: NodeJS.ErrnoException, session: ServerHttp2Session) => {
    // Node is destroying the session already; a client that cut its connection
    // (ECONNRESET and the like) is no news, a broken protocol is.
    if (!session.destroyed) session.destroy();
    if (error.code?.startsWith('ERR_HTTP2') === true) warnOnce(`${error.code}: ${error.message}`);
  });
  const resets = new WeakMap<Http2Session, { tokens: number; at: number }>();
  server.on('stream', (stream: ServerHttp2Stream) => {
    const session = stream.session; // a closed stream no longer knows it
    stream.once('close', () => {
      if (stream.rstCode === constants.NGHTTP2_NO_ERROR || stream.writableFinished) return;
      if (session === undefined || session.destroyed) return;
      const now = performance.now();
      const bucket = resets.get(session) ?? { tokens: H2_RESET_BURST, at: now };
      bucket.tokens = Math.min(H2_RESET_BURST, bucket.tokens + ((now - bucket.at) / 1000) * H2_RESETS_PER_SECOND) - 1;
      bucket.at = now;
      resets.set(session, bucket);
      if (bucket.tokens >= 0) return;
      session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
      session.destroy();
      warnOnce('too many streams cancelled (rapid reset)');
    });
  });
}

/** Whether this response goes out on an HTTP/2 stream (node:http2's compatibility API). */
function isHttp2(res: ServerResponse): boolean {
  return (res as ServerResponse & { stream?: unknown }).stream !== undefined;
}

/**
 * Cuts connections whose response has bytes waiting that the client does not take.
 * Without it, a client that asks for a large file and never reads holds its
 * connection, an open file and read buffers for ever, and enough of them hold
 * every place under the connection cap. Progress is watched where bytes leave the
 * process, the kernel taking them off the socket's queue, so every body is covered
 * alike: in-memory bodies in write slices, streamed files, compressed streams
 * (whose compressor waits on the same queue). A connection with nothing waiting is
 * never stalled: an idle keep-alive connection (it has its own timeout), a
 * live-reload stream between events, a request still being worked on.
 * An HTTP/2 stream a client stops reading is held by flow control in this process,
 * while the session's socket may stay busy with other streams: each stream is
 * sampled too, by the bytes it has handed on, and cut alone (RST_STREAM).
 */
class StallWatch {
  readonly #sockets = new Map<Socket, WriteProgress>();
  readonly #streams = new Map<MeteredStream, WriteProgress>();
  readonly #intervalMs: number;
  readonly #timer: NodeJS.Timeout;
  #lastSweep = performance.now();

  constructor(private readonly stallMs: number) {
    // Checked ten times per timeout, at least once a second: a stalled response is cut
    // within a tenth of the timeout (a second at most) after it expires.
    this.#intervalMs = Math.min(1000, Math.max(10, stallMs / 10));
    this.#timer = setInterval(() => this.#sweep(), this.#intervalMs).unref();
  }

  watch(socket: Socket): void {
    this.#sockets.set(socket, { taken: 0, since: performance.now(), waiting: false });
    socket.once('close', () => this.#sockets.delete(socket));
  }

  /**
   * Cut the connection on `localAddress` (the listening address that is full) whose
   * bytes have waited longest without progress, if that is a tenth of the stall
   * timeout or more: a client that reads, even slowly, moves its bytes sooner.
   */
  evictOne(localAddress: string | undefined): void {
    const now = performance.now();
    let oldest: [Socket, WriteProgress] | undefined;
    for (const entry of this.#sockets) {
      const [socket, mark] = entry;
      if (!mark.waiting || socket.destroyed || (localAddress !== undefined && socket.localAddress !== localAddress)) continue;
      if (oldest === undefined || mark.since < oldest[1].since) oldest = entry;
    }
    if (oldest !== undefined && now - oldest[1].since >= this.stallMs / 10) oldest[0].destroy();
  }

  watchStream(stream: MeteredStream): void {
    this.#streams.set(stream, { taken: 0, since: performance.now(), waiting: false });
    stream.closed.then(() => this.#streams.delete(stream));
  }

  close(): void {
    clearInterval(this.#timer);
    this.#sockets.clear();
    this.#streams.clear();
  }

  #sweep(): void {
    const now = performance.now();
    // While this process was held up for half the timeout or more (a long synchronous
    // task, a paused VM), nothing could be sent: that time is not held against the
    // clients. Ordinary lateness under load is: a server kept busy must still cut.
    const late = now - this.#lastSweep - this.#intervalMs;
    this.#lastSweep = now;
    for (const [socket, mark] of this.#sockets) {
      if (socket.destroyed) continue;
      if (late >= this.stallMs / 2) mark.since += late;
      const { waiting, taken } = writeProgress(socket);
      mark.waiting = waiting;
      if (!waiting || taken - mark.taken >= MIN_PROGRESS_BYTES) {
        mark.taken = taken;
        mark.since = now;
      } else if (now - mark.since >= this.stallMs) {
        socket.destroy();
      }
    }
    for (const [stream, mark] of this.#streams) {
      if (late >= this.stallMs / 2) mark.since += late;
      const waiting = stream.waiting();
      const taken = stream.bytes();
      mark.waiting = waiting;
      if (!waiting || taken - mark.taken >= MIN_PROGRESS_BYTES) {
        mark.taken = taken;
        mark.since = now;
      } else if (now - mark.since >= this.stallMs) {
        stream.cut();
      }
    }
  }
}

/** A response on an HTTP/2 stream, with its own byte count (see meterStream). */
interface MeteredStream {
  /** Body bytes the stream has taken from the response (handed to the session, sent or queued there). */
  bytes(): number;
  /** Whether bytes wait in the stream, held back by the client's flow-control window. */
  waiting(): boolean;
  /** Reset the stream (CANCEL), leaving its session and the other streams alone. */
  cut(): void;
  /** The stream was reset before the response completed (node:http2 emits 'finish' on any close). */
  reset(): boolean;
  closed: Promise<void>;
}

/**
 * Count what a response writes to its HTTP/2 stream. The session's socket counts every
 * stream's bytes and node:http2 keeps no count per stream, so the response's writes are
 * counted as they are made; what still waits in the stream is not yet taken. The count
 * moves by whole writes (the stream hands its queued writes on together), which is why
 * send.ts keeps a file's writes to 64 KiB on HTTP/2: a stream then must move about as
 * much per stall timeout as an HTTP/1 socket (MIN_PROGRESS_BYTES).
 */
function meterStream(res: ServerResponse): MeteredStream {
  const stream = (res as ServerResponse & { stream: ServerHttp2Stream }).stream;
  let handed = 0;
  // node:http2's end() writes its last chunk through write(): counting write() counts all.
  const writable = res as unknown as { write: (...args: unknown[]) => boolean };
  const { write } = writable;
  writable.write = (...args: unknown[]) => {
    const [chunk, encoding] = args;
    if (typeof chunk === 'string') handed += Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    else if (chunk instanceof Uint8Array) handed += chunk.byteLength;
    return write.apply(res, args);
  };
  return {
    bytes: () => handed - stream.writableLength,
    waiting: () => !stream.destroyed && stream.writableLength > 0,
    cut: () => stream.close(constants.NGHTTP2_CANCEL),
    reset: () => stream.rstCode !== undefined && stream.rstCode !== constants.NGHTTP2_NO_ERROR,
    closed: new Promise((resolve) => stream.once('close', resolve)),
  };
}

/**
 * The least a response with bytes waiting must move in each stall timeout. Any byte
 * at all would not do: a client can take one a minute, and when thousands of stalled
 * connections fill the kernel's memory for TCP, it lets each of them take a little
 * from time to time. 64 KiB in 30 s is 2 KiB/s, slower than any real link.
 */
const MIN_PROGRESS_BYTES = 64 * 1024;

interface WriteProgress {
  /** Bytes the kernel had taken from this socket at `since`. */
  taken: number;
  /** When the connection last had nothing waiting, or last moved MIN_PROGRESS_BYTES. */
  since: number;
  /** Whether bytes were waiting when last looked at. */
  waiting: boolean;
}

type SocketInternals = Socket & { _bytesDispatched?: number; _handle?: { writeQueueSize?: number } | null };

/** Whether bytes wait to go out on `socket`, and how many the kernel has taken so far. */
function writeProgress(socket: Socket): { waiting: boolean; taken: number } {
  const internals = socket as SocketInternals;
  const buffered = socket.writableLength;
  // Handed to libuv and not yet taken by the kernel: this shrinks as the kernel takes
  // part of one large write, which completes only once all of it is taken.
  const queued = internals._handle?.writeQueueSize ?? 0;
  const dispatched = internals._bytesDispatched;
  // Without Node's count of bytes handed to libuv (it has had it since 0.x), the
  // writes that completed: coarser, a large write counts only once all of it is taken.
  const taken = dispatched === undefined ? socket.bytesWritten - buffered : dispatched - queued;
  return { waiting: buffered > 0 || queued > 0, taken };
}

/**
 * RFC 9112 §6.3: when a request's Transfer-Encoding does not end in chunked, its
 * length cannot be known, and the server MUST answer 400 and close. Node's parser
 * finds this out only after it has handed the request over, so it is checked here.
 */
function hasUndeterminedLength(req: IncomingMessage): boolean {
  const codings = req.headers['transfer-encoding'];
  return codings !== undefined && !/(?:^|,)[ \t]*chunked[ \t]*$/i.test(codings);
}

function refuseFraming(res: ServerResponse): void {
  writeResponse(res, { status: 400, headers: ['connection', 'close', 'content-length', 0], body: { kind: 'none' } });
}

/** Whether a response has put bytes on this socket (the check Node's own clientError default makes). */
function responseStarted(socket: Socket): boolean {
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  return inFlight != null && inFlight.headersSent;
}

/**
 * Listen on the configured address, moving to the next port when the default one
 * is busy. `onBound` hears the addresses of the sockets listening so far, as
 * `server.address()` reports them, each time one more binds: it runs in the
 * same tick as the 'listening' event, before any connection is read.
 */
async function listen(
  server: AnyServer,
  options: ResolvedOptions,
  onBound: (addresses: string[]) => void,
): Promise<{ port: number; extra: NetServer | undefined }> {
  const dualStack = options.bind === 'localhost';
  const primary = dualStack ? '127.0.0.1' : options.bind;
  let port = options.port;
  for (let attempt = 0; ; attempt++) {
    try {
      const bound = await listenOn(server, primary, port);
      onBound([boundAddress(server)]);
      if (!dualStack) return { port: bound, extra: undefined };
      const extra = await listenIpv6Loopback(server, bound);
      if (extra !== 'busy') {
        if (extra !== undefined) onBound([boundAddress(server), boundAddress(extra)]);
        return { port: bound, extra };
      }
      await new Promise<void>((done) => server.close(() => done()));
      throw Object.assign(new Error('::1 busy'), { code: 'EADDRINUSE' });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const retry = code === 'EADDRINUSE' && (!options.strictPort || options.port === 0) && attempt < PORT_ATTEMPTS;
      if (retry) {
        if (options.port !== 0) port++;
        continue;
      }
      throw listenError(error, options.bind, port);
    }
  }
}

/** The address a listening socket is bound to, e.g. '127.0.0.1' for `--bind 127.1`. */
function boundAddress(server: AnyServer | NetServer): string {
  const address = server.address();
  return typeof address === 'object' && address !== null ? address.address : '';
}

function listenOn(server: AnyServer | NetServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}

/**
 * A second listening socket on ::1 whose connections the HTTP server handles.
 * 'busy' when the port is taken there; undefined when the machine has no IPv6.
 */
async function listenIpv6Loopback(server: AnyServer, port: number): Promise<NetServer | undefined | 'busy'> {
  const extra = createNetServer({ pauseOnConnect: false }, (socket) => server.emit('connection', socket));
  extra.maxConnections = server.maxConnections;
  extra.on('drop', (data) => server.emit('drop', data));
  try {
    await listenOn(extra, '::1', port);
    return extra;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') return 'busy';
    return undefined; // EADDRNOTAVAIL, EAFNOSUPPORT: no IPv6 loopback here
  }
}

function listenError(error: unknown, bind: string, port: number): Error {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EADDRINUSE':
      return new UsageError(`port ${port} is already in use (choose another with --port, or --port 0 for any free port)`);
    case 'EACCES':
      return new UsageError(`permission denied to listen on port ${port}${port < 1024 ? ' (ports below 1024 need privileges)' : ''}`);
    case 'EADDRNOTAVAIL':
      return new UsageError(`address not available: ${bind} is not an address of this machine`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UsageError(`cannot resolve host name: ${bind}`);
    default:
      return error instanceof Error ? error : new Error(String(error));
  }
}

/** Local and network URLs for the banner: a wildcard bind lists every external address. */
export function urlsFor(bind: string, port: number, scheme: 'http' | 'https' = 'http'): { local: string[]; network: string[] } {
  const url = (host: string) => `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (bind !== '0.0.0.0' && bind !== '::' && bind !== '[::]') return { local: [url(bind)], network: [] };
  const network: string[] = [];
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.internal) continue;
      if (address.family === 'IPv4' || (bind !== '0.0.0.0' && !address.address.startsWith('fe80:'))) network.push(url(address.address));
    }
  }
  return { local: [url('localhost')], network };
}

/**
 * Stop accepting, drop idle keep-alive connections at once, let responses in
 * flight finish for up to `graceMs`, then cut whatever is left.
 */
async function closeGracefully(
  server: AnyServer,
  sessions: ReadonlySet<ServerHttp2Session>,
  extra: NetServer | undefined,
  handler: Handler,
  graceMs: number,
): Promise<void> {
  await handler.close();
  const closed = new Promise<void>((done) => server.close(() => done()));
  extra?.close();
  // HTTP/2: GOAWAY, so clients open no new streams; those in flight may finish.
  for (const session of sessions) session.close();
  if ('closeIdleConnections' in server) server.closeIdleConnections();
  const timer = setTimeout(() => {
    if ('closeAllConnections' in server) server.closeAllConnections();
    for (const session of sessions) session.destroy();
    // HTTP/1.1 connections on the HTTP/2 server (allowHTTP1) are not tracked by it.
    for (const socket of sockets(server)) socket.destroy();
  }, graceMs);
  await closed;
  clearTimeout(timer);
}

const SOCKETS = new WeakMap<AnyServer, Set<Socket>>();

/** Every TCP socket a server has accepted and not yet seen close. */
function trackSockets(server: AnyServer): void {
  const set = new Set<Socket>();
  SOCKETS.set(server, set);
  server.on('connection', (socket: Socket) => {
    set.add(socket);
    socket.once('close', () => set.delete(socket));
  });
}

function sockets(server: AnyServer): Iterable<Socket> {
  return SOCKETS.get(server) ?? [];
}
