/**
 * One client over the three transports startServer speaks, so that an integration suite
 * runs unchanged over each:
 *   'http1' plain HTTP/1.1: the request written byte for byte on a new connection
 *   'https' the same bytes inside TLS (ALPN http/1.1, HTTP/2 off on the server)
 *   'h2'    node's own HTTP/2 client, one session per server shared by its requests
 * The answer has the shape of the raw helper's (status, lower-case headers, body, text),
 * so a test reads it the same whatever carried it. Over h2 there is no request line and
 * no Connection or Transfer-Encoding: a case about those bytes is HTTP/1-only, and says so.
 *
 *   describe.each(TRANSPORTS)('over %s', (transport) => {
 *     const request = client(transport);
 *     beforeAll(async () => ({ port } = await serveOver(transport, root)));
 *     it('...', async () => expect((await request(port, '/a.txt')).status).toBe(200));
 *   });
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as h2Connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Options, RunningServer } from '../../src/index.js';
import { generateCertificate } from '../../src/tls/certificate.js';
import { exchangeOn, send, type Exchange, type RawRequest, type SendOptions } from './raw.js';
import {
  exchange,
  onCleanup,
  parseResponse,
  serveDirectory,
  spawnCli,
  type CliOptions,
  type RawResponse,
  type RequestOptions,
  type StartedCli,
} from './server.js';

export type TransportName = 'http1' | 'https' | 'h2';
const ALL_TRANSPORTS: readonly TransportName[] = ['http1', 'https', 'h2'];
/**
 * Every transport, for `describe.each`; `TEST_TRANSPORTS=http1,h2` runs a subset (a quick
 * local run: HTTPS is HTTP/1.1's parser inside TLS, and the slowest of the three).
 */
export const TRANSPORTS: readonly TransportName[] = (() => {
  const chosen = process.env['TEST_TRANSPORTS']?.split(',').map((name) => name.trim());
  if (chosen === undefined) return ALL_TRANSPORTS;
  const unknown = chosen.filter((name) => !ALL_TRANSPORTS.includes(name as TransportName));
  if (unknown.length > 0) throw new Error(`TEST_TRANSPORTS: unknown transport ${unknown.join(', ')} (known: ${ALL_TRANSPORTS.join(', ')})`);
  return chosen as TransportName[];
})();

/** What `request` sends. */
export interface TransportRequest extends RequestOptions {
  port: number;
  /** The request target: written verbatim on HTTP/1 lines, sent as `:path` over h2. */
  target: string;
}

// ---------------------------------------------------------------- TLS

/** One certificate per test file (an EC key: made in milliseconds), for the names a test connects by. */
let certificate: { cert: string; key: string } | undefined;
let certificateFiles: { certFile: string; keyFile: string } | undefined;

function testCertificate(): { cert: string; key: string } {
  certificate ??= generateCertificate({ names: ['localhost', '127.0.0.1', '::1'] });
  return certificate;
}

/**
 * The certificate and key as files, as startServer takes them. Written once and kept
 * for every server the file starts, inside a test or outside: removed when the process exits.
 */
function testCertificateFiles(): { certFile: string; keyFile: string } {
  if (certificateFiles !== undefined) return certificateFiles;
  const { cert, key } = testCertificate();
  const directory = mkdtempSync(join(tmpdir(), 'serve-dir-tls-'));
  process.once('exit', () => rmSync(directory, { recursive: true, force: true }));
  certificateFiles = { certFile: join(directory, 'cert.pem'), keyFile: join(directory, 'key.pem') };
  writeFileSync(certificateFiles.certFile, cert);
  writeFileSync(certificateFiles.keyFile, key, { mode: 0o600 });
  return certificateFiles;
}

/** The trusted certificate's file, for clients run as programs (curl --cacert, wget --ca-certificate). */
export function trustedCertificateFile(): string {
  return testCertificateFiles().certFile;
}

/** The base URL of a server on `port` over `transport`, e.g. https://localhost:41234. */
export function baseUrl(transport: TransportName, port: number): string {
  return `${transport === 'http1' ? 'http' : 'https'}://localhost:${port}`;
}

/** The certificate clients trust (PEM). */
export function trustedCertificate(): string {
  return testCertificate().cert;
}

// ---------------------------------------------------------------- servers

/**
 * `serveDirectory` over `transport`: plain HTTP, HTTPS with HTTP/2 off, or HTTPS with
 * HTTP/2 (which also answers HTTP/1.1 by ALPN). Closed like any `serveDirectory` server.
 */
export async function serveOver(transport: TransportName, directory: string, options: Options = {}): Promise<RunningServer> {
  if (transport === 'http1') return serveDirectory(directory, options);
  const { certFile, keyFile } = testCertificateFiles();
  return serveDirectory(directory, { tlsCert: certFile, tlsKey: keyFile, http2: transport === 'h2', ...options });
}

