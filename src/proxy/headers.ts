// Header fields across the proxy: what goes to the backend, what comes back to the client.
// Pure functions over raw header lists (`[name, value, name, value, ...]`, as node:http and
// node:http2 give them, duplicates and all).

import type { OutgoingHttpHeaders } from 'node:http';

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1): they describe one connection, not the message, so a
 * proxy removes them in both directions, and with them every field that Connection names.
 * Proxy-Authorization and Proxy-Authenticate are for the proxy itself; Proxy-Connection is an
 * old spelling of Connection. HTTP/2 forbids all of them on its streams (RFC 9113 §8.2.2).
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-');
}

/** The field names listed in every Connection field of `raw`, lower-cased. */
export function connectionOptions(raw: readonly string[]): Set<string> {
  const named = new Set<string>();
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as string).toLowerCase() !== 'connection') continue;
    for (const token of (raw[i + 1] as string).split(',')) {
      const name = token.trim().toLowerCase();
      if (name !== '') named.add(name);
    }
  }
  return named;
}

/** What the proxy knows about the client's request, beyond its header fields. */
export interface ForwardingFacts {
  /** The client's address as the socket reports it (`::ffff:127.0.0.1` is shown as 127.0.0.1). */
  clientAddress: string | undefined;
  /** The authority the client asked for: Host, or `:authority` over HTTP/2. */
  authority: string | undefined;
  /** The scheme the client used to reach us. */
  proto: 'http' | 'https';
  /** With changeOrigin: the backend's own `host[:port]` for Host; otherwise the client's Host goes on. */
  backendHost: string | undefined;
  /** A WebSocket handshake: Connection: Upgrade and its Upgrade field go on. */
  upgrade: string | undefined;
}

/** Request fields the proxy sets itself, so the client's are not passed on as they are. */
const SET_BY_PROXY = new Set(['host', 'forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'expect', 'http2-settings']);

/**
 * The fields of the request to the backend (names lower-cased).
 *
 * - HTTP/2 pseudo-headers are dropped; `:authority` becomes Host (RFC 9113 §8.3.1).
 * - Hop-by-hop fields go, except the Upgrade of a WebSocket handshake.
 * - Content-Length only when the request had no Transfer-Encoding: the backend never sees both
 *   (RFC 9112 §6.1, the shape of request smuggling). Our client frames the body itself.
 * - Cookie: HTTP/2 may split it into one field per cookie (RFC 9113 §8.2.3); HTTP/1.1 wants one.
 * - Expect: 100-continue was answered by our server already; the body follows at once.
 * - X-Forwarded-For gets the client's address appended (the chain of proxies so far, then us);
 *   X-Forwarded-Proto and -Host say what the client used; Forwarded (RFC 7239) gets our element
 *   appended, with the same three facts.
 */
export function requestHeadersForBackend(raw: readonly string[], facts: ForwardingFacts): OutgoingHttpHeaders {
  const named = connectionOptions(raw);
  const headers: OutgoingHttpHeaders = {};
  const cookies: string[] = [];
  const forwardedFor: string[] = [];
  const forwarded: string[] = [];
  let chunked = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    const value = raw[i + 1] as string;
    if (name.charCodeAt(0) === 0x3a /* ':' */) continue;
    if (name === 'transfer-encoding') chunked = true;
    if (isHopByHop(name) || named.has(name)) continue;
    if (name === 'cookie') cookies.push(value);
    else if (name === 'x-forwarded-for') forwardedFor.push(value);
    else if (name === 'forwarded') forwarded.push(value);
    else if (!SET_BY_PROXY.has(name)) append(headers, name, value);
  }
  if (chunked) delete headers['content-length'];
  if (cookies.length > 0) headers['cookie'] = cookies.join('; ');
  const host = facts.backendHost ?? facts.authority;
  if (host !== undefined) headers['host'] = host;
  const client = clientAddress(facts.clientAddress);
  if (client !== undefined) forwardedFor.push(client);
  if (forwardedFor.length > 0) headers['x-forwarded-for'] = forwardedFor.join(', ');
  headers['x-forwarded-proto'] = facts.proto;
  if (facts.authority !== undefined) headers['x-forwarded-host'] = facts.authority;
  forwarded.push(forwardedElement(client, facts.authority, facts.proto));
  headers['forwarded'] = forwarded.join(', ');
  if (facts.upgrade !== undefined) {
    headers['connection'] = 'upgrade';
    headers['upgrade'] = facts.upgrade;
  }
  return headers;
}

/** IPv4 clients on a dual-stack socket appear as `::ffff:a.b.c.d`; the plain form is what logs expect. */
export function clientAddress(address: string | undefined): string | undefined {
  if (address === undefined || address === '') return undefined;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * Our element of Forwarded (RFC 7239 §4): `for=192.0.2.1;host=localhost:8000;proto=http`. An
 * IPv6 address is bracketed and quoted (§6), and any value that is not a token is quoted.
 */
export function forwardedElement(client: string | undefined, authority: string | undefined, proto: string): string {
  const pairs: string[] = [];
  if (client !== undefined) pairs.push(`for=${forwardedValue(client.includes(':') ? `[${client}]` : client)}`);
  if (authority !== undefined) pairs.push(`host=${forwardedValue(authority)}`);
  pairs.push(`proto=${proto}`);
  return pairs.join(';');
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function forwardedValue(value: string): string {
  return TOKEN.test(value) ? value : `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * The fields of the backend's response for the client (names lower-cased, as HTTP/2 needs):
 * hop-by-hop fields and those Connection names removed; repeated fields kept as lists, so
 * each Set-Cookie stays a field of its own (RFC 9110 §5.3: it cannot be joined with commas).
 * With `keepUpgrade`, the Connection and Upgrade of a 101 stay (the WebSocket handshake).
 */
export function responseHeadersForClient(raw: readonly string[], keepUpgrade = false): OutgoingHttpHeaders {
  const named = connectionOptions(raw);
  const headers: OutgoingHttpHeaders = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    if (keepUpgrade && (name === 'connection' || name === 'upgrade')) {
      append(headers, name, raw[i + 1] as string);
      continue;
    }
    if (name.charCodeAt(0) === 0x3a || isHopByHop(name) || named.has(name)) continue;
    append(headers, name, raw[i + 1] as string);
  }
  return headers;
}

function append(headers: OutgoingHttpHeaders, name: string, value: string): void {
  const current = headers[name];
  if (current === undefined) headers[name] = value;
  else if (Array.isArray(current)) current.push(value);
  else headers[name] = [String(current), value];
}

/** Fields as the flat `[name, value, ...]` list the response writer takes; a list becomes one pair per value. */
export function headerList(headers: OutgoingHttpHeaders): Array<string | number> {
  const list: Array<string | number> = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) list.push(name, item);
    else list.push(name, value);
  }
  return list;
}
