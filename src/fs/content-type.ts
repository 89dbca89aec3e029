import { createRequire } from 'node:module';
import { extname } from 'node:path';

const FALLBACK = 'application/octet-stream';

/**
 * The types nearly every site serves, as mime-types has them (a test checks
 * they agree). mime-types loads its whole database (~2,000 types) in about
 * 10 ms, a tenth of the time to start; with these, a run that serves only
 * common files never loads it.
 */
const COMMON: ReadonlyMap<string, string> = new Map([
  ['.html', 'text/html; charset=utf-8'],
  ['.htm', 'text/html; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.mjs', 'text/javascript; charset=utf-8'],
  ['.json', 'application/json; charset=utf-8'],
  ['.map', 'application/json; charset=utf-8'],
  ['.txt', 'text/plain; charset=utf-8'],
  ['.md', 'text/markdown; charset=utf-8'],
  ['.xml', 'application/xml'],
  ['.svg', 'image/svg+xml'],
  ['.png', 'image/png'],
  ['.jpg', 'image/jpeg'],
  ['.jpeg', 'image/jpeg'],
  ['.gif', 'image/gif'],
  ['.webp', 'image/webp'],
  ['.avif', 'image/avif'],
  ['.ico', 'image/vnd.microsoft.icon'],
  ['.woff', 'font/woff'],
  ['.woff2', 'font/woff2'],
  ['.wasm', 'application/wasm'],
  ['.pdf', 'application/pdf'],
  ['.mp4', 'video/mp4'],
  ['.webm', 'video/webm'],
  ['.bin', FALLBACK],
  ['', FALLBACK],
]);

const byExtension = new Map<string, string>(COMMON);
let lookUp: ((extension: string) => string | false) | undefined;

/**
 * Content-Type for a file name: mime-types' table, with `charset=utf-8` for
 * text types (so UTF-8 pages and scripts decode right without a BOM), and
 * `application/octet-stream` when the type is unknown (RFC 9110 §8.3 lets a
 * sender omit it; naming it stops browsers from guessing, with nosniff).
 */
export function contentTypeFor(fileName: string): string {
  const extension = extname(fileName).toLowerCase();
  let type = byExtension.get(extension);
  if (type === undefined) {
    lookUp ??= (createRequire(import.meta.url)('mime-types') as typeof import('mime-types')).contentType;
    type = lookUp(extension) || FALLBACK;
    byExtension.set(extension, type);
  }
  return type;
}

/** Is `extension` (without its dot) a media type the server knows? `--spa` tells asset misses from routes by it. */
export function hasMediaType(extension: string): boolean {
  return contentTypeFor(`file.${extension}`) !== FALLBACK;
}

/** For the test that keeps the table in step with mime-types. */
export const COMMON_TYPES = COMMON;

/**
 * `.ts` names two kinds of file: TypeScript source, and MPEG transport stream
 * segments (HLS video). mime-types says video/mp2t for both, so a browser
 * downloads a source file instead of showing it. The content tells them apart:
 * a transport stream is a run of 188-byte packets, each starting with the sync
 * byte 0x47 (ISO/IEC 13818-1 §2.4.3.2), which no text file has at every 188th
 * byte. `.tsx`, `.mts` and `.cts` are only ever source.
 */
export const SOURCE_TYPE = 'text/plain; charset=utf-8';
export const TRANSPORT_STREAM_TYPE = 'video/mp2t';
/** Bytes to read from the start of a `.ts` file to tell (three packet starts). */
export const TRANSPORT_STREAM_SNIFF_BYTES = 2 * 188 + 1;

export function isTypeScriptName(fileName: string): boolean {
  return /\.(?:ts|tsx|mts|cts)$/i.test(fileName);
}

/** The type of a `.ts`/`.tsx`/`.mts`/`.cts` file from its first bytes (at least TRANSPORT_STREAM_SNIFF_BYTES, or the whole file). */
export function typeScriptOrTransportStream(fileName: string, head: Uint8Array): string {
  if (!/\.ts$/i.test(fileName) || head.length === 0) return SOURCE_TYPE;
  for (let offset = 0; offset < head.length; offset += 188) {
    if (head[offset] !== 0x47) return SOURCE_TYPE;
  }
  return TRANSPORT_STREAM_TYPE;
}
