// The body of a backend's HTML page, decoded so the live-reload script can go in.

import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';

const DECODERS = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  br: promisify(brotliDecompress),
  deflate: promisify(inflate),
} as const;

/**
 * `body` without its content-coding (RFC 9110 §8.4), at most `maxBytes` long once decoded (a
 * small page can inflate to gigabytes: a zip bomb). Undefined when the coding is not one we
 * decode (several codings, zstd), the bytes are not valid in it, or they decode to too much:
 * the page then goes out as the backend sent it, without the script.
 */
export async function decodeBody(body: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<Buffer | undefined> {
  const coding = (contentEncoding ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return body.length <= maxBytes ? body : undefined;
  if (!Object.hasOwn(DECODERS, coding)) return undefined;
  try {
    return await DECODERS[coding as keyof typeof DECODERS](body, { maxOutputLength: maxBytes });
  } catch {
    return undefined;
  }
}
