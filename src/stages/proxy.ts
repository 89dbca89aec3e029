import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { HANDLED, type RequestContext, type Services, type Stage, type StageResult } from '../context.js';
import { fail, htmlEntity, planBytes, writeResponse } from '../respond.js';
import { applyUserHeaders } from '../http/header-rules.js';
import { escapeHtml } from '../listing/format.js';
import { decodeBody } from '../proxy/decode.js';
import { headerList, requestHeadersForBackend, responseHeadersForClient } from '../proxy/headers.js';
import { rewriteForClient } from '../proxy/rewrite.js';
import { clientPathFor, matchProxyRoute, type CompiledRoute, type ProxyMatch } from '../proxy/route.js';
import { LIVERELOAD_PREFIX } from './livereload.js';

/** A connection the server handed over after an HTTP/1.1 Upgrade request: the socket and the bytes read past the head. */
export interface UpgradedConnection {
  /**
   * How the client asked for a WebSocket: an HTTP/1.1 Upgrade (RFC 6455 §4), answered with a
   * 101 on the socket; or HTTP/2's extended CONNECT (RFC 8441), answered with a 200 on the
   * request's stream, which then carries the frames.
   */
  via: 'upgrade' | 'connect';
  /** The TCP (or TLS) socket, or the HTTP/2 stream. */
  socket: Duplex;
  /** Bytes the client sent past the request's head (HTTP/1.1 only). */
  head: Buffer;
}

export interface ProxyStageDeps {
  /** `--auth`: proxied paths are behind it too. */
  auth: Stage | undefined;
  /** With live reload: puts the script into a page (the live-reload stage's own injection). */
  inject: Stage | undefined;
  /** The connection of a request that came as an HTTP/1.1 Upgrade (server.ts), or undefined. */
  upgradeOf: ((req: IncomingMessage) => UpgradedConnection | undefined) | undefined;
}

export interface ProxyStage extends Stage {
  /** Cut open WebSocket tunnels and idle backend connections (the server is closing). */
  close(): void;
}

/**
 * The largest backend page held to put the live-reload script in, before and after decoding.
 * Larger pages go out as they come, without it.
 */
const MAX_INJECTED_PAGE = 8 * 1024 * 1024;

/**
 * `--proxy`: requests under a prefix go to a backend (Flask, Django, an API), streamed both ways
 * with backpressure, any method. A route-like stage: after the Host check and CORS preflights,
 * before the method stage (a backend takes POST and the rest), with `--auth` checked first as
 * for files. A prefix escape (`/api/../x`) is 400; a backend down is 502 and one warning; no
 * response headers within the route's timeout is 504; a backend that dies mid-body cuts the
 * client's connection, never passing a short body off as complete. HTTP/2 clients are proxied
 * to HTTP/1.1 backends; WebSockets are tunnelled, asked for by an HTTP/1.1 Upgrade or by
 * HTTP/2's extended CONNECT.
 */
