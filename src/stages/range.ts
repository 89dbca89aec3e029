import { asksForRange, HANDLED, isServingEntity, type RequestContext, type StageResult } from '../context.js';
import { ifRangeAllows } from '../http/preconditions.js';
import { parseRangeHeader, unsatisfiedContentRange } from '../http/range.js';
import { forwardError } from '../respond.js';

/**
 * Range requests (RFC 9110 §14) on files. Ranges address the identity bytes, so
 * a request with Range is never compressed (the compression stage leaves it
 * alone). Generated pages (listings, injected HTML) are answered whole: their
 * bytes are not stable across requests, so a range of them means nothing.
 */
export function selectRanges(ctx: RequestContext): StageResult {
  if (!asksForRange(ctx) || !isServingEntity(ctx) || ctx.appStatus !== undefined) return;
  const entity = ctx.entity!;
  if (entity.file === undefined || ctx.encoded !== undefined) return;
  const validators = { etag: entity.etag, lastModified: entity.lastModifiedMs };
  const ifRange = ctx.req.headers['if-range'];
  if (!ifRangeAllows(typeof ifRange === 'string' ? ifRange : undefined, validators)) return;

  const decision = parseRangeHeader(ctx.req.headers.range, entity.size);
  if (decision.kind === 'full') return;
  if (decision.kind === 'unsatisfiable') {
    const contentRange = unsatisfiedContentRange(entity.size);
    if (forwardError(ctx, 416, { 'Content-Range': contentRange })) return HANDLED;
    ctx.status = 416;
    ctx.headers['content-range'] = contentRange;
    ctx.entity = undefined;
    return;
  }
  ctx.status = 206;
  ctx.ranges = decision.ranges;
}
