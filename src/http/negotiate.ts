// Content-coding negotiation (RFC 9110 §12.5.3) and which media types are worth compressing.
//
//   Accept-Encoding = #( codings [ weight ] )
//   codings         = content-coding / "identity" / "*"
//   weight          = OWS ";" OWS "q=" qvalue                      (§12.4.2)
//   qvalue          = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )

import { skipOws } from './whitespace.js';

export type Encoding = 'br' | 'gzip' | 'identity';
export type Coding = Exclude<Encoding, 'identity'>;

/** Weights are kept in thousandths (qvalue has three decimals), so they compare exactly. */
const FULL_WEIGHT = 1000;

/**
 * The best content coding for a response, from `available` (the server's preference order,
 * e.g. ['br', 'gzip']) or 'identity'; null when the client refuses identity and every coding
 * on offer.
 *
 * - No header -> identity. §12.5.3 says any coding is then acceptable, but also that this
 *   "does not imply that the user agent will be able to correctly process all encodings";
 *   clients that can decode send the header.
 * - Empty header -> identity: "the user agent does not want any content coding".
 * - A coding is acceptable if listed with q > 0, or matched by "*" with q > 0 when not listed
 *   itself. The highest weight wins; on a tie, the earlier one in `available`.
 * - identity is acceptable "unless specifically excluded ... by either identity;q=0 or *;q=0
 *   without a more specific entry for identity". Listed (or matched by "*") it competes with its
 *   weight, a coding winning a tie since it saves bytes; unlisted it is the fallback.
 * - Codings are case-insensitive (§8.4.1), and "x-gzip" is gzip (§8.4.1.3: "A recipient
 *   SHOULD consider x-gzip to be equivalent to gzip").
 * - A malformed member (not a token, a bad qvalue such as q=2 or q=0.0001, other parameters)
 *   is ignored, as if absent. A coding listed twice keeps its lowest weight: a refusal wins.
 *
 * On null, send identity anyway: §12.1 lets the server "disregard the header field by treating
 * the resource as if it is not subject to content negotiation", the alternative being a 406
 * that helps nobody fetching a static file.
 */
export function chooseEncoding(acceptEncoding: string | undefined, available: readonly Coding[]): Encoding | null {
  if (acceptEncoding === undefined) return 'identity';
  const weights = parseAcceptEncoding(acceptEncoding, available);
  const star = weights.get('*');

  let best: Coding | undefined;
  let bestWeight = 0;
  for (const coding of available) {
    const weight = weights.get(coding) ?? star ?? 0;
    if (weight > bestWeight) {
      best = coding;
      bestWeight = weight;
    }
  }

  const identityWeight = weights.get('identity') ?? star; // undefined: acceptable, least preferred
  if (best !== undefined && (identityWeight === undefined || identityWeight <= bestWeight)) return best;
  if (identityWeight === undefined || identityWeight > 0) return 'identity';
  return null;
}

/** No name that parseAcceptEncoding keeps ("identity", "x-gzip", the codings) is longer. */
const LONGEST_KEPT_NAME = 'identity'.length;

/**
 * Weights of the members that matter here (the available codings, identity and "*"). One pass;
 * only names short enough to be one of those are ever copied out of the header.
 */
function parseAcceptEncoding(header: string, available: readonly Coding[]): Map<string, number> {
  const weights = new Map<string, number>();

  let i = 0;
  while (i < header.length) {
    const code = header.charCodeAt(i);
    if (code === 0x2c /* , */ || code === 0x20 || code === 0x09) {
      i++; // OWS, and empty list elements (RFC 9110 §5.6.1.2)
      continue;
    }
    const nameEnd = skipToken(header, i, header.length);
    const comma = header.indexOf(',', nameEnd);
    const memberEnd = comma < 0 ? header.length : comma;
    if (nameEnd > i && nameEnd - i <= LONGEST_KEPT_NAME) {
      let name = header.slice(i, nameEnd).toLowerCase();
      if (name === 'x-gzip') name = 'gzip';
      const weight = parseWeight(header, nameEnd, memberEnd);
      const kept = name === 'identity' || name === '*' || (available as readonly string[]).includes(name);
      if (kept && weight !== undefined) weights.set(name, Math.min(weight, weights.get(name) ?? weight));
    }
    i = memberEnd;
  }
  return weights;
}