export function createProxyStage(services: Services, deps: ProxyStageDeps): ProxyStage {
  const { options } = services;
  const routes = options.proxy;
  // Connections to backends are kept for the next request: a new TCP handshake per request
  // would double the proxy's share of a small request's latency.
  const httpAgent = new HttpAgent({ keepAlive: true, maxFreeSockets: 64, noDelay: true });
  const httpsAgent = new HttpsAgent({ keepAlive: true, maxFreeSockets: 64, noDelay: true });
  const tunnels = new Set<Duplex>();
  // One warning per backend while it stays down; a backend that answers again is warned about anew.
  const warned = new Set<string>();
  const warnOnce = (route: CompiledRoute, code: 'proxy-backend-down' | 'proxy-backend-timeout', message: string) => {
    if (warned.has(route.origin)) return;
    warned.add(route.origin);
    options.emit({ type: 'warning', code, from: 'server', message });
  };

  function proxy(ctx: RequestContext): StageResult | Promise<StageResult> {
    const url = ctx.req.url ?? '';
    if (options.watch && url.startsWith(LIVERELOAD_PREFIX)) return;
    const match = matchProxyRoute(routes, url);
    if (match === undefined) return;
    if (match === 'refused') return fail(ctx, 400);
    // TRACE echoes the request as the backend received it, forwarding fields and all: it is
    // left to the method stage (405), as nginx does.
    if (ctx.method === 'TRACE') return;
    if (deps.auth !== undefined && deps.auth(ctx) === HANDLED) return HANDLED;
    const upgraded = deps.upgradeOf?.(ctx.req);
    if (upgraded !== undefined && match.route.ws && isWebSocketHandshake(ctx, upgraded)) return tunnel(ctx, match, upgraded);
    return forward(ctx, match);
  }

  function backendRequest(ctx: RequestContext, match: ProxyMatch, upgrade: string | undefined, websocketKey?: string): ClientRequest {
    const { req } = ctx;
    const route = match.route;
    const authority = req.headers.host ?? headerText(req.headers[':authority']);
    const headers = requestHeadersForBackend(req.rawHeaders, {
      clientAddress: req.socket?.remoteAddress,
      authority,
      proto: isEncrypted(req) ? 'https' : 'http',
      backendHost: route.changeOrigin ? route.host : undefined,
      upgrade,
    });
    // With --auth, Authorization carries serve-dir's own password: it is not the backend's to see.
    if (deps.auth !== undefined) delete headers['authorization'];
    if (websocketKey !== undefined) headers['sec-websocket-key'] = websocketKey;
    const secure = route.protocol === 'https:';
    return (secure ? httpsRequest : httpRequest)({
      protocol: route.protocol,
      // URL keeps an IPv6 literal's brackets; the socket wants the address.
      hostname: route.target.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: route.target.port === '' ? (secure ? 443 : 80) : Number(route.target.port),
      method: upgrade !== undefined ? 'GET' : ctx.method,
      path: match.path,
      headers,
      // A tunnel owns its connection: it never goes back to a pool.
      agent: upgrade !== undefined ? false : secure ? httpsAgent : httpAgent,
      // The backend's response head is bounded by node:http's header limit (16 KiB): a flood of
      // header lines is an error, answered 502, never collected.
    });
  }

  /** Wait for the backend's response head; settle 502/504 when none comes. */
  function awaitHead(
    ctx: RequestContext,
    match: ProxyMatch,
    request: ClientRequest,
    onHead: (settle: () => void) => void,
    retry?: () => Promise<StageResult>,
  ): Promise<StageResult> {
    const route = match.route;
    return new Promise<StageResult>((resolve) => {
      let settled = false;
      const settle = () => {
        settled = true;
        clearTimeout(timer);
      };
      const refuse = (status: 502 | 504, explanation: string) => {
        if (settled) return;
        settle();
        request.destroy();
        fail(ctx, status, explanation);
        resolve(undefined); // the finishing stages write the page
      };
      // Counted from the end of the request's body: an upload takes the time it takes (the
      // server's own request timeout bounds it), the backend's thinking does not.
      let timer: NodeJS.Timeout | undefined;
      request.once('finish', () => {
        if (settled) return;
        timer = setTimeout(() => {
          const seconds = route.timeoutMs / 1000;
          warnOnce(route, 'proxy-backend-timeout', `the backend ${route.target.href} for ${route.prefix} sent no response headers within ${seconds} s; answering 504`);
          refuse(504, `The backend ${code(route.target.href)} did not answer within ${seconds} seconds.`);
        }, route.timeoutMs);
      });
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (settled) return;
        // A kept connection the backend closed as we reused it (its idle timeout met our
        // request on the wire): a request without a body is sent again, once, on a new one.
        if (retry !== undefined && request.reusedSocket && error.code === 'ECONNRESET') {
          settle();
          resolve(retry());
          return;
        }
        warnOnce(route, 'proxy-backend-down', `cannot reach the backend ${route.target.href} for ${route.prefix} (${error.code ?? error.message}); answering 502 until it answers`);
        refuse(502, `The backend ${code(route.target.href)} could not be reached: is it running?`);
      });
      // The client left before the backend answered: nothing to wait for.
      ctx.res.once('close', () => {
        if (!settled) {
          settle();
          request.destroy();
          resolve(HANDLED);
        }
      });
      onHead(() => {
        settle();
        warned.delete(route.origin);
        resolve(HANDLED);
      });
    });
  }

  function forward(ctx: RequestContext, match: ProxyMatch, retried = false): Promise<StageResult> {
    const { req, res } = ctx;
    const request = backendRequest(ctx, match, undefined);
    // The body streams as it comes: backpressure from the backend pauses the client. A request
    // that came as an Upgrade (to a route without `ws`) has no body: what follows is not HTTP.
    const bodiless = deps.upgradeOf?.(req) !== undefined || hasNoBody(req);
    if (bodiless) request.end();
    else req.pipe(request);
    req.once('error', () => request.destroy());
    const retry = bodiless && !retried ? () => forward(ctx, match, true) : undefined;
    const done = awaitHead(
      ctx,
      match,
      request,
      (settle) => {
        request.once('response', (response: IncomingMessage) => {
          settle();
          relay(ctx, match.route, response);
        });
      },
      retry,
    );
    res.once('close', () => {
      if (!res.writableFinished) request.destroy();
    });
    return done;
  }

  /**
   * The backend's answer to the client. Anything it sends that our side cannot write (a field
   * HTTP/2 refuses, a status out of range) cuts this response, never the server.
   */
  function relay(ctx: RequestContext, route: CompiledRoute, response: IncomingMessage): void {
    try {
      relayHead(ctx, route, response);
    } catch {
      cutShort(ctx.res);
      response.destroy();
    }
  }

  function relayHead(ctx: RequestContext, route: CompiledRoute, response: IncomingMessage): void {
    const { res } = ctx;
    const status = response.statusCode ?? 502;
    let headers = responseHeadersForClient(response.rawHeaders);
    if (route.changeOrigin || route.rewrite !== undefined || route.basePath !== '') {
      rewriteForClient(headers, {
        backendOrigin: route.origin,
        clientOrigin: clientOrigin(ctx),
        changeOrigin: route.changeOrigin,
        mapPath: (path) => clientPathFor(route, path),
      });
    }
    // --cors: on the backend's answers too, unless it says otherwise itself.
    for (const [name, value] of Object.entries(ctx.headers)) if (!(name in headers)) headers[name] = value;
    // -H and path-scoped rules, as on our own answers: the user's value wins, Vary is joined.
    const userHeaders = services.userHeaders?.forPath((ctx.req.url ?? '').split('?', 1)[0]!);
    if (userHeaders !== undefined) headers = applyUserHeaders(headers, userHeaders);
    if (deps.inject !== undefined && isPage(headers) && (status === 200 || status >= 400)) {
      if (ctx.method === 'HEAD') {
        // A GET gets the page with the script in: its length and validators are not these.
        for (const name of ['content-length', 'etag', 'last-modified']) delete headers[name];
      } else if (ctx.method === 'GET' && !(Number(headers['content-length']) > MAX_INJECTED_PAGE)) {
        relayPage(ctx, status, headers, response).catch(() => {
          cutShort(res);
          response.destroy();
        });
        return;
      }
    }
    writeResponse(res, { status, headers: headerList(headers), body: { kind: 'open' } });
    stream(response, res);
  }

  /** A backend's HTML page with the live-reload script in it: held (bounded), decoded, injected. */
  async function relayPage(ctx: RequestContext, status: number, headers: OutgoingHttpHeaders, response: IncomingMessage): Promise<void> {
    const { res } = ctx;
    const chunks: Buffer[] = [];
    let size = 0;
    const held = await new Promise<'whole' | 'large' | 'failed'>((resolve) => {
      const done = (outcome: 'whole' | 'large' | 'failed') => {
        response.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onError);
        resolve(outcome);
      };
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size > MAX_INJECTED_PAGE) {
          response.pause();
          done('large');
        }
      };
      const onEnd = () => done('whole');
      const onError = () => done('failed');
      response.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onError);
    });
    if (held === 'failed') return cutShort(res); // the backend died mid-page
    if (held === 'large') {
      // Too large to hold: what came so far, then the rest as it comes, without the script.
      writeResponse(res, { status, headers: headerList(headers), body: { kind: 'open' } });
      for (const chunk of chunks) res.write(chunk);
      stream(response, res);
      return;
    }
    const raw = Buffer.concat(chunks, size);
    const decoded = await decodeBody(raw, headerText(headers['content-encoding']), MAX_INJECTED_PAGE);
    if (res.destroyed) return;
    let body: Buffer = raw;
    if (decoded !== undefined) {
      ctx.status = status;
      ctx.entity = { ...htmlEntity(decoded), contentType: String(headers['content-type']) };
      try {
        await deps.inject!(ctx);
      } catch {
        // A page we cannot put the script in goes out as it is.
      }
      const injected = ctx.entity?.body;
      if (injected !== undefined && injected !== decoded) {
        body = injected;
        // The bytes are ours now: no coding, a new length, and validators of the backend's bytes no more.
        for (const name of ['content-encoding', 'etag', 'last-modified']) delete headers[name];
      }
    }
    headers['content-length'] = body.length;
    writeResponse(res, { status, headers: headerList(headers), body: { kind: 'bytes', bytes: body } }, services.endBody);
  }

  function tunnel(ctx: RequestContext, match: ProxyMatch, client: UpgradedConnection): Promise<StageResult> {
    // The backend speaks HTTP/1.1: an extended CONNECT becomes the GET with Upgrade it stands for
    // (RFC 8441 §5), with a key of our own, as HTTP/2 clients send none.
    const extended = client.via === 'connect';
    const request = backendRequest(ctx, match, extended ? 'websocket' : headerText(ctx.req.headers.upgrade), extended ? randomBytes(16).toString('base64') : undefined);
    request.end();
    return awaitHead(ctx, match, request, (settle) => {
      // The backend would not switch: its answer goes to the client like any other.
      request.once('response', (response: IncomingMessage) => {
        settle();
        relay(ctx, match.route, response);
      });
      request.once('upgrade', (response: IncomingMessage, backend: Socket, backendHead: Buffer) => {
        settle();
        const { socket } = client;
        // Both sides close together: an error or an end on one is the end of the other.
        const close = () => {
          socket.destroy();
          backend.destroy();
          tunnels.delete(socket);
        };
        if (socket.destroyed) return close();
        if (!extended) {
          // The response object the server made for this request is not used from here on.
          ctx.res.detachSocket(socket as Socket);
        }
        tunnels.add(socket);
        socket.on('error', close).on('close', close);
        backend.on('error', close).on('close', close);
        backend.setNoDelay(true);
        if (extended) {
          // RFC 8441 §5: 2xx accepts; Sec-WebSocket-Accept answers a key the client did not send.
          const headers = responseHeadersForClient(response.rawHeaders);
          delete headers['sec-websocket-accept'];
          writeResponse(ctx.res, { status: 200, headers: headerList(headers), body: { kind: 'open' } });
        } else {
          socket.write(planBytes({ status: 101, headers: headerList(responseHeadersForClient(response.rawHeaders, true)), body: { kind: 'none' } }));
        }
        if (backendHead.length > 0) socket.write(backendHead);
        if (client.head.length > 0) backend.write(client.head);
        socket.pipe(backend).pipe(socket);
      });
    });
  }

  return Object.assign(proxy, {
    close(): void {
      for (const socket of tunnels) socket.destroy();
      tunnels.clear();
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  });
}

