import { extname } from 'node:path';
import mime from 'mime-types';

const FALLBACK = 'application/octet-stream';
const byExtension = new Map<string, string>();

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
    type = (extension !== '' && mime.contentType(extension)) || FALLBACK;
    byExtension.set(extension, type);
  }
  return type;
}