/** The CLI flags that make `serve-dir` speak `transport` (with the test certificate). */
export function cliFlags(transport: TransportName): string[] {
  if (transport === 'http1') return [];
  const { certFile, keyFile } = testCertificateFiles();
  return ['--tls-cert', certFile, '--tls-key', keyFile, ...(transport === 'h2' ? [] : ['--no-http2'])];
}

/** `spawnCli` with `cliFlags(transport)` added, resolved once its banner shows the URL. */
export async function startCliOver(transport: TransportName, args: readonly string[], options?: CliOptions): Promise<StartedCli> {
  const cli = spawnCli([...args, ...cliFlags(transport)], options);
  const match = await cli.waitForStdout(/(https?:\/\/\S+:(\d+))/);
  return { ...cli, url: match[1]!, port: Number(match[2]) };
}

// ---------------------------------------------------------------- requests

/** One request over `transport`; the answer as the raw helper gives it. */
export function request(transport: TransportName, options: TransportRequest): Promise<RawResponse> {
  if (transport === 'http1') return exchange(options.port, requestBytes(options), options.address).then(parseResponse);
  if (transport === 'https') return tlsExchange(options.port, requestBytes(options), options.address).then(parseResponse);
  return h2Request(options);
}

/** `request` bound to a transport, with the raw helper's signature: `request(port, target, options)`. */
export function client(transport: TransportName): (port: number, target: string, options?: RequestOptions) => Promise<RawResponse> {
  return (port, target, options = {}) => request(transport, { ...options, port, target });
}

/** The HTTP/1.1 request the raw helper writes: target verbatim, then `Connection: close`. */
function requestBytes({ target, method, headers, hostHeader }: TransportRequest): Buffer {
  const lines = [`${method ?? 'GET'} ${target} HTTP/1.1`, `Host: ${hostHeader ?? 'localhost'}`];
  for (const [name, value] of Object.entries(headers ?? {})) lines.push(`${name}: ${value}`);
  lines.push('Connection: close', '', '');
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

/** TLS sessions to resume, per server: a resumed handshake skips the certificate, and keeps a suite of thousands of requests fast. */
const tlsSessions = new Map<string, Buffer>();

/** A TLS connection speaking HTTP/1.1 to the server on `port`, resuming the last session with it. */
function tlsSocket(port: number, address: string): TLSSocket {
  const key = `${address}:${port}`;
  const session = tlsSessions.get(key);
  const socket = tlsConnect({ port, host: address, servername: 'localhost', ca: trustedCertificate(), ALPNProtocols: ['http/1.1'], ...(session === undefined ? {} : { session }) });
  socket.on('session', (ticket: Buffer) => tlsSessions.set(key, ticket));
  return socket;
}

/** `exchange` inside TLS: every byte received until the server closes. */
function tlsExchange(port: number, bytes: Buffer, address = '127.0.0.1'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = tlsSocket(port, address);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks)));
    socket.on('secureConnect', () => socket.write(bytes));
  });
}

/** One HTTP/2 session per server (port and address), reopened if the server ended it. */
const sessions = new Map<string, ClientHttp2Session>();

/** The shared session to the server on `port` (opened on first use, destroyed by `cleanup()` or the test's end). */
export function h2Session(port: number, address = '127.0.0.1'): ClientHttp2Session {
  const key = `${address}:${port}`;
  const open = sessions.get(key);
  if (open !== undefined && !open.closed && !open.destroyed) return open;
  const host = address.includes(':') ? `[${address}]` : address;
  const session = h2Connect(`https://${host}:${port}`, { ca: trustedCertificate(), servername: 'localhost' });
  // A session's own error (the server went away) fails its open requests; the next opens a new one.
  session.on('error', () => {});
  session.once('close', () => {
    if (sessions.get(key) === session) sessions.delete(key);
  });
  sessions.set(key, session);
  onCleanup(() => void session.destroy());
  return session;
}

/** Request fields HTTP/2 forbids (RFC 9113 §8.2.2): a test that sends them is about HTTP/1. */
const CONNECTION_FIELDS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

