/**
 * Raw-socket clients for hardening tests: requests written byte for byte (never
 * normalised), every response on a connection split apart, slow and aborting
 * clients, and bounded concurrency. They never reject on a reset or a hang:
 * hostile input is expected to end badly, and the test decides what is bad.
 */
import { connect, type Socket } from 'node:net';
import { parseResponse, type RawResponse } from './server.js';

export interface RawRequest {
  method?: string;
  /** Written verbatim on the request line; a string is sent as latin1 (one char, one byte). */
  target: string | Buffer;
  /** Header lines in order, as sent; repeat a name to send it twice. Default: `Host: localhost`. */
  headers?: [name: string, value: string][];
  /** Bytes after the head (a body, or a smuggled request). */
  body?: string | Buffer;
  /** Add `Connection: close` (default true) so the server ends the exchange. */
  close?: boolean;
}

/** One request's exact bytes: `METHOD target HTTP/1.1`, the header lines, an empty line, the body. */
export function rawRequest(request: RawRequest): Buffer {
  const headers = request.headers ?? [['Host', 'localhost']];
  const lines = headers.map(([name, value]) => Buffer.from(`${name}: ${value}\r\n`, 'latin1'));
  if (request.close ?? true) lines.push(Buffer.from('Connection: close\r\n'));
  const target = typeof request.target === 'string' ? Buffer.from(request.target, 'latin1') : request.target;
  const body = typeof request.body === 'string' ? Buffer.from(request.body, 'latin1') : (request.body ?? Buffer.alloc(0));
  return Buffer.concat([Buffer.from(`${request.method ?? 'GET'} `), target, Buffer.from(' HTTP/1.1\r\n'), ...lines, Buffer.from('\r\n'), body]);
}

export interface SendOptions {
  /** Address to connect to; default 127.0.0.1. */
  address?: string;
  /** Give up (and destroy the socket) after this long; default 5 s. */
  timeoutMs?: number;
  /** Half-close after writing, as a client with nothing more to say (the server must still answer or close). */
  endAfterWrite?: boolean;
  /** Resolve as soon as one complete response head has arrived, then close (for endless streams). */
  headOnly?: boolean;
}

export interface Exchange {
  /** Every byte received (a reset just ends them early). */
  bytes: Buffer;
  /** The server neither answered nor closed within the timeout. */
  timedOut: boolean;
}

/** Send `bytes` on a new connection; resolve with whatever comes back once the connection ends. */
export function send(port: number, bytes: string | Buffer, options: SendOptions = {}): Promise<Exchange> {
  return exchangeOn(connect({ port, host: options.address ?? '127.0.0.1' }), 'connect', bytes, options);
}

/**
 * Write `bytes` on `socket` once it emits `ready` ('connect', or 'secureConnect' for TLS), and
 * resolve with whatever comes back once the connection ends (or `timeoutMs` passes).
 */
export function exchangeOn(socket: Socket, ready: 'connect' | 'secureConnect', bytes: string | Buffer, options: SendOptions = {}): Promise<Exchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, options.timeoutMs ?? 5000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (options.headOnly && Buffer.concat(chunks).includes('\r\n\r\n')) socket.destroy();
    });
    socket.on('error', () => {}); // 'close' follows
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ bytes: Buffer.concat(chunks), timedOut });
    });
    socket.once(ready, () =>
      socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, () => {
        if (options.endAfterWrite) socket.end();
      }),
    );
  });
}

export interface ResponseHead {
  status: number;
  /** Names lower-cased; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** Where the body starts in the bytes. */
  bodyStart: number;
}

/** The response head starting at `offset`, without looking at the body (which may be endless or cut). */
export function parseHead(bytes: Buffer, offset = 0): ResponseHead {
  const headEnd = bytes.indexOf('\r\n\r\n', offset);
  if (headEnd === -1) throw new Error(`incomplete response head: ${JSON.stringify(bytes.subarray(offset, offset + 200).toString('latin1'))}`);
  const [statusLine, ...lines] = bytes.subarray(offset, headEnd).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]), headers, bodyStart: headEnd + 4 };
}

/**
 * Split the bytes of one connection into its responses, following each one's
 * framing (Content-Length, chunked, or until the end). A response cut short
 * keeps what arrived. A response to HEAD must be the last: its declared length
 * has no body behind it.
 */
export function parseResponses(bytes: Buffer): RawResponse[] {
  const responses: RawResponse[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const head = parseHead(bytes, offset);
    const end = bodyEnd(bytes, head.bodyStart, head);
    responses.push(parseResponse(bytes.subarray(offset, end)));
    offset = end;
  }
  return responses;
}

function bodyEnd(bytes: Buffer, start: number, head: ResponseHead): number {
  if (head.status < 200 || head.status === 204 || head.status === 304) return start;
  if (/\bchunked\b/i.test(head.headers['transfer-encoding'] ?? '')) {
    let offset = start;
    for (;;) {
      const lineEnd = bytes.indexOf('\r\n', offset);
      if (lineEnd === -1) return bytes.length;
      const size = parseInt(bytes.subarray(offset, lineEnd).toString('latin1'), 16);
      if (size === 0) {
        const trailerEnd = bytes.indexOf('\r\n\r\n', lineEnd);
        return trailerEnd === -1 ? bytes.length : trailerEnd + 4;
      }
      offset = lineEnd + 2 + size + 2;
    }
  }
  const length = head.headers['content-length'];
  return length === undefined ? bytes.length : Math.min(bytes.length, start + Number(length));
}

/** The status codes of every response on a connection, in order. */
export function statusesOf(bytes: Buffer): number[] {
  return parseResponses(bytes).map((response) => response.status);
}

export interface SlowClient {
  /** Resolves when the server closes the connection: what it sent, and after how long. */
  closed: Promise<{ received: Buffer; ms: number }>;
}

/**
 * A slowloris client: connects and writes `bytes` one byte every `intervalMs`,
 * never finishing (make `bytes` longer than the test lasts).
 */
export function trickle(port: number, bytes: string, intervalMs: number, address = '127.0.0.1'): SlowClient {
  const socket: Socket = connect({ port, host: address });
  const start = performance.now();
  const chunks: Buffer[] = [];
  let next = 0;
  const timer = setInterval(() => {
    if (next < bytes.length && socket.writable) socket.write(bytes[next++]!, 'latin1');
  }, intervalMs);
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {}); // a reset is one way of being shown the door
  const closed = new Promise<{ received: Buffer; ms: number }>((resolve) => {
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ received: Buffer.concat(chunks), ms: performance.now() - start });
    });
  });
  return { closed };
}

/**
 * Start a download and hang up as soon as the first bytes of the response
 * arrive, leaving the server mid-stream. Resolves with the status seen (0 if none)
 * once the connection is closed.
 */
export function abortedDownload(port: number, request: Buffer, address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: address });
    let status = 0;
    socket.once('data', (chunk: Buffer) => {
      status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(chunk.toString('latin1', 0, 12))?.[1] ?? 0);
      socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(status));
    socket.write(request);
  });
}

/** Run `task(0) … task(count - 1)` with at most `concurrency` in flight; resolve their results in order. */
export async function inParallel<T>(count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** Open `count` idle connections; resolves once each is established. */
export async function openConnections(port: number, count: number, address = '127.0.0.1'): Promise<Socket[]> {
  return Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const socket = connect({ port, host: address }, () => resolve(socket));
          socket.once('error', reject);
        }),
    ),
  );
}
