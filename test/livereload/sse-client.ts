// A minimal Server-Sent Events client over node:http for tests (Node 20 has no EventSource):
// it parses "id:" and "data:" fields, skips comments, and hands out messages in order.

import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { h2Session, trustedCertificate, type TransportName } from '../helpers/transport.js';

/** What the client reads: node:http's response, or an HTTP/2 stream given the same two fields. */
export type StreamResponse = Readable & { statusCode?: number | undefined; headers: IncomingHttpHeaders };

export interface SseMessage {
  id: string;
  data: { type: string; [key: string]: unknown };
  /** performance.now() when the message was parsed. */
  receivedAt: number;
}

export class SseClient {
  readonly #queue: SseMessage[] = [];
  readonly #waiters: ((message: SseMessage) => void)[] = [];
  #buffer = '';
  /** Blocks made only of comments (heartbeats) received so far. */
  comments = 0;
  /** Resolves when the server ends the stream or the connection closes. */
  readonly ended: Promise<void>;

  private constructor(readonly response: StreamResponse) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.#parse(chunk));
    this.ended = new Promise((resolve) => response.once('close', resolve));
  }

  /** Opens `url`; resolves with the client once the response head has arrived (whatever its status). */
  static connect(url: string, headers: http.OutgoingHttpHeaders = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      http.get(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => resolve(new SseClient(res))).on('error', reject);
    });
  }

  /**
   * Opens `target` on the server on `port` over `transport` (HTTP/2 as a stream of the
   * shared session); resolves once the response head has arrived.
   */
  static over(transport: TransportName, port: number, target: string, headers: Record<string, string> = {}): Promise<SseClient> {
    if (transport === 'http1') return SseClient.connect(`http://localhost:${port}${target}`, headers);
    if (transport === 'https') {
      return new Promise((resolve, reject) => {
        https
          .get(`https://localhost:${port}${target}`, { ca: trustedCertificate(), headers: { Accept: 'text/event-stream', ...headers } }, (res) => resolve(new SseClient(res)))
          .on('error', reject);
      });
    }
    return new Promise((resolve, reject) => {
      const fields: Record<string, string> = { ':path': target, accept: 'text/event-stream' };
      for (const [name, value] of Object.entries(headers)) fields[name.toLowerCase()] = value;
      const stream = h2Session(port).request(fields, { endStream: true });
      stream.once('error', reject);
      stream.once('response', (head) => {
        const { ':status': status, ...rest } = head;
        resolve(new SseClient(Object.assign(stream, { statusCode: Number(status), headers: rest as IncomingHttpHeaders })));
      });
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  /** Resolves once the stream has carried at least `count` comment blocks. */
  async waitForComments(count: number): Promise<void> {
    while (this.comments < count) await new Promise((resolve) => this.response.once('data', resolve));
  }

  /** The next message; rejects after `timeoutMs`. */
  next(timeoutMs = 5000): Promise<SseMessage> {
    return this.nextOrNone(timeoutMs).then((message) => message ?? Promise.reject(new Error(`no event within ${timeoutMs} ms`)));
  }

  /** The next message, or undefined if none comes within `timeoutMs`. */
  nextOrNone(timeoutMs: number): Promise<SseMessage | undefined> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => {
      const waiter = (message: SseMessage) => {
        clearTimeout(timer);
        resolve(message);
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        resolve(undefined);
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  close(): void {
    this.response.destroy();
  }

  #parse(chunk: string): void {
    this.#buffer += chunk;
    let end: number;
    while ((end = this.#buffer.indexOf('\n\n')) >= 0) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      let id = '';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) id = line.slice(4);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length === 0) {
        if (block.split('\n').every((line) => line.startsWith(':'))) this.comments++;
        continue;
      }
      const message: SseMessage = { id, data: JSON.parse(data.join('\n')), receivedAt: performance.now() };
      const waiter = this.#waiters.shift();
      if (waiter !== undefined) waiter(message);
      else this.#queue.push(message);
    }
  }
}
