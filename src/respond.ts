import { STATUS_CODES, type ServerResponse } from 'node:http';
import { withSeparator } from './fs/map-path.js';
import { HANDLED, type Entity, type RequestContext, type StageResult } from './context.js';
import { renderErrorPage, type PageLink } from './error-page.js';
import { ERROR_PAGE_POLICY, LISTING_POLICY } from './page-style.js';

export { ERROR_PAGE_POLICY, LISTING_POLICY };

export const HTML_TYPE = 'text/html; charset=utf-8';

/** Response header fields as a flat [name, value, ...] list: the cheapest form for writeHead. */
export type HeaderList = Array<string | number>;

/** What a response is: its status, its header fields, and its body. */
export interface ResponsePlan {
  status: number;
  headers: HeaderList;
  /**
   * `bytes`: the whole body, held in memory (a HEAD gets the head only);
   * `none`: no body (204, 304, a bodiless 4xx says Content-Length: 0 in its headers);
   * `open`: the head now; the caller writes the body after it (a file, an event stream).
   */
  body: { kind: 'bytes'; bytes: Buffer } | { kind: 'none' } | { kind: 'open' };
}

/** How a body held in memory is written and the response ended: the transport's to decide (see Services.endBody). */
export type EndBody = (res: ServerResponse, body: Buffer) => void;

const endPlainly: EndBody = (res, body) => res.end(body);

/**
 * THE response writer: every response serve-dir sends goes out here, the pipeline's
 * (send.ts, the 500/503 path) and the live-reload endpoint's (script, event stream,
 * refusals) alike. Stages decide the plan, and the header policy (nosniff, CSP,
 * Cache-Control, CORS, Vary, the user's -H) is applied to it before it gets here.
 */
export function writeResponse(res: ServerResponse, plan: ResponsePlan, endBody: EndBody = endPlainly): void {
  res.writeHead(plan.status, plan.headers);
  const { body } = plan;
  if (body.kind === 'open') return;
  if (body.kind === 'none' || res.req?.method === 'HEAD') res.end();
  else endBody(res, body.bytes);
}

/**
 * The client went away (or the response was cut). node:http2's compatibility response
 * has no `destroyed` of its own: its stream does.
 */
export function responseGone(res: ServerResponse): boolean {
  return res.destroyed || (res as ServerResponse & { stream?: { destroyed: boolean } }).stream?.destroyed === true;
}

/**
 * A plan as the bytes of an HTTP/1.1 response, for the few answers given where Node
 * has handed over a bare socket and no response object (a malformed request, CONNECT).
 * Bodiless: such answers close the connection after their head.
 */
export function planBytes(plan: ResponsePlan & { body: { kind: 'none' } }): string {
  let head = `HTTP/1.1 ${plan.status} ${STATUS_CODES[plan.status] ?? 'Unknown'}\r\n`;
  for (let i = 0; i < plan.headers.length; i += 2) head += `${plan.headers[i]}: ${plan.headers[i + 1]}\r\n`;
  return `${head}\r\n`;
}

/** A short plain-text answer (refusals of the live-reload endpoint): the plan, with its length. */
export function textPlan(status: number, text: string, headers: HeaderList = []): ResponsePlan {
  const bytes = Buffer.from(`${text}\n`);
  return { status, headers: ['content-type', 'text/plain; charset=utf-8', 'content-length', bytes.length, ...headers], body: { kind: 'bytes', bytes } };
}

/** An in-memory HTML entity (listings, error and redirect pages). */
export function htmlEntity(html: string | Buffer, etag = ''): Entity {
  const body = typeof html === 'string' ? Buffer.from(html) : html;
  return { contentType: HTML_TYPE, size: body.length, etag, lastModified: '', lastModifiedMs: Number.NaN, body, file: undefined };
}

/**
 * Answer with an error status. The body never echoes the request or names a
 * server path. A 404 is only recorded here (a miss is data): the not-found
 * stage settles it late, once, as a `404.html`, `next()`, or a fallback.
 */
export function fail(ctx: RequestContext, status: number, explanation?: string): StageResult {
  if (status === 404) {
    ctx.status = 404;
    ctx.entity = undefined;
    return;
  }
  if (forwardError(ctx, status)) return HANDLED;
  ctx.status = status;
  ctx.headers['content-security-policy'] = ERROR_PAGE_POLICY;
  ctx.entity = htmlEntity(renderErrorPage({ status, explanation, links: [rootLink(ctx)] }));
}

/** A recorded miss: 404 with nothing to send yet. */
export function isMiss(ctx: RequestContext): boolean {
  return ctx.status === 404 && ctx.entity === undefined;
}

/**
 * What a miss becomes. As middleware: the app's next handler. Standalone: the
 * root's `404.html` when there is one, else our page. (The not-found stage first
 * gives a `--spa` navigation the app's page.)
 */
