/**
 * One small client over HTTP/1.1 (node:http) and HTTP/2 (node:http2), so the proxy's
 * integration tests run the same cases on both transports.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import type { Readable } from 'node:stream';

export interface Reply {
  status: number;
  /** Lower-cased names; Set-Cookie as a list. */
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: Buffer | Readable;
  /** Called with each chunk as it arrives instead of collecting it. */
  onData?: (chunk: Buffer) => void;
  signal?: AbortSignal;
}

/** How a response ended: whole, or cut before its end (an error or an abort). */
export interface Outcome extends Reply {
  complete: boolean;
}

export interface Client {
  name: 'HTTP/1.1' | 'HTTP/2';
  /** Resolves with the whole response; rejects if it is cut. */
  send(path: string, options?: SendOptions): Promise<Reply>;
  /** Resolves however the response ends, saying whether it was complete. */
  outcome(path: string, options?: SendOptions): Promise<Outcome>;
  close(): void;
}

export function http1Client(port: number): Client {
  const outcome = (path: string, options: SendOptions = {}) =>
    new Promise<Outcome>((resolve, reject) => {
      const request = httpRequest({
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'GET',
        headers: { host: `localhost:${port}`, ...options.headers },
        agent: false,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      request.on('error', reject);
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        const reply = () => ({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) });
        response.on('data', (chunk: Buffer) => (options.onData ? options.onData(chunk) : chunks.push(chunk)));
        response.on('end', () => resolve({ ...reply(), complete: response.complete }));
        response.on('error', () => resolve({ ...reply(), complete: false }));
        response.on('aborted', () => resolve({ ...reply(), complete: false }));
      });
      writeBody(request, options.body);
    });
  return {
    name: 'HTTP/1.1',
    outcome,
    send: wholeOnly(outcome),
    close() {},
  };
}

export function http2Client(port: number, ca: string): Client {
  let session: ClientHttp2Session | undefined;
  const open = () => {
    if (session === undefined || session.destroyed || session.closed) {
      session = connect(`https://localhost:${port}`, { ca });
      session.on('error', () => {});
    }
    return session;
  };
  const outcome = (path: string, options: SendOptions = {}) =>
    new Promise<Outcome>((resolve, reject) => {
      const stream = open().request({ ':method': options.method ?? 'GET', ':path': path, ...options.headers }, {
        endStream: options.body === undefined,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      const chunks: Buffer[] = [];
      let headers: IncomingHttpHeaders = {};
      let status = 0;
      const reply = () => ({ status, headers, body: Buffer.concat(chunks) });
      stream.on('response', (h) => {
        status = Number(h[':status']);
        const { ':status': _status, ...rest } = h;
        headers = rest as IncomingHttpHeaders;
      });
      stream.on('data', (chunk: Buffer) => (options.onData ? options.onData(chunk) : chunks.push(chunk)));
      stream.on('end', () => resolve({ ...reply(), complete: stream.rstCode === undefined || stream.rstCode === constants.NGHTTP2_NO_ERROR }));
      stream.on('error', (error) => (status === 0 ? reject(error) : resolve({ ...reply(), complete: false })));
      stream.on('close', () => {
        if (stream.rstCode !== undefined && stream.rstCode !== constants.NGHTTP2_NO_ERROR) resolve({ ...reply(), complete: false });
      });
      writeBody(stream, options.body);
    });
  return {
    name: 'HTTP/2',
    outcome,
    send: wholeOnly(outcome),
    close() {
      session?.destroy();
    },
  };
}

/** `send`: the outcome, which must be a complete response. */
function wholeOnly(outcome: Client['outcome']): Client['send'] {
  return async (path, options) => {
    const result = await outcome(path, options);
    if (!result.complete) throw new Error(`response to ${path} was cut`);
    return result;
  };
}

function writeBody(target: NodeJS.WritableStream, body: Buffer | Readable | undefined): void {
  if (body === undefined) return void (target as unknown as { end(): void }).end();
  if (Buffer.isBuffer(body)) return void target.end(body);
  body.pipe(target);
}
