import { isIP } from 'node:net';
import type { RequestContext, StageResult } from '../context.js';
import type { ResolvedOptions } from '../options.js';
import { fail } from '../respond.js';

/**
 * DNS-rebinding defence. A page on evil.example can make its own name resolve
 * to 127.0.0.1 and then read from a server on localhost as same-origin; the
 * only trace is the Host header, which still says evil.example. So while we
 * listen on loopback only, any Host that is not a loopback name is refused.
 * Bound to a network address, the user chose to be reachable by any name.
 */
export function createHostCheck(options: ResolvedOptions): ((ctx: RequestContext) => StageResult) | undefined {
  if (!isLoopbackBind(options.bind)) return undefined;
  const allowed = new Set(options.allowedHost.map((host) => host.toLowerCase()));
  return function checkHost(ctx: RequestContext): StageResult {
    const host = ctx.req.headers.host;
    // HTTP/1.0 clients may omit Host; browsers (the attack's vehicle) never do.
    if (host === undefined) return;
    const name = hostName(host);
    if (isLoopbackName(name) || allowed.has(name)) return;
    return fail(ctx, 403);
  };
}

export function isLoopbackBind(bind: string): boolean {
  return isLoopbackName(bind.toLowerCase().replace(/^\[(.*)\]$/, '$1'));
}

/** localhost, *.localhost (RFC 6761 §6.3), 127.0.0.0/8 and ::1. */
export function isLoopbackName(name: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  return name === '::1' || name === '0:0:0:0:0:0:0:1';
}

/** The host part of a Host header: lower-cased, port and IPv6 brackets removed, trailing dot dropped. */
export function hostName(header: string): string {
  let host = header.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(1, end);
  }
  const colon = host.indexOf(':');
  if (colon !== -1) host = host.slice(0, colon);
  return host.endsWith('.') ? host.slice(0, -1) : host;
}
