import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/**
 * Brotli quality 5 and gzip level 6: a few milliseconds for a 135 KiB script,
 * most of the size win of the maximum levels (brotli 11 takes ~50× longer).
 * Variants are computed once per version and reused, so this cost is rare.
 */
export function compressBuffer(body: Buffer, encoding: 'br' | 'gzip'): Promise<Buffer> {
  if (encoding === 'gzip') return gzipAsync(body, { level: 6 });
  return brotli(body, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 5,
      [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
    },
  });
}

/**
 * Variants of in-memory bodies (compressed, or with the live-reload script),
 * keyed by the variant's strong ETag (which changes with the bytes, so a stale
 * variant can never be found).
 * Bounded in bytes; least recently used first out. Concurrent requests for the
 * same variant share one compression.
 */
export class VariantCache {
  private readonly variants = new Map<string, Buffer>();
  private readonly pending = new Map<string, Promise<Buffer>>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get(etag: string): Buffer | undefined {
    const found = this.variants.get(etag);
    if (found !== undefined) {
      this.variants.delete(etag);
      this.variants.set(etag, found);
    }
    return found;
  }

  compress(etag: string, body: Buffer, encoding: 'br' | 'gzip'): Promise<Buffer> {
    let promise = this.pending.get(etag);
    if (promise === undefined) {
      promise = compressBuffer(body, encoding).then((compressed) => {
        this.pending.delete(etag);
        this.store(etag, compressed);
        return compressed;
      });
      promise.catch(() => this.pending.delete(etag));
      this.pending.set(etag, promise);
    }
    return promise;
  }

  clear(): void {
    this.variants.clear();
    this.bytes = 0;
  }

  /** Keep a variant made elsewhere (a page with the live-reload script in it). */
  store(etag: string, variant: Buffer): void {
    if (variant.length > this.maxBytes || this.variants.has(etag)) return;
    this.variants.set(etag, variant);
    this.bytes += variant.length;
    for (const [key, value] of this.variants) {
      if (this.bytes <= this.maxBytes) break;
      this.variants.delete(key);
      this.bytes -= value.length;
    }
  }
}
