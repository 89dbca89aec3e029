import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { RequestContext, StageResult } from '../context.js';
import type { EmitEvent } from '../events.js';
import type { ResolvedOptions } from '../options.js';
import { boundedMemo } from '../memo.js';
import { fail } from '../respond.js';

/**
 * The Host header, checked before anything is looked up.
 *
 * First its shape: RFC 9112 §3.2 says a server MUST answer 400 to a request
 * with more than one Host line or a Host that is not `host[:port]`. Two Hosts
 * are a smuggling tool (a proxy routes by one while we would serve by the
 * other), and a request this malformed says nothing trustworthy about where its
 * next one starts, so the connection is closed too.
 *
 * Then the DNS-rebinding defence. A page on evil.example can make its own name
 * resolve to 127.0.0.1 and then read from a server on localhost as same-origin;
 * the only trace is the Host header, which still says evil.example. So while we
 * listen on loopback only, any Host that is not a loopback name is refused.
 * Bound to a network address, the user chose to be reachable by any name.
 *
 * Whether we listen on loopback only is a fact about the sockets, not about how
 * the address was spelled (`127.1`, `0x7f.1`, `::ffff:127.0.0.1` are loopback
 * too): the server tells the check the addresses it bound (`listeningOn`) before
 * the first request on them. Until then, as in a handler mounted on another
 * server, it goes by the `bind` option.
 */
export function createHostCheck(options: ResolvedOptions): HostCheck {
  // The syntax rule is RFC 9112's and always holds; the rebinding defence is the
  // server's (startServer and the CLI ask for it). A handler inside someone's app
  // behind nginx or on a LAN cannot know its names, so it checks only when asked.
  const allowed = new Set(options.allowedHost.map((host) => host.toLowerCase()));
  const warnRefused = refusalWarnings(options.emit);
  // Clients send the same Host on every request, and the verdict on it depends
  // only on the value and on where we listen: it is kept until that changes.
  const verdicts = (loopbackOnly: boolean) =>
    boundedMemo(MAX_CACHED_HOSTS, MAX_CACHED_HOST_LENGTH, (host): HostVerdict => {
      if (!HOST_SYNTAX.test(host)) return 'malformed';
      if (!loopbackOnly) return 'allowed';
      const name = hostName(host);
      if (isLoopbackName(name) || allowed.has(name)) return 'allowed';
      warnRefused(name);
      return 'refused';
    });
  let verdictOn = verdicts(options.checkHost && isLoopbackBind(options.bind));
  const checkHost = (ctx: RequestContext): StageResult => {
    // HTTP/2 carries the authority in `:authority` and usually sends no Host (RFC 9113 §8.3.1).
    const host = ctx.req.headers.host ?? authority(ctx.req.headers[':authority']);
    // HTTP/1.0 clients may omit Host (Node's parser refuses HTTP/1.1 without one);
    // browsers, the rebinding attack's vehicle, never do.
    if (host === undefined) return;
    const verdict = verdictOn(host);
    // The count of Host lines is a fact about this request, never cached.
    if (verdict === 'malformed' || hostLineCount(ctx.req) > 1) {
      // HTTP/2 has no Connection header (RFC 9113 §8.2.2): its stream ends with the response.
      if (ctx.req.httpVersionMajor !== 2) ctx.headers['connection'] = 'close';
      return fail(ctx, 400);
    }
    if (verdict === 'refused') return fail(ctx, 403, REFUSED_EXPLANATION);
  };
  return Object.assign(checkHost, {
    listeningOn(addresses: readonly string[]): void {
      // Any network address among them makes the server reachable by any name.
      verdictOn = verdicts(options.checkHost && addresses.every(isLoopbackAddress));
    },
  });
}

const REFUSED_EXPLANATION =
  'This server answers only requests addressed to localhost, a defence against DNS rebinding. ' +
  'To reach it by another name, restart it with <code>--allowed-host NAME</code>.';

/** Refused names that get a line in the terminal; past them one more line says the rest are not reported. */
const MAX_REFUSAL_WARNINGS = 8;

