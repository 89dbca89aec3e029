// Entity tags (RFC 9110 §8.8.3):
//
//   entity-tag = [ weak ] opaque-tag
//   weak       = %s"W/"
//   opaque-tag = DQUOTE *etagc DQUOTE
//   etagc      = %x21 / %x23-7E / obs-text
//
// The tags made here have the shape "SIZE-MTIME[.EXTRA][-CODING]" (hex size, hex mtime in
// nanoseconds). EXTRA and CODING are escaped so that neither can contain "-" or ".", so no two
// (extra, coding) pairs for the same file give the same tag: the identity tag made with extra
// "br" is not the br tag made without it.

/**
 * A strong entity tag for bytes identified by their size and modification time in nanoseconds,
 * optionally narrowed by `extra` (e.g. a content hash). The result is quoted and made only of
 * visible ASCII, e.g. "\"1a2b-17f0c3e9a1b2c3d4\"".
 */
import { hash } from 'node:crypto';
import { isOws, skipOws } from './whitespace.js';

export function makeEtag(size: number, mtimeNs: bigint, extra?: string): string {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`Invalid size for an ETag: ${size}`);
  // Two's complement keeps a pre-1970 mtime free of a "-" sign, which is our separator.
  const mtime = BigInt.asUintN(64, mtimeNs).toString(16);
  const suffix = extra === undefined || extra === '' ? '' : `.${escapeTagPart(extra)}`;
  return `"${size.toString(16)}-${mtime}${suffix}"`;
}

/**
 * A digest of bytes for the content part of a tag: the first 128 bits of their SHA-256, in hex.
 * Cryptographic, because whoever can write a file may choose its bytes: with a checksum such
 * as CRC-32, a same-size rewrite with the mtime set back can be made to keep its old tag, and
 * clients would be told by 304s (and sent compressed variants) that the old bytes are current.
 * 128 bits leave a collision search at 2^64 hashes. About 2 µs for 1 KiB, paid when a file is
 * read into memory, not per request.
 */
export function contentDigest(bytes: Uint8Array): string {
  return hash('sha256', bytes, 'hex').slice(0, 32);
}

/**
 * The tag of the same representation sent with a content coding: RFC 9110 §8.8.3 requires
 * distinct tags for representations whose bytes differ, and a gzip body differs from the
 * identity one ("abc" -> "abc-gzip"). A weak tag stays weak.
 */
export function etagForEncoding(etag: string, encoding: string): string {
  if (!isEntityTag(etag)) throw new TypeError(`Not an entity-tag: ${etag}`);
  return `${etag.slice(0, -1)}-${escapeTagPart(encoding.toLowerCase())}"`;
}

/** Whether `etag` is exactly one entity-tag per the grammar above. */
export function isEntityTag(etag: string): boolean {
  return scanEntityTag(etag, 0) === etag.length;
}

export function isWeak(etag: string): boolean {
  return etag.startsWith('W/');
}

/**
 * RFC 9110 §8.8.3.2 strong comparison: both tags strong and their opaque-tags identical
 * character by character. Used for If-Match and If-Range, where a byte-for-byte promise matters.
 */
export function strongMatch(a: string, b: string): boolean {
  return a === b && !isWeak(a) && isEntityTag(a);
}

/**
 * RFC 9110 §8.8.3.2 weak comparison: opaque-tags identical, whether or not either is marked
 * weak. Used for If-None-Match, where "good enough for a cache" is the question.
 */
export function weakMatch(a: string, b: string): boolean {
  return isEntityTag(a) && isEntityTag(b) && opaqueTag(a) === opaqueTag(b);
}

function opaqueTag(etag: string): string {
  return isWeak(etag) ? etag.slice(2) : etag;
}

/**
 * Does an If-Match / If-None-Match field value (RFC 9110 §13.1.1, §13.1.2) name `etag`?
 *   If-Match = "*" / #entity-tag
 * "*" matches any current representation, but only as the whole value: inside a list it is not
 * an entity-tag and is skipped like any other malformed member.
 * A malformed member is skipped up to the next comma; since an opaque-tag may itself contain
 * commas, members are scanned one by one rather than split. One pass over the header.
 * `etag` is the current representation's tag, assumed well-formed.
 */
export function listMatches(header: string, etag: string, comparison: 'strong' | 'weak'): boolean {
  const trimmedStart = skipOws(header, 0);
  if (header.charCodeAt(trimmedStart) === 0x2a /* * */ && skipOws(header, trimmedStart + 1) === header.length) {
    return true;
  }
  if (comparison === 'strong' && isWeak(etag)) return false;
  // Members are compared by opaque-tag; whether a weak one may match was decided above or below.
  const wanted = opaqueTag(etag);

  let i = trimmedStart;
  while (i < header.length) {
    const code = header.charCodeAt(i);
    if (code === 0x2c /* , */ || isOws(code)) {
      i++; // empty list elements are allowed (RFC 9110 §5.6.1.2)
      continue;
    }
    const scanned = scanEntityTag(header, i);
    // Where the member ends, or where it stopped being well-formed.
    const stop = scanned < 0 ? ~scanned : skipOws(header, scanned);
    const wellFormed = scanned >= 0 && (stop === header.length || header.charCodeAt(stop) === 0x2c);
    if (wellFormed) {
      const memberIsWeak = header.startsWith('W/', i);
      const opaqueStart = memberIsWeak ? i + 2 : i;
      const compared = !(comparison === 'strong' && memberIsWeak);
      if (compared && scanned - opaqueStart === wanted.length && header.startsWith(wanted, opaqueStart)) return true;
      i = stop;
      continue;
    }
    // A malformed member runs to the first comma after the point where it went wrong (not the
    // first after its start, which may sit inside its quotes); that also keeps this one pass.
    const nextComma = header.indexOf(',', stop);
    if (nextComma < 0) return false;
    i = nextComma + 1;
  }
  return false;
}

/**
 * Scans the entity-tag starting at `at`. Returns the index just past it, or, when there is
 * none, the bitwise complement (~, always negative) of the index where the grammar failed.
 */
function scanEntityTag(text: string, at: number): number {
  let i = text.startsWith('W/', at) ? at + 2 : at;
  if (text.charCodeAt(i) !== 0x22 /* DQUOTE */) return ~i;
  for (i++; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) return i + 1;
    if (!isEtagc(code)) return ~i;
  }
  return ~i;
}

/** etagc = %x21 / %x23-7E / obs-text (%x80-FF) */
function isEtagc(code: number): boolean {
  return code === 0x21 || (code >= 0x23 && code <= 0x7e) || (code >= 0x80 && code <= 0xff);
}

/**
 * Percent-encodes (as UTF-8) everything outside visible ASCII, plus the quote, "%" and the two
 * separators "-" and ".", so that the result is safe inside an opaque-tag and cannot be
 * confused with the structure of the tag.
 */
function escapeTagPart(part: string): string {
  let escaped = '';
  for (const char of part) {
    const code = char.charCodeAt(0);
    const keep = code >= 0x21 && code <= 0x7e && char !== '"' && char !== '%' && char !== '-' && char !== '.';
    if (keep) {
      escaped += char;
      continue;
    }
    for (const byte of Buffer.from(char, 'utf8')) escaped += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return escaped;
}