/**
 * Backend to client, with backpressure both ways. A backend that dies mid-body makes the
 * pipeline fail, and the client's connection (or HTTP/2 stream) is cut rather than ended: a
 * short body must never look complete.
 */
function stream(response: IncomingMessage, res: RequestContext['res']): void {
  // By hand rather than stream.pipeline: that makes an AbortController per call and a
  // DOMException at its end, a tenth of the proxy's CPU per small response (a profile under wrk).
  const cut = () => {
    cutShort(res);
    response.destroy();
  };
  response.once('error', cut);
  response.once('aborted', cut);
  res.once('close', () => {
    if (!response.complete) response.destroy();
  });
  response.pipe(res);
}

/**
 * End a response as failed. With an error: an HTTP/2 stream destroyed without one is reset with
 * NO_ERROR, which a client may take for a complete body; with one, INTERNAL_ERROR.
 */
function cutShort(res: RequestContext['res']): void {
  res.destroy(new Error('the backend failed mid-response'));
}

/**
 * A request known to have no body: HTTP/1.1 without Content-Length or Transfer-Encoding (RFC
 * 9112 §6.3), or an HTTP/2 stream that ended with its headers. Its backend request ends at once
 * rather than a tick later, when the client's empty body would have been read.
 */
function hasNoBody(req: IncomingMessage): boolean {
  if (req.httpVersionMajor === 2) return (req as IncomingMessage & { stream?: { endAfterHeaders?: boolean } }).stream?.endAfterHeaders === true;
  return req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined;
}

function isWebSocketHandshake(ctx: RequestContext, connection: UpgradedConnection): boolean {
  if (connection.via === 'connect') return ctx.method === 'CONNECT' && ctx.req.headers[':protocol'] === 'websocket';
  return ctx.method === 'GET' && /(?:^|,)\s*websocket\s*(?:,|$)/i.test(headerText(ctx.req.headers.upgrade) ?? '');
}

function isPage(headers: OutgoingHttpHeaders): boolean {
  return /^\s*text\/html\b/i.test(headerText(headers['content-type']) ?? '');
}

function isEncrypted(req: IncomingMessage): boolean {
  return (req.socket as Socket & { encrypted?: boolean } | undefined)?.encrypted === true || req.httpVersionMajor === 2;
}

/** The origin the client used: where a rewritten Location must send it back to. */
function clientOrigin(ctx: RequestContext): string {
  const authority = ctx.req.headers.host ?? headerText(ctx.req.headers[':authority']) ?? 'localhost';
  return `${isEncrypted(ctx.req) ? 'https' : 'http'}://${authority}`;
}

function headerText(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : String(value);
}

function code(text: string): string {
  return `<code>${escapeHtml(text)}</code>`;
}
