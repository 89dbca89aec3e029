import type { IncomingMessage, ServerResponse } from 'node:http';
import { finishing, HANDLED, type RequestContext, type Services, type Stage } from './context.js';
import { FileCache } from './fs/file-cache.js';
import { CORS_RESPONSE_HEADERS } from './http/cors.js';
import { VariantCache } from './fs/variant-cache.js';
import { ListingCache } from './listing/cache.js';
import { requestErrorEvent } from './events.js';
import { resolveOptions, type Options, type ResolvedOptions } from './options.js';
import { renderErrorPage } from './error-page.js';
import { ERROR_PAGE_POLICY, htmlEntity, responseGone, rootLink } from './respond.js';
import { createAuthCheck } from './stages/auth.js';
import { compress } from './stages/compress.js';
import { answerCors } from './stages/cors.js';
import { checkPreconditions } from './stages/conditional.js';
import { createProxyStage, type UpgradedConnection } from './stages/proxy.js';
import { createPathGuard } from './stages/guard.js';
import { createHiddenFiles } from './stages/hide.js';
import { createHostCheck } from './stages/host.js';
import { listDirectory } from './stages/listing.js';
import { createLiveReloadStages } from './stages/livereload.js';
import { checkMethod } from './stages/method.js';
import { selectRanges } from './stages/range.js';
import { respectAppResponse } from './stages/app-response.js';
import { mountOf, NO_MOUNT } from './stages/mount.js';
import { settleNotFound } from './stages/not-found.js';
import { createSetHeaders } from './stages/set-headers.js';
import { resolveFile } from './stages/resolve.js';
import { send } from './stages/send.js';

export type NextFunction = (error?: unknown) => void;

/** A node:http request listener that also works as Connect/Express middleware. */
export interface Handler {
  (req: IncomingMessage, res: ServerResponse, next?: NextFunction): void;
  /** The options in force, defaults filled in. */
  readonly options: ResolvedOptions;
  /**
   * With `watch`, resolves once the watcher has scanned the tree: changes from then on
   * reach open pages. Requests are served before that; without `watch` it is resolved.
   */
  readonly ready: Promise<void>;
  /** Stop the watcher and close live-reload streams (no-op without `watch`). */
  close(): Promise<void>;
}

/**
 * Build the request handler. THE PIPELINE: every request runs these stages in
 * order; each reads and fills the request context, and any stage may settle the
 * status early (an error, a redirect, a 304) for the later ones to respect.
 */
export function createHandler(options: Options = {}): Handler {
  return buildHandler(resolveOptions(options));
}

/** The handler as the server holds it: it also learns where the server listens. */
export interface ServerHandler extends Handler {
  /** The address of every listening socket, as `server.address()` reports it (the Host check follows them). */
  listeningOn(addresses: readonly string[]): void;
}

/** createHandler for options already resolved (the server resolves them once for both). */
/** What the server that owns the connections lends the pipeline (see server.ts). */
export interface Transport {
  endBody: Services['endBody'];
  /** The connection of a request the server received as an HTTP/1.1 Upgrade (WebSocket), for the proxy to tunnel. */
  upgradeOf?: (req: IncomingMessage) => UpgradedConnection | undefined;
}

const PLAIN_TRANSPORT: Transport = { endBody: (res, body) => res.end(body) };

