import { asksForRange, isServingEntity, type RequestContext, type StageResult } from '../context.js';
import type { FileEntry } from '../fs/file-cache.js';
import { etagForEncoding } from '../http/etag.js';
import { chooseEncoding, isCompressible, type Encoding } from '../http/negotiate.js';
import { addVary } from '../respond.js';

/** Below this, compression saves less than the headers it adds. */
export const MIN_COMPRESS_SIZE = 1024;
/**
 * Above this, a file with no precompressed sidecar is sent as it is. A compressed
 * stream is paced by the socket: the compressor waits whenever the socket has bytes
 * waiting. But the kernel's socket buffers take a few MiB of output before the socket
 * pushes back, whether the client reads or not, and a few MiB of output can stand for
 * gigabytes of input: a 1 GiB file of zeros compresses to a few hundred bytes, and
 * took 8.8 s of CPU for a client that read nothing. So the work a client that stops
 * reading can cause is bounded here, by the input: 64 MiB is under half a second of
 * brotli even for the most compressible input. Files this large gain more from a
 * Content-Length and ranges (resumable downloads) than from compression anyway.
 */
export const MAX_STREAMED_COMPRESS_SIZE = 64 * 1024 * 1024;
const CODINGS = ['br', 'gzip'] as const;
const SIDECAR_SUFFIX = { br: '.br', gzip: '.gz' } as const;

/**
 * Content-coding (RFC 9110 §8.4, §12.5.3). A precompressed `file.br` or
 * `file.gz` at least as new as `file` is sent as is; otherwise compressible
 * bodies are compressed on the fly (small ones once per version, then reused;
 * large ones streamed; very large ones not at all). Every response of a compressible type says
 * `Vary: Accept-Encoding`, compressed or not, so shared caches keep them apart.
 */
export function compress(ctx: RequestContext): StageResult | Promise<StageResult> {
  if (!isServingEntity(ctx)) return;
  const entity = ctx.entity!;
  if (!isCompressible(entity.contentType)) return;
  addVary(ctx, 'Accept-Encoding');
  // Ranges address the identity bytes; a ranged request gets identity.
  if (asksForRange(ctx)) return;
  // A large page with the live-reload script spliced in goes out as it streams, uncompressed.
  if (entity.insertion !== undefined) return;
  const accept = ctx.req.headers['accept-encoding'];
  if (accept === undefined || accept === '') return;

  const sidecars = entity.file === undefined ? undefined : findSidecars(ctx, entity.file);
  const onTheFly = entity.size >= MIN_COMPRESS_SIZE && (entity.body !== undefined || entity.size <= MAX_STREAMED_COMPRESS_SIZE);
  const available = CODINGS.filter((coding) => sidecars?.[coding] !== undefined || onTheFly);
  if (available.length === 0) return;
  const encoding: Encoding | null = chooseEncoding(accept, available);
  if (encoding === null || encoding === 'identity') return;

  const sidecar = sidecars?.[encoding];
  if (sidecar !== undefined) {
    ctx.encoded = { encoding, etag: etagForEncoding(sidecar.etag, encoding), body: sidecar.body, file: sidecar };
    return;
  }
  const etag = etagForEncoding(entity.etag, encoding);
  const body = entity.body;
  if (body === undefined) {
    // Too large to hold: compress while streaming (no Content-Length).
    ctx.encoded = { encoding, etag, body: undefined, file: undefined };
    return;
  }
  const cached = ctx.services.variants.get(etag);
  if (cached !== undefined) {
    ctx.encoded = { encoding, etag, body: cached, file: undefined };
    return;
  }
  return ctx.services.variants.compress(etag, body, encoding).then((compressed) => {
    ctx.encoded = { encoding, etag, body: compressed, file: undefined };
  });
}

/** Sidecars obey the same rules as any file (lookup checks symlinks; names are not dotfiles). */
function findSidecars(ctx: RequestContext, file: FileEntry): Partial<Record<'br' | 'gzip', FileEntry>> {
  const found: Partial<Record<'br' | 'gzip', FileEntry>> = {};
  for (const coding of CODINGS) {
    const sidecar = ctx.services.files.lookup(file.absolute + SIDECAR_SUFFIX[coding]);
    if (typeof sidecar === 'object' && sidecar.kind === 'file' && sidecar.mtimeMs >= file.mtimeMs) found[coding] = sidecar;
  }
  return found;
}
