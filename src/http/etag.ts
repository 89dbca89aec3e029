// Entity tags (RFC 9110 §8.8.3):
//
//   entity-tag = [ weak ] opaque-tag
//   weak       = %s"W/"
//   opaque-tag = DQUOTE *etagc DQUOTE
//   etagc      = %x21 / %x23-7E / obs-text
//
// The tags made here have the shape "SIZE-MTIME[.EXTRA][-CODING]" (hex size, hex mtime in
// nanoseconds). EXTRA and CODING are escaped so that neither can contain "-" or ".", which
// keeps every (extra, coding) pair distinct: the identity tag of one file can never equal
// the br tag of another variant of it.

/**
 * A strong entity tag for bytes identified by their size and modification time in nanoseconds,
 * optionally narrowed by `extra` (e.g. a content hash). The result is quoted and made only of
 * visible ASCII, e.g. "\"1a2b-17f0c3e9a1b2c3d4\"".
 */
export function makeEtag(size: number, mtimeNs: bigint, extra?: string): string {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`Invalid size for an ETag: ${size}`);
  // Two's complement keeps a pre-1970 mtime free of a "-" sign, which is our separator.
  const mtime = BigInt.asUintN(64, mtimeNs).toString(16);
  const suffix = extra === undefined || extra === '' ? '' : `.${escapeTagPart(extra)}`;
  return `"${size.toString(16)}-${mtime}${suffix}"`;
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
  const opaqueA = isWeak(a) ? a.slice(2) : a;
  const opaqueB = isWeak(b) ? b.slice(2) : b;
  return opaqueA === opaqueB && isEntityTag(opaqueA);
}

/**
 * Does an If-Match / If-None-Match field value (RFC 9110 §13.1.1, §13.1.2) name `etag`?
 *   If-Match = "*" / #entity-tag
 * "*" matches any current representation, but only as the whole value: inside a list it is not
 * an entity-tag and is skipped like any other malformed member (nginx reads it the same way).
 * A malformed member is skipped up to the next comma; since an opaque-tag may itself contain
 * commas, members are scanned one by one rather than split. One pass, no allocation.
 */
export function listMatches(header: string, etag: string, comparison: 'strong' | 'weak'): boolean {
  const trimmedStart = skipOws(header, 0);
  if (header.charCodeAt(trimmedStart) === 0x2a /* * */ && skipOws(header, trimmedStart + 1) === header.length) {
    return true;
  }
  if (comparison === 'strong' && isWeak(etag)) return false;
  // For the weak comparison only the opaque-tags are compared.
  const wanted = isWeak(etag) ? etag.slice(2) : etag;

  let i = trimmedStart;
  while (i < header.length) {
    const code = header.charCodeAt(i);
    if (code === 0x2c /* , */ || isOws(code)) {
      i++; // empty list elements are allowed (RFC 9110 §5.6.1.2)
      continue;
    }
    const tagEnd = scanEntityTag(header, i);
    const afterTag = tagEnd < 0 ? -1 : skipOws(header, tagEnd);
    if (afterTag < 0 || (afterTag < header.length && header.charCodeAt(afterTag) !== 0x2c)) {
      const nextComma = header.indexOf(',', i);
      if (nextComma < 0) return false;
      i = nextComma + 1;
      continue;
    }
    const memberIsWeak = header.startsWith('W/', i);
    if (!(comparison === 'strong' && memberIsWeak)) {
      const opaqueStart = memberIsWeak ? i + 2 : i;
      if (tagEnd - opaqueStart === wanted.length && header.startsWith(wanted, opaqueStart)) return true;
    }
    i = afterTag;
  }
  return false;
}

/** Index just past the entity-tag starting at `at`, or -1 if none starts there. */
function scanEntityTag(text: string, at: number): number {
  let i = text.startsWith('W/', at) ? at + 2 : at;
  if (text.charCodeAt(i) !== 0x22 /* DQUOTE */) return -1;
  for (i++; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) return i + 1;
    if (!isEtagc(code)) return -1;
  }
  return -1;
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

function skipOws(text: string, at: number): number {
  let i = at;
  while (i < text.length && isOws(text.charCodeAt(i))) i++;
  return i;
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}