/**
 * One line per refused name, the first few only: a client that invents names
 * must not be able to fill the terminal. The name passed the Host syntax check,
 * so it holds no control characters.
 */
function refusalWarnings(emit: EmitEvent): (name: string) => void {
  const warned = new Set<string>();
  return (name) => {
    if (warned.has(name) || warned.size > MAX_REFUSAL_WARNINGS) return;
    warned.add(name);
    if (warned.size > MAX_REFUSAL_WARNINGS) {
      emit({ type: 'warning', code: 'host-refused-more', from: 'server', message: 'more requests for other host names refused (403); no more are reported' });
      return;
    }
    emit({ type: 'warning', code: 'host-refused', from: 'server', message: `refused a request for host "${name}" (403, DNS-rebinding defence); to allow it, restart with --allowed-host ${name}` });
  };
}

/** The Host stage, and how the server tells it where it listens. */
export interface HostCheck {
  (ctx: RequestContext): StageResult;
  /** The addresses of every listening socket, as `server.address()` reports them. */
  listeningOn(addresses: readonly string[]): void;
}

/** What one Host value earns: 400 (not `host[:port]`), 403 (rebinding defence), or passage. */
type HostVerdict = 'malformed' | 'refused' | 'allowed';

/** Bounds of the memory of verdicts, per handler: entries, and length of a Host value kept. */
export const MAX_CACHED_HOSTS = 64;
export const MAX_CACHED_HOST_LENGTH = 256;

/**
 * RFC 9110 §7.2: Host = uri-host [ ":" port ], with uri-host an IP literal in
 * brackets or a reg-name (RFC 3986 §3.2.2: unreserved, pct-encoded, sub-delims;
 * possibly empty).
 */
const HOST_SYNTAX = /^(?:\[[0-9A-Za-z:._~%-]+\]|[0-9A-Za-z._~%!$&'()*+,;=-]*)(?::[0-9]*)?$/;

/** Node keeps only the first of repeated Host lines; the raw headers still have them all. */
function hostLineCount(req: IncomingMessage): number {
  const raw = req.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    // Most clients spell it 'Host' or 'host': no lower-cased copy for those.
    if (name.length === 4 && (name === 'Host' || name === 'host' || name.toLowerCase() === 'host')) count++;
  }
  return count;
}

/** Whether the `bind` option names loopback; only until the bound addresses are known. */
export function isLoopbackBind(bind: string): boolean {
  return isLoopbackName(bind.toLowerCase().replace(/^\[(.*)\]$/, '$1'));
}

/** localhost, *.localhost (RFC 6761 §6.3), and a loopback IP address however written. */
export function isLoopbackName(name: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  // Only what could be an IP literal is parsed as one; any other name is a name.
  return /^[0-9a-fx.:]+$/i.test(name) && isLoopbackAddress(name);
}

/**
 * 127.0.0.0/8, ::1, and 127.0.0.0/8 mapped into IPv6 (::ffff:127.x.y.z): the
 * loopback addresses, in any spelling an IP parser accepts (`127.1`,
 * `0177.0.0.1`, `2130706433`, `0x7f.1`, `0:0::1`, `::ffff:127.0.0.1`). The
 * WHATWG URL parser, the one browsers use, writes each in its one canonical form.
 */
export function isLoopbackAddress(address: string): boolean {
  const canonical = canonicalIp(address);
  if (canonical === undefined) return false;
  return canonical.startsWith('127.') || canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}

/** `a.b.c.d` or `[v6]` in canonical form, or undefined when `text` is not an IP address. */
function canonicalIp(text: string): string | undefined {
  const bracketed = text.includes(':') && !text.startsWith('[') ? `[${text}]` : text;
  let host: string;
  try {
    host = new URL(`http://${bracketed}/`).hostname;
  } catch {
    return undefined; // not a host at all (a zone index, stray characters)
  }
  return host.startsWith('[') || isIP(host) === 4 ? host : undefined;
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

function authority(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
