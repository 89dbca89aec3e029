import { isServingEntity, type RequestContext, type StageResult } from '../context.js';
import { evaluatePreconditions } from '../http/preconditions.js';
import { fail } from '../respond.js';

/**
 * Conditional requests (RFC 9110 §13): 304 when the client's copy is current,
 * 412 when a precondition fails. Compared against the representation that would
 * be sent, so a gzip body's tag revalidates a gzip copy. A response the app
 * already gave another status (an error page served from a file) is the app's:
 * its status is kept, never turned into a 304 or 412.
 */
export function checkPreconditions(ctx: RequestContext): StageResult {
  if (!isServingEntity(ctx) || ctx.appStatus !== undefined) return;
  const headers = ctx.req.headers;
  const ifMatch = headers['if-match'];
  const ifNoneMatch = headers['if-none-match'];
  const ifModifiedSince = headers['if-modified-since'];
  const ifUnmodifiedSince = headers['if-unmodified-since'];
  if (ifMatch === undefined && ifNoneMatch === undefined && ifModifiedSince === undefined && ifUnmodifiedSince === undefined) {
    return;
  }
  const entity = ctx.entity!;
  const outcome = evaluatePreconditions(
    ctx.method,
    { ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince },
    // Generated pages have no date (NaN): their tag alone decides.
    { etag: ctx.encoded?.etag ?? entity.etag, lastModified: entity.lastModifiedMs },
  );
  if (outcome === 'not-modified') {
    ctx.status = 304;
    return;
  }
  if (outcome === 'precondition-failed') return fail(ctx, 412);
}
