import { HANDLED, type RequestContext, type Stage, type StageResult } from '../context.js';
import type { BasicAuth } from '../http/basic-auth.js';
import { fail, forwardError } from '../respond.js';
import { send } from './send.js';

const EXPLANATION = 'This server asks for a user name and password (it was started with <code>--auth</code>).';

/**
 * `--auth`: HTTP Basic (RFC 7617) in front of everything that follows: files,
 * listings, 404s, redirects, the live-reload script and event stream. The 401 is
 * sent at once, so no later stage looks anything up for a stranger.
 *
 * An answer already settled before this stage is left alone: a refused or malformed
 * Host (400, 403) and a method we do not serve (405, OPTIONS) reveal nothing about
 * the files. The Host refusal matters most: a 401 there would put a password prompt
 * in front of the user on behalf of a DNS-rebinding page, whose script could then
 * read what the browser sends with the password.
 */
export function createAuthCheck(auth: BasicAuth): Stage {
  return function checkAuth(ctx: RequestContext): StageResult {
    if (ctx.status !== 200 || auth.check(ctx.req.headers.authorization)) return;
    // RFC 9110 §11.6.1: a 401 carries the challenge, ours or the app's (forwardErrors).
    if (forwardError(ctx, 401, { 'WWW-Authenticate': auth.challenge })) return HANDLED;
    ctx.headers['www-authenticate'] = auth.challenge;
    fail(ctx, 401, EXPLANATION);
    send(ctx);
    return HANDLED;
  };
}
