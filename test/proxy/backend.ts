/**
 * A real backend for the proxy tests: a node:http app with an echo, uploads, large
 * downloads, Server-Sent Events, a slow route, a route that dies mid-body, hostile
 * answers written on the raw socket, pages in gzip and brotli, and a WebSocket echo
 * written by hand (the upgrade event and RFC 6455 frames, no library).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { brotliCompressSync, gzipSync } from 'node:zlib';

export const PAGE = '<!doctype html><html><head><title>app</title></head><body><h1>from the app</h1></body></html>';

export interface Backend {
  server: Server;
  port: number;
  origin: string;
  /** Requests seen, in order: method, url, headers as raw pairs. */
  seen: Array<{ method: string; url: string; raw: string[] }>;
  /** Resolves when the next upload's first bytes reach the backend. */
  nextUploadBytes(): Promise<void>;
  /** The backend's side of each WebSocket, in order of opening. */
  websockets: Socket[];
  /** Open event streams; `send` writes one event to each. */
  /** `nextOpen()` resolves when the next event stream opens; `send` writes one event to each open stream. */
  sse: { nextOpen(): Promise<void>; send(data: string): void };
  close(): Promise<void>;
}

/** The body of large downloads: bytes 0..255 over and over, served from one block. */
export const BLOCK = Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => i % 256));

