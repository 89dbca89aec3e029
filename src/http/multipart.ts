// multipart/byteranges (RFC 9110 §14.6, framing from RFC 2046 §5.1.1), laid out ahead of
// time so that the exact Content-Length is known before a byte is read:
//
//   --BOUNDARY CRLF                      first part: no CRLF before it (a preamble is optional)
//   Content-Type: text/plain CRLF        omitted when the representation has no type
//   Content-Range: bytes 0-99/1234 CRLF  required in every part (§15.3.7.2)
//   CRLF
//   <bytes 0-99>
//   CRLF --BOUNDARY CRLF ...             later parts: the CRLF belongs to the delimiter
//   CRLF --BOUNDARY-- CRLF               close delimiter
//
// Every header byte is ASCII, so string length equals byte length.

import { contentRange, type ByteRange } from './range.js';

export interface MultipartLayout {
  /** `multipart/byteranges; boundary=...` for the response's Content-Type. */
  contentType: string;
  /** Send `head`, then the bytes of `range`, for each part in order. */
  parts: Array<{ head: Buffer; range: ByteRange }>;
  /** The close delimiter, sent after the last part's bytes. */
  tail: Buffer;
  /** The exact length of the whole body. */
  contentLength: number;
}

/** RFC 2046 §5.1.1: 1 to 70 bchars, not ending in a space. */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
/** RFC 9110 §5.6.2 tchar: a boundary made only of these needs no quotes. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Visible ASCII and SP/HTAB: anything else (CR, LF above all) would forge part headers. */
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;

/**
 * The body of a 206 for several ranges of a representation of `size` bytes whose own
 * Content-Type is `partContentType` ('' for none). Throws on a malformed boundary or content
 * type, no range, or a range outside the representation: bugs of the caller, not the client.
 */
export function multipartLayout(
  ranges: readonly ByteRange[],
  size: number,
  partContentType: string,
  boundary: string,
): MultipartLayout {
  if (!BOUNDARY.test(boundary)) throw new RangeError(`Invalid multipart boundary: ${JSON.stringify(boundary)}`);
  if (ranges.length === 0) throw new RangeError('A multipart body needs at least one part');
  if (!FIELD_VALUE.test(partContentType)) {
    throw new RangeError(`Invalid Content-Type: ${JSON.stringify(partContentType)}`);
  }

  const typeLine = partContentType === '' ? '' : `Content-Type: ${partContentType}\r\n`;
  let contentLength = 0;
  const parts = ranges.map((range, index) => {
    const { start, end } = range;
    const inside = Number.isSafeInteger(start) && start >= 0 && start <= end && end < size;
    if (!inside) throw new RangeError(`Range ${start}-${end} is outside ${size} bytes`);
    const delimiter = index === 0 ? `--${boundary}\r\n` : `\r\n--${boundary}\r\n`;
    const head = Buffer.from(`${delimiter}${typeLine}Content-Range: ${contentRange(range, size)}\r\n\r\n`, 'latin1');
    contentLength += head.length + (end - start + 1);
    return { head, range };
  });
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  contentLength += tail.length;

  const boundaryParameter = TOKEN.test(boundary) ? boundary : `"${boundary}"`;
  return { contentType: `multipart/byteranges; boundary=${boundaryParameter}`, parts, tail, contentLength };
}

/**
 * 32 random hex digits. The boundary must not occur in any part's bytes (RFC 2046 §5.1.1);
 * a random one cannot be aimed at by whoever wrote the file.
 */
export function makeBoundary(): string {
  // Web Crypto's global loads lazily: a server that never sends multipart never loads it.
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(16))).toString('hex');
}
