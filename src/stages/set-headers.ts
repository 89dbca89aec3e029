import { statSync, type Stats } from 'node:fs';
import { finishing, type RequestContext, type Stage, type StageResult } from '../context.js';

/**
 * The `setHeaders(res, path, stat)` hook, as serve-static calls it: for every response
 * that carries a file (200, 206, and the 304 that revalidates it), just before its
 * headers go out, so the app can add or replace fields by path. What it sets on `res`
 * wins over our own fields (send.ts). Listings, error pages and redirects are not
 * files: the hook is not called for them. A file gone since it was judged is not
 * reported to the hook; sending meets (and answers) that on its own.
 */
export function createSetHeaders(hook: (res: RequestContext['res'], path: string, stat: Stats) => void): Stage {
  return finishing(function callSetHeaders(ctx: RequestContext): StageResult {
    const file = ctx.entity?.file;
    if (file === undefined || !(ctx.status === 200 || ctx.status === 206 || ctx.status === 304)) return;
    const stat = statSync(file.absolute, { throwIfNoEntry: false });
    if (stat !== undefined) hook(ctx.res, file.absolute, stat);
  });
}
