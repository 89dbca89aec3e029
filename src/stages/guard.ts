import type { RequestContext, StageResult } from '../context.js';
import { mapRequestPath } from '../fs/map-path.js';
import { fail } from '../respond.js';

/**
 * Path guard: the request target becomes a path inside the root, or an error.
 * Nothing after this stage looks at `req.url` again.
 */
export function guardPath(ctx: RequestContext): StageResult {
  if (ctx.status !== 200) return;
  const mapped = mapRequestPath(requestPath(ctx.req.url ?? ''), ctx.options.root, ctx.options.dotfiles);
  if (!mapped.ok) return fail(ctx, mapped.status);
  ctx.target = mapped.path;
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
