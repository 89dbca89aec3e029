import { HANDLED, type RequestContext, type StageResult } from '../context.js';
import { fail } from '../respond.js';

export const ALLOW = 'GET, HEAD, OPTIONS';

/**
 * A static server has two safe methods to serve (RFC 9110 §9.3.1, §9.3.2) and
 * answers OPTIONS with what it allows (§9.3.7). Everything else is 405 with the
 * same Allow header (§15.5.6) — TRACE and CONNECT included, so nothing is ever
 * echoed or tunnelled.
 *
 * As middleware, only GET and HEAD are ours: the app's own POST routes, its
 * CORS middleware answering OPTIONS, its 405s, all come after us and must be
 * reached, as with Express's static middleware.
 */
export function checkMethod(ctx: RequestContext): StageResult {
  const { method } = ctx;
  if (method === 'GET' || method === 'HEAD') return;
  if (ctx.next !== undefined) {
    ctx.next();
    return HANDLED;
  }
  ctx.headers['allow'] = ALLOW;
  if (method === 'OPTIONS') {
    ctx.status = 204;
    return;
  }
  return fail(ctx, 405);
}
