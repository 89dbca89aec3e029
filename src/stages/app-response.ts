import type { RequestContext, StageResult } from '../context.js';

/**
 * As middleware, the app may have begun the response before us: a status, a
 * Content-Type, headers for the representation it meant to send. We follow the
 * conventions of Express's own static middleware (the `send` module), so an app
 * moved from serve-static behaves the same:
 * - a Content-Type the app set wins for a file it lets us send;
 * - a status the app set (a 500 page served from a file) is kept, and is never
 *   turned into a 304 or 206 (the preconditions and range stages stand aside);
 * - an error page or redirect of ours carries none of the app's headers: they
 *   described another representation;
 * - a 304 carries none of its Content-* fields (RFC 9110 §15.4.5), except
 *   Content-Location.
 * Standalone (no `next`), nobody wrote before us and this stage does nothing.
 */
export function respectAppResponse(ctx: RequestContext): StageResult {
  if (ctx.next === undefined) return;
  const { res } = ctx;
  if (ctx.status === 304) {
    for (const name of res.getHeaderNames()) {
      if (name.startsWith('content-') && name !== 'content-location') res.removeHeader(name);
    }
    return;
  }
  if (ctx.status >= 300 && ctx.status !== ctx.appStatus) {
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    return;
  }
  const type = res.getHeader('content-type');
  if (ctx.entity !== undefined && typeof type === 'string') ctx.entity = { ...ctx.entity, contentType: type };
  if (ctx.appStatus !== undefined && ctx.status === 200) ctx.status = ctx.appStatus;
}