function h2Request({ port, target, method, headers, hostHeader, address }: TransportRequest): Promise<RawResponse> {
  const fields: Record<string, string> = {
    ':method': method ?? 'GET',
    ':path': target,
    ':authority': hostHeader ?? 'localhost',
    ':scheme': 'https',
  };
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (CONNECTION_FIELDS.has(lower)) throw new Error(`${name} is an HTTP/1 field: keep this case on http1 and https`);
    // RFC 9113 §8.2.1: an HTTP/2 field value neither starts nor ends with whitespace (an
    // HTTP/1 parser drops it around the value, so the server sees the same either way).
    fields[lower] = value.trim();
  }
  return new Promise((resolve, reject) => {
    const stream = h2Session(port, address).request(fields, { endStream: true });
    const chunks: Buffer[] = [];
    let head: IncomingHttpHeaders | undefined;
    stream.on('response', (received) => (head = received));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('close', () => {
      if (head === undefined) return reject(new Error(`the stream closed without a response (RST code ${stream.rstCode})`));
      // A body cut short is a reset stream: what HTTP/1 would show as a short body on a closed connection.
      const body = Buffer.concat(chunks);
      resolve({ ...responseFields(head), body, text: body.toString('utf8') });
    });
  });
}

/** The status and header fields (no pseudo-headers), in the raw helper's shape. */
function responseFields(head: IncomingHttpHeaders): Pick<RawResponse, 'status' | 'headers' | 'headerNames'> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(head)) {
    if (name.startsWith(':') || value === undefined) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return { status: Number(head[':status']), headers, headerNames: Object.keys(headers) };
}

// ---------------------------------------------------------------- hostile clients

/**
 * raw.ts's `send` over `transport`: the bytes written verbatim on a new connection, in
 * TLS for 'https'. Never rejects: whatever came back once the connection ended.
 * HTTP/1 bytes have no meaning on an HTTP/2 session: 'h2' is refused here.
 */
export function sendOver(transport: TransportName, port: number, bytes: string | Buffer, options: SendOptions = {}): Promise<Exchange> {
  if (transport === 'http1') return send(port, bytes, options);
  if (transport === 'h2') throw new Error('raw HTTP/1 bytes: keep this case on http1 and https');
  return exchangeOn(tlsSocket(port, options.address ?? '127.0.0.1'), 'secureConnect', bytes, options);
}

/** What a hostile request got over HTTP/2: the response, or the stream reset before one. */
export type H2Outcome = { kind: 'response'; response: RawResponse; headBytes: string } | { kind: 'reset'; code: number };

/**
 * A raw.ts request as an HTTP/2 stream on the shared session (`headOnly`: cancelled once
 * the response head is in): the target as `:path`, the
 * first Host line as `:authority` (no Host line: `localhost`), the other lines as fields.
 * A request HTTP/2 cannot carry (a field value with NUL, CR or LF) is refused by the
 * stack on one side or the other: that comes back as a reset, not a rejection.
 */
export function h2Exchange(
  port: number,
  request: RawRequest,
  { timeoutMs = 5000, headOnly = false }: { timeoutMs?: number; headOnly?: boolean } = {},
): Promise<H2Outcome | 'timed out'> {
  const lines = request.headers ?? [['Host', 'localhost']];
  const host = lines.find(([name]) => name.toLowerCase() === 'host');
  const fields: Record<string, string | string[]> = {
    ':method': request.method ?? 'GET',
    ':path': typeof request.target === 'string' ? request.target : request.target.toString('latin1'),
    ':scheme': 'https',
    ':authority': host?.[1] ?? 'localhost',
  };
  for (const [name, value] of lines) {
    const lower = name.toLowerCase();
    if (CONNECTION_FIELDS.has(lower)) continue;
    const before = fields[lower];
    fields[lower] = before === undefined ? value.trim() : [...[before].flat(), value.trim()];
  }
  const body = typeof request.body === 'string' ? Buffer.from(request.body, 'latin1') : request.body;
  return new Promise((resolve) => {
    let stream: ReturnType<ClientHttp2Session['request']>;
    try {
      stream = h2Session(port).request(fields, { endStream: body === undefined || body.length === 0 });
    } catch {
      // Node's client refuses to send it at all (an invalid field value).
      return resolve({ kind: 'reset', code: -1 });
    }
    if (body !== undefined && body.length > 0) stream.end(body);
    const chunks: Buffer[] = [];
    let head: IncomingHttpHeaders | undefined;
    const timer = setTimeout(() => {
      stream.close();
      resolve('timed out');
    }, timeoutMs);
    stream.on('response', (received) => {
      head = received;
      // An endless stream (live reload): the head is the answer; the stream is cancelled.
      if (headOnly) stream.close();
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => {}); // 'close' follows
    stream.on('close', () => {
      clearTimeout(timer);
      if (head === undefined) return resolve({ kind: 'reset', code: stream.rstCode ?? -1 });
      const response = { ...responseFields(head), body: Buffer.concat(chunks), text: Buffer.concat(chunks).toString('utf8') };
      resolve({ kind: 'response', response, headBytes: JSON.stringify(head) });
    });
  });
}