/** `[ OWS ";" OWS "q=" qvalue ] OWS` up to `end`, in thousandths; undefined if malformed. */
function parseWeight(header: string, at: number, end: number): number | undefined {
  let i = skipOws(header, at, end);
  if (i === end) return FULL_WEIGHT;
  if (header.charCodeAt(i) !== 0x3b /* ; */) return undefined;
  i = skipOws(header, i + 1, end);
  if ((header.charCodeAt(i) | 0x20) !== 0x71 /* q or Q (§12.4.2) */ || header.charCodeAt(i + 1) !== 0x3d /* = */) {
    return undefined;
  }
  i += 2;

  const units = header.charCodeAt(i) - 0x30;
  if (units !== 0 && units !== 1) return undefined;
  i++;
  let thousandths = 0;
  if (header.charCodeAt(i) === 0x2e /* . */) {
    i++;
    for (let scale = 100; scale >= 1 && i < end; scale /= 10, i++) {
      const digit = header.charCodeAt(i) - 0x30;
      if (!(digit >= 0 && digit <= 9)) break;
      thousandths += digit * scale;
    }
  }
  if (units === 1 && thousandths > 0) return undefined; // above 1
  return skipOws(header, i, end) === end ? units * FULL_WEIGHT + thousandths : undefined;
}

/**
 * Is a response of this Content-Type worth compressing? Yes for text and text-like formats
 * (scripts, JSON, XML, SVG, WebAssembly, manifests, source maps, uncompressed fonts and
 * bitmaps); no for formats that are already compressed (PNG, JPEG, WebP, AVIF, WOFF/WOFF2,
 * archives, audio, video) or unknown (application/octet-stream), where compressing spends CPU
 * to gain nothing. Parameters such as `; charset=utf-8` are ignored.
 */
export function isCompressible(contentType: string): boolean {
  const semicolon = contentType.indexOf(';');
  const mediaType = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  // Server-sent events are compressible text, but a compressor buffers, and an event stream
  // must reach the browser as each event is written.
  if (mediaType.startsWith('text/')) return mediaType !== 'text/event-stream';
  if (COMPRESSIBLE_TYPES.has(mediaType)) return true;
  // Structured syntax suffixes (RFC 6839): image/svg+xml, application/ld+json, ...
  return mediaType.endsWith('+json') || mediaType.endsWith('+xml') || mediaType.endsWith('+yaml');
}

const COMPRESSIBLE_TYPES = new Set([
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'application/json',
  'application/x-ndjson',
  'application/jsonl',
  'application/xml',
  'application/wasm',
  'application/yaml',
  'application/x-yaml',
  'application/toml',
  'application/graphql',
  'application/sql',
  'application/x-sh',
  'application/x-subrip',
  'application/rtf',
  'application/postscript',
  'application/x-tar',
  'application/vnd.apple.mpegurl',
  'application/x-mpegurl',
  // Uncompressed font formats (WOFF and WOFF2 are compressed already).
  'font/ttf',
  'font/otf',
  'font/sfnt',
  'font/collection',
  'application/x-font-ttf',
  'application/x-font-otf',
  'application/font-sfnt',
  'application/vnd.ms-fontobject',
  // Uncompressed bitmaps.
  'image/bmp',
  'image/x-ms-bmp',
  'image/x-icon',
  'image/vnd.microsoft.icon',
]);

/** tchar (RFC 9110 §5.6.2), indexed by character code: the characters of a token. */
const TCHAR = new Uint8Array(128);
for (const char of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[char.charCodeAt(0)] = 1;
}

function skipToken(text: string, at: number, end: number): number {
  let i = at;
  while (i < end && TCHAR[text.charCodeAt(i)] === 1) i++;
  return i;
}
