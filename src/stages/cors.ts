import { HANDLED, type RequestContext, type StageResult } from '../context.js';
import { CORS_RESPONSE_HEADERS, preflightHeaders } from '../http/cors.js';
import { send } from './send.js';

/**
 * `--cors`: any origin may read what serve-dir sends (src/http/cors.ts says why `*`).
 *
 * A preflight is answered here, first of all: before the method stage, which as
 * middleware hands every OPTIONS to the app, and before auth, since browsers send
 * preflights without credentials (Fetch §3.2.5 "CORS-preflight fetch"); a 204 with
 * the allowed methods reveals nothing about the files. Every other response gets the
 * CORS headers through ctx.headers, so errors, redirects, 304s, listings and the 401
 * carry them. The live-reload event stream does not: the hub writes it itself, and
 * only pages of this origin have any business with it.
 */
export function answerCors(ctx: RequestContext): StageResult {
  const preflight = preflightHeaders(ctx.method, ctx.req.headers);
  if (preflight === undefined) {
    Object.assign(ctx.headers, CORS_RESPONSE_HEADERS);
    return;
  }
  ctx.status = 204;
  Object.assign(ctx.headers, preflight);
  send(ctx);
  return HANDLED;
}