export function buildHandler(resolved: ResolvedOptions, transport: Transport = PLAIN_TRANSPORT): ServerHandler {
  const services: Services = {
    options: resolved,
    // --cache-memory bounds all three: half for file contents, a quarter each
    // for compressed variants (smaller than their sources) and listings.
    files: new FileCache(resolved.root, Math.floor(resolved.cacheMemory / 2), resolved.dotfiles),
    variants: new VariantCache(Math.floor(resolved.cacheMemory / 4)),
    listings: new ListingCache(Math.floor(resolved.cacheMemory / 4)),
    liveReload: undefined,
    cacheControl: cacheControlFor(resolved),
    userHeaders: resolved.headerRules.empty ? undefined : resolved.headerRules,
    endBody: transport.endBody,
  };
  const liveReload = resolved.watch ? createLiveReloadStages(services) : undefined;
  const checkHost = createHostCheck(resolved);
  const checkAuth = resolved.auth === undefined ? undefined : createAuthCheck(resolved.auth);
  const proxy =
    resolved.proxy.length === 0 ? undefined : createProxyStage(services, { auth: checkAuth, inject: liveReload?.inject, upgradeOf: transport.upgradeOf });

  // Once a stage decides the answer (any status but 200), the runner goes straight
  // to the stages marked ⏎, which finish every answer. The runner looks at the status
  // before each stage: a miss the not-found stage turns into the --spa page (200)
  // goes on through compression, preconditions and ranges like any file.
  const stages: Stage[] = [
    // Route-like stages: about the request, before any file is looked at.
    checkHost, //              one well-formed Host (400 + close); DNS-rebinding defence (403)
    resolved.cors ? answerCors : undefined, // CORS preflight -> 204 (no credentials needed); CORS headers on the rest
    proxy, //                  --proxy prefixes: auth first, then any method streamed to the backend; 400 on escapes, 502/504
    checkMethod, //            GET/HEAD go on; OPTIONS 204; others 405 (or next() as middleware)
    checkAuth, //              HTTP Basic, else 401
    liveReload?.endpoint, //   /__serve-dir/ client script and event stream (with --cors and -H)
    // File stages.
    createPathGuard(resolved), // request target -> path inside the root, or 400/404
    resolveFile, //            stat; file, index file, slash redirect, or directory; a miss is recorded
    createHiddenFiles(resolved.hide), // the config file is never served (404)
    listDirectory, //          directory without index -> HTML or JSON listing
    settleNotFound, //       ⏎ a miss becomes the --spa page (200: the stages below run), next(), 404.html or our 404 page
    liveReload && finishing(liveReload.inject), // ⏎ live-reload script into every HTML page we send
    // The coding is chosen before preconditions are checked: a gzip body is a
    // representation of its own with its own ETag (RFC 9110 §8.8.3), and
    // If-None-Match must be compared with the tag of what would be sent.
    resolved.compress ? compress : undefined, // br / gzip, precompressed sidecars
    checkPreconditions, //     validators: 304 / 412 (RFC 9110 §13)
    selectRanges, //           Range / If-Range: 206 / 416 (RFC 9110 §14), identity only
    resolved.setHeaders && createSetHeaders(resolved.setHeaders), // ⏎ the app's setHeaders(res, path, stat) for file responses
    finishing(respectAppResponse), // ⏎ middleware: the app's status and Content-Type; none of its headers on our errors
    finishing(send), //        ⏎ the plan (status, headers, body) to writeResponse, the one writer
  ].filter((stage): stage is Stage => stage !== undefined);

  const handler = (req: IncomingMessage, res: ServerResponse, next?: NextFunction): void => {
    const ctx: RequestContext = {
      req,
      res,
      services,
      options: resolved,
      next,
      method: req.method ?? 'GET',
      appStatus: next !== undefined && res.statusCode !== 200 ? res.statusCode : undefined,
      mount: next === undefined ? NO_MOUNT : mountOf(req),
      target: undefined,
      absent: false,
      directory: undefined,
      status: 200,
      headers: {},
      entity: undefined,
      ranges: undefined,
      encoded: undefined,
    };
    runStages(stages, ctx, 0);
  };
  return Object.assign(handler, {
    options: resolved,
    ready: liveReload?.ready ?? Promise.resolve(),
    listeningOn: checkHost.listeningOn,
    close: async () => {
      services.listings.close();
      proxy?.close();
      await liveReload?.close();
    },
  });
}

/** Run stages from `index`, synchronously while they are synchronous. */
function runStages(stages: readonly Stage[], ctx: RequestContext, index: number): void {
  try {
    for (let i = index; i < stages.length; i++) {
      const stage = stages[i] as Stage;
      if (ctx.status !== 200 && stage.finishes !== true) continue;
      const result = stage(ctx);
      if (result === HANDLED) return;
      if (result !== undefined) {
        result.then(
          (settled) => {
            if (settled !== HANDLED) runStages(stages, ctx, i + 1);
          },
          (error: unknown) => answerInternalError(ctx, error),
        );
        return;
      }
    }
  } catch (error) {
    answerInternalError(ctx, error);
  }
}

let lastDescriptorWarning = 0;

/**
 * Out of file descriptors (EMFILE, ENFILE) is load, not a bug: the excess gets
 * 503 with Retry-After, and the terminal one line a minute saying what to do.
 * Anything else is our own bug: logged with its stack, answered 500 without
 * details, and everyone else is still served.
 */
function answerInternalError(ctx: RequestContext, error: unknown): void {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const overloaded = code === 'EMFILE' || code === 'ENFILE';
  if (!overloaded) {
    ctx.options.emit(requestErrorEvent(ctx.method, ctx.req.url ?? '', error));
  } else if (Date.now() - lastDescriptorWarning > 60_000) {
    lastDescriptorWarning = Date.now();
    ctx.options.emit({ type: 'warning', code: 'out-of-descriptors', from: 'server', message: `out of file descriptors (${code}); answering 503 until some close (raise the limit with ulimit -n)` });
  }
  const { res } = ctx;
  if (res.headersSent || responseGone(res)) {
    res.destroy();
    return;
  }
  // What stages decided is dropped: the error page goes out through the one writer,
  // with the same header policy as any other (nosniff, no-cache, -H).
  ctx.status = overloaded ? 503 : 500;
  ctx.headers = {
    'content-security-policy': ERROR_PAGE_POLICY,
    ...(overloaded ? { 'retry-after': '1' } : {}),
    // A page reading a file cross-origin must be able to see that the server failed.
    ...(ctx.options.cors ? CORS_RESPONSE_HEADERS : {}),
  };
  ctx.entity = htmlEntity(renderErrorPage({ status: ctx.status, links: [rootLink(ctx)] }));
  ctx.ranges = undefined;
  ctx.encoded = undefined;
  try {
    void send(ctx);
  } catch {
    res.destroy(); // a header the user set that Node refuses: nothing more can be said
  }
}

/** `no-cache` by default: browsers revalidate every time, so an edit always shows (and 304s keep it fast). */
export function cacheControlFor(options: ResolvedOptions): string {
  if (options.cache === undefined) return 'no-cache';
  return `public, max-age=${options.cache}${options.immutable ? ', immutable' : ''}`;
}
