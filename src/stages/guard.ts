import type { RequestContext, StageResult } from '../context.js';
import { mapRequestPath, type MapResult } from '../fs/map-path.js';
import type { ResolvedOptions } from '../options.js';
import { boundedMemo } from '../memo.js';
import { fail } from '../respond.js';

/** Bounds of the memory of mapped targets, per handler: entries, and length of a target kept. */
export const MAX_CACHED_TARGETS = 512;
export const MAX_CACHED_TARGET_LENGTH = 512;

/**
 * Path guard: the request target becomes a path inside the root, or an error.
 * Nothing after this stage looks at `req.url` again.
 *
 * A page asks for the same few targets again and again, and mapping one is a
 * pure function of the target, the root and the dotfiles rule: its answer is
 * kept. Whether the file exists is not part of it (resolution stats every time).
 */
export function createPathGuard(options: ResolvedOptions): (ctx: RequestContext) => StageResult {
  const mapTarget = boundedMemo(MAX_CACHED_TARGETS, MAX_CACHED_TARGET_LENGTH, (url): MapResult => {
    const mapped = mapRequestPath(requestPath(url), options.root, options.dotfiles);
    // Shared by every request for this target: no stage may change it.
    if (mapped.ok) Object.freeze(Object.freeze(mapped.path).segments);
    return Object.freeze(mapped);
  });
  return function guardPath(ctx: RequestContext): StageResult {
    if (ctx.status !== 200) return;
    const mapped = mapTarget(ctx.req.url ?? '');
    if (!mapped.ok) return fail(ctx, mapped.status);
    ctx.target = mapped.path;
  };
}

/**
 * RFC 9112 §3.2.2: a server must accept the absolute form (`GET http://h/p`);
 * only its path and query matter here. Anything else that is not origin-form
 * (a malformed authority such as `http://[::1`, `*`) fails the guard with 400.
 */
function requestPath(url: string): string {
  if (url.charCodeAt(0) === 0x2f /* '/' */) return url;
  const match = /^https?:\/\/[^/?#]+/i.exec(url);
  if (match === null || !URL.canParse(match[0])) return url;
  const rest = url.slice(match[0].length);
  return rest === '' || rest.charCodeAt(0) === 0x3f /* '?' */ ? `/${rest}` : rest;
}
