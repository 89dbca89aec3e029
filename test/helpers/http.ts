/**
 * Reading HTTP message bodies the way a careful client would, for the semantics
 * tests: multipart/byteranges parts, content-codings, and the headers that must
 * match between a HEAD and a GET.
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { RawResponse } from './server.js';

export interface BytesPart {
  /** The part's own Content-Type, or undefined when it has none. */
  contentType: string | undefined;
  /** The part's Content-Range, e.g. "bytes 0-99/1234". */
  contentRange: string;
  start: number;
  /** Inclusive. */
  end: number;
  /** The complete length after the slash. */
  size: number;
  body: Buffer;
}

/**
 * Parse a multipart/byteranges body (RFC 9110 §14.6, framing of RFC 2046 §5.1.1) strictly:
 * the boundary comes from `contentType`; each part must carry a Content-Range whose length
 * is exactly the bytes up to the next delimiter; the body must end with the close delimiter
 * (an optional CRLF after it, nothing else). Throws on any deviation, saying where.
 */
export function parseByteranges(contentType: string, body: Buffer): BytesPart[] {
  const match = /^multipart\/byteranges\s*;\s*boundary=(?:"([^"]+)"|([^\s;]+))/i.exec(contentType);
  if (match === null) throw new Error(`not multipart/byteranges with a boundary: ${contentType}`);
  const delimiter = `--${match[1] ?? match[2]}`;

  const parts: BytesPart[] = [];
  // The first delimiter opens the body (a preamble would have to end in CRLF before it).
  const first = body.indexOf(delimiter + '\r\n');
  if (first !== 0 && (first < 2 || body.toString('latin1', first - 2, first) !== '\r\n')) {
    throw new Error('the body does not start with the boundary delimiter');
  }
  let offset = first + delimiter.length + 2;
  for (;;) {
    const headEnd = body.indexOf('\r\n\r\n', offset);
    if (headEnd === -1) throw new Error(`part ${parts.length + 1} has no end of headers`);
    const headers = new Map<string, string>();
    const head = body.toString('latin1', offset, headEnd);
    for (const line of head === '' ? [] : head.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon < 1) throw new Error(`malformed part header line ${JSON.stringify(line)}`);
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const contentRange = headers.get('content-range');
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(contentRange ?? '');
    if (contentRange === undefined || range === null) {
      throw new Error(`part ${parts.length + 1} has no valid Content-Range: ${contentRange}`);
    }
    const [start, end, size] = [Number(range[1]), Number(range[2]), Number(range[3])];
    const bodyStart = headEnd + 4;
    const bodyEnd = bodyStart + (end - start + 1);
    parts.push({ contentType: headers.get('content-type'), contentRange, start, end, size, body: body.subarray(bodyStart, bodyEnd) });

    const after = body.toString('latin1', bodyEnd, bodyEnd + 2 + delimiter.length + 2);
    if (after === `\r\n${delimiter}\r\n`) {
      offset = bodyEnd + after.length;
      continue;
    }
    if (after === `\r\n${delimiter}--`) {
      const epilogue = body.toString('latin1', bodyEnd + after.length);
      if (epilogue !== '' && epilogue !== '\r\n') throw new Error(`unexpected bytes after the close delimiter: ${JSON.stringify(epilogue)}`);
      return parts;
    }
    throw new Error(`part ${parts.length} is not followed by a delimiter: ${JSON.stringify(after)}`);
  }
}

/** The body with its content-coding removed (gzip, br, or none). */
export function decodeBody(response: RawResponse): Buffer {
  const coding = response.headers['content-encoding'];
  if (coding === undefined) return response.body;
  if (coding === 'gzip') return gunzipSync(response.body);
  if (coding === 'br') return brotliDecompressSync(response.body);
  throw new Error(`unexpected Content-Encoding: ${coding}`);
}

/**
 * Headers that a HEAD must report exactly as the GET would send them (RFC 9110 §9.3.2).
 * Date, connection management and the transfer framing are left out: the first changes
 * every second, the others describe the connection or are only known while the body is
 * produced (a chunked GET has no Content-Length, and neither has its HEAD).
 */
export function representationHeaders(response: RawResponse): Record<string, string> {
  const ignored = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);
  return Object.fromEntries(Object.entries(response.headers).filter(([name]) => !ignored.has(name)));
}

/** A strong entity-tag (RFC 9110 §8.8.3): quoted, not W/, only etagc characters. */
export const STRONG_ETAG = /^"[\x21\x23-\x7e\x80-\xff]*"$/;

/** An IMF-fixdate (RFC 9110 §5.6.7), the only date format a server may send. */
export const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;