export async function startBackend(): Promise<Backend> {
  const seen: Backend['seen'] = [];
  const streams = new Set<ServerResponse>();
  let opened: (() => void) | undefined;
  const held = new Set<ServerResponse>();
  const websockets: Socket[] = [];
  let uploadBytes: (() => void) | undefined;
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', raw: [...req.rawHeaders] });
    route(req, res);
  });
  let port = 0;

  function route(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://backend');
    switch (url.pathname.replace(/^\/v1/, '')) {
      case '/api/upload': {
        const hash = createHash('sha256');
        let bytes = 0;
        req.on('data', (chunk: Buffer) => {
          if (bytes === 0) uploadBytes?.();
          bytes += chunk.length;
          hash.update(chunk);
        });
        req.on('end', () => json(res, 200, { bytes, sha256: hash.digest('hex') }));
        return;
      }
      case '/api/big': {
        const size = Number(url.searchParams.get('size'));
        let offset = 0;
        const body = new Readable({
          read() {
            if (offset >= size) return void this.push(null);
            const length = Math.min(BLOCK.length, size - offset);
            this.push(length === BLOCK.length ? BLOCK : BLOCK.subarray(0, length));
            offset += length;
          },
        });
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
        body.pipe(res);
        return;
      }
      case '/api/sse':
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.flushHeaders();
        streams.add(res);
        res.on('close', () => streams.delete(res));
        opened?.();
        return;
      case '/api/slow':
        held.add(res); // never answered; closed with the server
        res.on('close', () => held.delete(res));
        return;
      case '/api/die':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 100_000 });
        res.write('x'.repeat(1000), () => res.socket?.destroy());
        return;
      case '/api/cookies':
        res.writeHead(302, [
          'Location', `http://127.0.0.1:${port}/api/echo?from=redirect`,
          'Set-Cookie', 'a=1; Domain=127.0.0.1; Path=/; HttpOnly',
          'Set-Cookie', 'b=2, with a comma; Path=/api',
          'Content-Length', '0',
        ]);
        res.end();
        return;
      case '/api/hop':
        res.writeHead(200, {
          connection: 'x-secret, keep-alive',
          'x-secret': 'hop only',
          'keep-alive': 'timeout=5',
          'proxy-authenticate': 'Basic',
          'x-kept': 'yes',
          'content-type': 'text/plain',
        });
        res.end('hop');
        return;
      case '/api/page.gz': {
        const body = gzipSync(PAGE);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-encoding': 'gzip', 'content-length': body.length, etag: '"v1"', 'x-app': 'kept', vary: 'Accept-Encoding' });
        res.end(body);
        return;
      }
      case '/api/page.br': {
        const body = brotliCompressSync(PAGE);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-encoding': 'br', 'content-length': body.length, 'x-app': 'kept' });
        res.end(body);
        return;
      }
      case '/api/page.large': {
        // 9 MiB of page, chunked: more than the proxy holds to put the live-reload script in.
        res.writeHead(200, { 'content-type': 'text/html' });
        res.write('<!doctype html><body>');
        let left = 9 * 1024 * 1024;
        const more = () => {
          while (left > 0) {
            left -= BLOCK.length;
            if (!res.write(Buffer.alloc(BLOCK.length, 0x61))) return void res.once('drain', more);
          }
          res.end('</body>');
        };
        more();
        return;
      }
      case '/api/app': {
        // An app's page that talks to the app over a WebSocket, as a person's browser would.
        const body = `<!doctype html><html><head><meta charset="utf-8"><title>app</title></head><body><p id="out">waiting</p><script>
const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/api/ws/echo');
ws.onopen = () => ws.send('echoed through serve-dir');
ws.onmessage = (event) => { document.getElementById('out').textContent = event.data; };
ws.onerror = () => { document.getElementById('out').textContent = 'websocket error'; };
</script></body></html>`;
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      case '/api/headers-flood':
      case '/api/head-forever':
        hostile(req, res, url.pathname);
        return;
      default:
        json(res, 200, { method: req.method, url: req.url, headers: req.headers, raw: req.rawHeaders });
    }
  }

  /** Answers no well-behaved server gives, written on the socket itself. */
  function hostile(req: IncomingMessage, res: ServerResponse, path: string): void {
    const socket = res.socket!;
    res.detachSocket(socket);
    if (path.endsWith('flood')) {
      // Header lines without end: the proxy must give up, not collect them.
      socket.write('HTTP/1.1 200 OK\r\n');
      const flood = () => {
        while (!socket.destroyed && socket.write(`X-Flood: ${'f'.repeat(1000)}\r\n`));
        if (!socket.destroyed) socket.once('drain', flood);
      };
      socket.on('error', () => {});
      flood();
      return;
    }
    // A HEAD answered with a body that never ends.
    socket.on('error', () => {});
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\n`);
    const endless = () => {
      while (!socket.destroyed && socket.write('y'.repeat(16 * 1024)));
      if (!socket.destroyed) socket.once('drain', endless);
    };
    endless();
    void req;
  }

  // WebSocket echo: the handshake of RFC 6455 §4.2.2, then every text or binary frame back.
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', raw: [...req.rawHeaders] });
    const key = req.headers['sec-websocket-key'];
    if (req.url?.includes('/ws/refuse') || typeof key !== 'string') {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 7\r\nConnection: close\r\n\r\nrefused');
      return;
    }
    websockets.push(socket);
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${websocketAccept(key)}\r\nX-Backend: echo\r\n\r\n`,
    );
    let buffered = head;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const frame = readFrame(buffered);
        if (frame === undefined) break;
        buffered = buffered.subarray(frame.length);
        if (frame.opcode === 0x8) return void socket.end(encodeFrame(0x8, Buffer.alloc(0), false));
        socket.write(encodeFrame(frame.opcode, frame.payload, false));
      }
    });
    socket.on('error', () => {});
    socket.on('end', () => socket.end());
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    origin: `http://127.0.0.1:${port}`,
    seen,
    websockets,
    nextUploadBytes: () => new Promise<void>((resolve) => (uploadBytes = resolve)),
    sse: {
      nextOpen: () => new Promise<void>((resolve) => (opened = resolve)),
      send(data: string) {
        for (const res of streams) res.write(`data: ${data}\n\n`);
      },
    },
    close: async () => {
      for (const res of held) res.destroy();
      for (const res of streams) res.destroy();
      for (const socket of websockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function websocketAccept(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC11B85`).digest('base64');
}

/** One frame of RFC 6455 §5.2; clients mask, servers do not. */
export function encodeFrame(opcode: number, payload: Buffer, mask: boolean): Buffer {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + (mask ? 4 : 0));
  head[0] = 0x80 | opcode;
  head[1] = (mask ? 0x80 : 0) | (lengthBytes === 0 ? length : lengthBytes === 2 ? 126 : 127);
  if (lengthBytes === 2) head.writeUInt16BE(length, 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(length), 2);
  if (!mask) return Buffer.concat([head, payload]);
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  key.copy(head, 2 + lengthBytes);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= key[i % 4]!;
  return Buffer.concat([head, masked]);
}

/** The first whole frame in `bytes`, unmasked, or undefined when more bytes are needed. */
export function readFrame(bytes: Buffer): { opcode: number; payload: Buffer; length: number } | undefined {
  if (bytes.length < 2) return undefined;
  const opcode = bytes[0]! & 0x0f;
  const masked = (bytes[1]! & 0x80) !== 0;
  let length = bytes[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (bytes.length < 4) return undefined;
    length = bytes.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (bytes.length < 10) return undefined;
    length = Number(bytes.readBigUInt64BE(2));
    offset = 10;
  }
  const keyAt = offset;
  if (masked) offset += 4;
  if (bytes.length < offset + length) return undefined;
  const payload = Buffer.from(bytes.subarray(offset, offset + length));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= bytes[keyAt + (i % 4)]!;
  return { opcode, payload, length: offset + length };
}

/** A port nothing listens on: bound, then released. */
export async function deadPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A WebSocket client over a raw socket (or any connected duplex, e.g. TLS): handshake, then frames. */
export interface RawWebSocket {
  status: number;
  headers: string;
  send(text: string): void;
  next(): Promise<string>;
  socket: Socket;
}

export function openWebSocket(socket: Socket, path: string, host = 'localhost', extraHeaders = ''): Promise<RawWebSocket> {
  return new Promise((resolve, reject) => {
    const key = Buffer.from('0123456789abcdef').toString('base64');
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`);
    let buffered = Buffer.alloc(0);
    let head: { status: number; headers: string } | undefined;
    const waiting: Array<(text: string) => void> = [];
    const frames: string[] = [];
    const deliver = () => {
      while (waiting.length > 0 && frames.length > 0) waiting.shift()!(frames.shift()!);
    };
    socket.on('error', reject);
    socket.on('close', () => {
      if (head === undefined) resolve({ status: 0, headers: buffered.toString('latin1'), send() {}, next: () => Promise.reject(new Error('closed')), socket });
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (head === undefined) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        const text = buffered.subarray(0, end).toString('latin1');
        head = { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), headers: text };
        buffered = buffered.subarray(end + 4);
        resolve({
          ...head,
          socket,
          send: (message: string) => socket.write(encodeFrame(0x1, Buffer.from(message), true)),
          next: () =>
            new Promise<string>((done) => {
              waiting.push(done);
              deliver();
            }),
        });
        if (head.status !== 101) return;
      }
      for (;;) {
        const frame = readFrame(buffered);
        if (frame === undefined) break;
        buffered = buffered.subarray(frame.length);
        frames.push(frame.payload.toString('utf8'));
      }
      deliver();
    });
  });
}

/** A plain TCP connection to `port`, destroyed by the caller. */
export function tcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => resolve(socket));
    socket.once('error', reject);
  });
}
