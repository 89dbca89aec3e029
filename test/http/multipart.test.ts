import { describe, expect, it } from 'vitest';
import { makeBoundary, multipartLayout, type MultipartLayout } from '../../src/http/multipart.js';
import type { ByteRange } from '../../src/http/range.js';

/** The body a server streams for `layout` over the bytes of `file`. */
function assembleBody(layout: MultipartLayout, file: Buffer): Buffer {
  const chunks: Buffer[] = [];
  for (const part of layout.parts) chunks.push(part.head, file.subarray(part.range.start, part.range.end + 1));
  chunks.push(layout.tail);
  return Buffer.concat(chunks);
}

/**
 * A strict reader of multipart bodies (RFC 2046 §5.1.1): the body must start with the first
 * dash-boundary, parts are separated by CRLF "--" boundary, and it must end with the close
 * delimiter and CRLF. Part bodies are sliced by position, never searched, except for the
 * delimiter itself.
 */
function readMultipart(body: Buffer, boundary: string): Array<{ headers: Record<string, string>; data: Buffer }> {
  const first = Buffer.from(`--${boundary}\r\n`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  expect(body.subarray(0, first.length).equals(first)).toBe(true);
  const parts: Array<{ headers: Record<string, string>; data: Buffer }> = [];
  let position = first.length;
  for (;;) {
    const headerEnd = body.indexOf('\r\n\r\n', position);
    expect(headerEnd).toBeGreaterThanOrEqual(0);
    const headers: Record<string, string> = {};
    for (const line of body.subarray(position, headerEnd).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const dataStart = headerEnd + 4;
    const dataEnd = body.indexOf(delimiter, dataStart);
    expect(dataEnd).toBeGreaterThanOrEqual(0);
    parts.push({ headers, data: body.subarray(dataStart, dataEnd) });
    const after = body.subarray(dataEnd + delimiter.length, dataEnd + delimiter.length + 2).toString('latin1');
    if (after === '--') {
      expect(body.subarray(dataEnd + delimiter.length + 2).toString('latin1')).toBe('\r\n');
      return parts;
    }
    expect(after).toBe('\r\n');
    position = dataEnd + delimiter.length + 2;
  }
}

describe('multipartLayout', () => {
  it('lays out the exact bytes of RFC 9110 §14.6 for a small file', () => {
    const file = Buffer.from('abcdefghij');
    const layout = multipartLayout([{ start: 0, end: 1 }, { start: 5, end: 6 }], 10, 'text/plain', 'B0UND');
    const expected =
      '--B0UND\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\nab' +
      '\r\n--B0UND\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-6/10\r\n\r\nfg' +
      '\r\n--B0UND--\r\n';
    expect(assembleBody(layout, file).toString('latin1')).toBe(expected);
    expect(layout.contentLength).toBe(expected.length);
    expect(layout.contentType).toBe('multipart/byteranges; boundary=B0UND');
  });

  // [ranges, file size, part Content-Type]
  const layouts: Array<[Array<[number, number]>, number, string]> = [
    [[[0, 0], [9999, 9999]], 10_000, 'application/octet-stream'],
    [[[500, 599], [0, 99]], 10_000, 'text/html; charset=utf-8'], // client order, not sorted
    [[[0, 9], [100, 199], [990, 999]], 1000, 'image/png'],
    [[[0, 999]], 1000, 'text/plain'], // one part is allowed when several were asked for
    [[[3, 5], [7, 7]], 8, ''], // no Content-Type when the file has none
    [Array.from({ length: 100 }, (_, i): [number, number] => [i * 3, i * 3 + 1]), 300, 'text/plain'],
  ];
  it.each(layouts)('%j of %i bytes (%j): contentLength is the byte length and the parts read back exactly', (pairs, size, type) => {
    // Every byte value, CR LF and "--" included, so that no length can be off by accident.
    const file = Buffer.alloc(size, 0);
    for (let i = 0; i < size; i++) file[i] = (i * 7 + 13) % 256;
    const boundary = makeBoundary();
    const ranges: ByteRange[] = pairs.map(([start, end]) => ({ start, end }));

    const layout = multipartLayout(ranges, size, type, boundary);
    const body = assembleBody(layout, file);

    expect(body.byteLength).toBe(layout.contentLength);
    const parts = readMultipart(body, boundary);
    expect(parts).toHaveLength(ranges.length);
    parts.forEach((part, index) => {
      const range = ranges[index]!;
      expect(part.data.equals(file.subarray(range.start, range.end + 1))).toBe(true);
      expect(part.headers['content-range']).toBe(`bytes ${range.start}-${range.end}/${size}`);
      expect(part.headers['content-type']).toBe(type === '' ? undefined : type);
    });
  });

  // [boundary, Content-Type parameter]
  const boundaries: Array<[string, string]> = [
    ['abc123', 'boundary=abc123'],
    ['THIS_STRING_SEPARATES', 'boundary=THIS_STRING_SEPARATES'],
    ["a'b(c)d+e_f,g-h.i/j:k=l?m", `boundary="a'b(c)d+e_f,g-h.i/j:k=l?m"`], // bchars outside tchar: quoted
    ['with space', 'boundary="with space"'],
    ['x'.repeat(70), `boundary=${'x'.repeat(70)}`],
  ];
  it.each(boundaries)('boundary %j -> %s', (boundary, parameter) => {
    const layout = multipartLayout([{ start: 0, end: 0 }], 1, 'text/plain', boundary);
    expect(layout.contentType).toBe(`multipart/byteranges; ${parameter}`);
  });

  const bad: Array<[string, () => unknown]> = [
    ['an empty boundary', () => multipartLayout([{ start: 0, end: 0 }], 1, 'text/plain', '')],
    ['a boundary of 71 characters', () => multipartLayout([{ start: 0, end: 0 }], 1, 'text/plain', 'x'.repeat(71))],
    ['a boundary ending in a space', () => multipartLayout([{ start: 0, end: 0 }], 1, 'text/plain', 'abc ')],
    ['a boundary with CRLF', () => multipartLayout([{ start: 0, end: 0 }], 1, 'text/plain', 'a\r\nb')],
    ['a boundary with a quote', () => multipartLayout([{ start: 0, end: 0 }], 1, 'text/plain', 'a"b')],
    ['a Content-Type with CRLF', () => multipartLayout([{ start: 0, end: 0 }], 1, 'text/plain\r\nX-Evil: 1', 'b')],
    ['no range', () => multipartLayout([], 1, 'text/plain', 'b')],
    ['a range past the end', () => multipartLayout([{ start: 0, end: 1 }], 1, 'text/plain', 'b')],
    ['a range ending before it starts', () => multipartLayout([{ start: 5, end: 4 }], 10, 'text/plain', 'b')],
    ['a negative start', () => multipartLayout([{ start: -1, end: 4 }], 10, 'text/plain', 'b')],
  ];
  it.each(bad)('throws RangeError for %s', (_what, call) => {
    expect(call).toThrow(RangeError);
  });
});

describe('makeBoundary', () => {
  it('makes 32 random hex digits, a valid boundary, different each time', () => {
    const boundaries = Array.from({ length: 100 }, makeBoundary);
    for (const boundary of boundaries) {
      expect(boundary).toMatch(/^[0-9a-f]{32}$/);
      expect(() => multipartLayout([{ start: 0, end: 0 }], 1, '', boundary)).not.toThrow();
    }
    expect(new Set(boundaries).size).toBe(100);
  });
});