export function settleMiss(ctx: RequestContext): StageResult {
  if (!isMiss(ctx)) return;
  if (ctx.next !== undefined) {
    ctx.next();
    return HANDLED;
  }
  const custom = customNotFoundPage(ctx);
  // The site's own 404.html may load its styles and scripts; only our pages are locked down.
  if (custom === undefined) ctx.headers['content-security-policy'] = ERROR_PAGE_POLICY;
  ctx.entity = custom ?? htmlEntity(renderErrorPage({ status: 404, links: notFoundLinks(ctx) }));
}

/** The root of what we serve, mount included: every error page's way back. */
export function rootLink(ctx: RequestContext): PageLink {
  return { href: `${ctx.mount.prefix}/`, label: `${ctx.mount.shown}/`, note: 'The top folder' };
}

/** Deeper than this, the 404 page looks no further for a folder that exists. */
const MAX_PARENT_DEPTH = 32;

/**
 * A 404's way back: the nearest folder above the address that exists and can
 * be shown (listed, or with an index page), then the root. Folders are looked up
 * from the root down, so a hostile address a thousand segments deep costs as
 * many lookups as the real tree is deep, never more than MAX_PARENT_DEPTH. The
 * segments passed the path guard (no dot segments, no dotfiles unless allowed),
 * and what is shown of them is a folder that exists, escaped: the request itself
 * is never echoed.
 */
function notFoundLinks(ctx: RequestContext): PageLink[] {
  const root = rootLink(ctx);
  const segments = ctx.target?.segments;
  if (segments === undefined) return [root];
  const { files, options } = ctx.services;
  let nearest = 0;
  let absolute = withSeparator(options.root);
  // Only folders above the address: the last segment is what was not found (or not shown).
  const limit = Math.min(segments.length - 1, MAX_PARENT_DEPTH);
  for (let depth = 1; depth <= limit; depth++) {
    absolute += segments[depth - 1];
    const found = files.lookup(absolute);
    if (typeof found !== 'object' || found.kind !== 'directory') break;
    absolute += '/';
    if (isShown(ctx, absolute)) nearest = depth;
  }
  if (nearest === 0) return [root];
  const shown = segments.slice(0, nearest);
  const folder: PageLink = {
    href: `${ctx.mount.prefix}/${shown.map(encodeURIComponent).join('/')}/`,
    label: `${ctx.mount.shown}/${shown.join('/')}/`,
    note: 'The nearest folder that exists',
  };
  return [folder, root];
}

/** A folder a visitor can open: listings are on, or it has an index page. */
function isShown(ctx: RequestContext, folder: string): boolean {
  if (ctx.options.listing) return true;
  return ctx.options.index.some((name) => {
    const index = ctx.services.files.lookup(folder + name);
    return typeof index === 'object' && index.kind === 'file';
  });
}

/**
 * With `forwardErrors`, a client error other than 404 goes to the app's error
 * handler as `next(err)`, with `status`/`statusCode` (and `headers` the answer
 * needs), as serve-static does with `fallthrough: false`. True when handed on.
 */
export function forwardError(ctx: RequestContext, status: number, headers?: Record<string, string>): boolean {
  if (ctx.next === undefined || !ctx.options.forwardErrors || status < 400 || status > 499 || status === 404) return false;
  const error = Object.assign(new Error(STATUS_CODES[status] ?? 'Client error'), {
    status,
    statusCode: status,
    // Express's error handler shows the message of an error that says it may be exposed.
    expose: true,
    ...(headers === undefined ? {} : { headers }),
  });
  ctx.next(error);
  return true;
}

/** 301 to a path on this server. `location` must already be a safe, encoded path. */
export function redirect(ctx: RequestContext, location: string): void {
  ctx.status = 301;
  ctx.headers['location'] = location;
  ctx.headers['content-security-policy'] = ERROR_PAGE_POLICY;
  // No link to the new address: it carries the request's query, and a page echoes nothing of a request.
  ctx.entity = htmlEntity(renderErrorPage({ status: 301 }));
}

function customNotFoundPage(ctx: RequestContext): Entity | undefined {
  const { files, options } = ctx.services;
  const found = files.lookup(withSeparator(options.root) + '404.html');
  if (typeof found !== 'object' || found.kind !== 'file' || found.body === undefined) return undefined;
  return { ...htmlEntity(found.body), etag: '' };
}

/** Add a request header name to Vary (RFC 9110 §12.5.5), keeping names already there. */
export function addVary(ctx: RequestContext, name: string): void {
  const current = ctx.headers['vary'];
  ctx.headers['vary'] = current === undefined ? name : `${String(current)}, ${name}`;
}
