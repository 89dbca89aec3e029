import { finishing, type RequestContext, type StageResult } from '../context.js';
import { hasMediaType } from '../fs/content-type.js';
import { isSpaNavigation } from '../http/navigation.js';
import type { SpaFallback } from '../options.js';
import { addVary, isMiss, settleMiss } from '../respond.js';
import { fileEntity } from './resolve.js';

/**
 * The one place a miss is settled, after every stage that could have found
 * something. With `--spa`, a browser navigation to a path where nothing exists
 * gets the app's page with 200: the runner then runs the stages after this one
 * (compression, preconditions, ranges) as for any file, so the page has its 304.
 * Otherwise `next()` in middleware mode, else the site's 404.html or our page.
 * Earlier stages only record a miss (`fail(ctx, 404)`), so it can still be recovered here.
 */
export const settleNotFound = finishing(function settleNotFound(ctx: RequestContext): StageResult {
  if (!isMiss(ctx)) return;
  const spa = ctx.options.spa;
  if (spa !== undefined && ctx.absent) {
    // One URL is the page for a navigation and a 404 for fetch(): caches must tell them apart.
    addVary(ctx, 'Accept');
    if (serveSpaPage(ctx, spa)) return;
  }
  return settleMiss(ctx);
});

/**
 * As middleware too: the app asked for the fallback (its own routes, mounted before us, come
 * first), while asset misses and non-navigations still reach `next()`. The page is looked up
 * through the file cache like any file, so an edit shows at once.
 */
function serveSpaPage(ctx: RequestContext, spa: SpaFallback): boolean {
  const target = ctx.target;
  if (target === undefined) return false;
  if (!isSpaNavigation({ method: ctx.method, accept: ctx.req.headers.accept, segments: target.segments }, hasMediaType)) return false;
  const page = ctx.services.files.lookup(spa.absolute);
  // Deleted since start (a rebuild in progress): a plain miss until it is back.
  if (typeof page !== 'object' || page.kind !== 'file') return false;
  ctx.status = 200;
  ctx.entity = fileEntity(page);
  return true;
}
