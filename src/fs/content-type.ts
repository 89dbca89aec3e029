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

/** For the test that keeps the table in step with mime-types. */
export const COMMON_TYPES = COMMON;
