import mime from 'mime-types';
import { describe, expect, it } from 'vitest';
import { COMMON_TYPES, contentTypeFor, isTypeScriptName, SOURCE_TYPE, TRANSPORT_STREAM_SNIFF_BYTES, TRANSPORT_STREAM_TYPE, typeScriptOrTransportStream } from '../../src/fs/content-type.js';

describe('contentTypeFor', () => {
  it.each([...COMMON_TYPES].filter(([extension]) => extension !== ''))(
    'the built-in type for %s agrees with mime-types',
    (extension, type) => {
      expect(type).toBe(mime.contentType(extension) || 'application/octet-stream');
    },
  );

  it.each([
    ['index.html', 'text/html; charset=utf-8'],
    ['INDEX.HTML', 'text/html; charset=utf-8'],
    ['app.js', 'text/javascript; charset=utf-8'],
    ['data.csv', 'text/csv; charset=utf-8'],
    ['photo.tiff', 'image/tiff'],
    ['archive.tar.gz', 'application/gzip'],
    ['Makefile', 'application/octet-stream'],
    ['.env', 'application/octet-stream'],
    ['file.unknown-extension', 'application/octet-stream'],
  ])('%s is served as %s', (name, type) => {
    expect(contentTypeFor(name)).toBe(type);
  });
});

describe('.ts: TypeScript source or an MPEG transport stream', () => {
  const packets = (count: number) => {
    const bytes = Buffer.alloc(188 * count, 0xff);
    for (let i = 0; i < count; i++) bytes[i * 188] = 0x47;
    return bytes;
  };
  // [name, first bytes, type]
  it.each<[string, Buffer, string]>([
    ['app.ts', Buffer.from('export const answer: number = 42;\n'), SOURCE_TYPE],
    ['App.TSX', Buffer.from('export const App = () => <div/>;\n'), SOURCE_TYPE],
    ['server.mts', Buffer.from('import x from "y";\n'), SOURCE_TYPE],
    ['config.cts', Buffer.from('module.exports = {};\n'), SOURCE_TYPE],
    ['segment0.ts', packets(3), TRANSPORT_STREAM_TYPE],
    ['SEGMENT.TS', packets(3), TRANSPORT_STREAM_TYPE],
    ['one-packet.ts', packets(1), TRANSPORT_STREAM_TYPE],
    // A source file that starts with 'G' (0x47) is still source: the next packet start is not a sync byte.
    ['Greeting.ts', Buffer.from(`Greeting${' '.repeat(400)}`), SOURCE_TYPE],
    ['segment.tsx', packets(3), SOURCE_TYPE],
    ['empty.ts', Buffer.alloc(0), SOURCE_TYPE],
  ])('%s → %s', (name, head, type) => {
    expect(typeScriptOrTransportStream(name, head.subarray(0, TRANSPORT_STREAM_SNIFF_BYTES))).toBe(type);
  });

  it.each(['a.ts', 'a.tsx', 'a.mts', 'a.cts', 'A.TS'])('%s is a TypeScript name', (name) => {
    expect(isTypeScriptName(name)).toBe(true);
  });
  it.each(['a.js', 'a.d', 'ts', 'a.tsv'])('%s is not', (name) => {
    expect(isTypeScriptName(name)).toBe(false);
  });
});
