import { open, type FileHandle } from 'node:fs/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { constants, createBrotliCompress, createGzip } from 'node:zlib';
import type { Entity, RequestContext, StageResult } from '../context.js';
import { contentRange, type ByteRange } from '../http/range.js';
import { makeBoundary, multipartLayout } from '../http/multipart.js';
import { errorPage, HTML_TYPE } from '../respond.js';

/**
 * Read size for streamed files. Node's default (64 KiB) costs a round trip
 * through the thread pool per 64 KiB; larger reads move big files faster, and
 * backpressure still bounds memory to a few chunks per connection.
 */
const STREAM_CHUNK = 256 * 1024;

/** The last stage: write the status, headers and body the earlier stages decided. */
export function send(ctx: RequestContext): StageResult | Promise<StageResult> {
  const { res, entity } = ctx;
  const headers = baseHeaders(ctx);
  if (entity === undefined || ctx.status === 204 || ctx.status === 304) {
    // 304 keeps the validators and caching headers but describes no body (RFC 9110 §15.4.5).
    res.writeHead(ctx.status, headers);
    res.end();
    return;
  }
  const encoded = ctx.encoded;
  if (encoded !== undefined) {
    headers['content-encoding'] = encoded.encoding;
    if (encoded.body !== undefined) return sendBuffer(ctx, headers, encoded.body);
    if (encoded.file !== undefined) return streamFile(ctx, headers, encoded.file.absolute, encoded.file.size, undefined);
    return streamCompressed(ctx, headers, entity.file!.absolute, encoded.encoding);
  }
  const ranges = ctx.ranges;
  if (ranges !== undefined && ranges.length > 1) return sendMultipart(ctx, headers, entity, ranges);
  const range = ranges?.[0];
  if (range !== undefined) headers['content-range'] = contentRange(range, entity.size);
  if (entity.body !== undefined) {
    return sendBuffer(ctx, headers, range === undefined ? entity.body : entity.body.subarray(range.start, range.end + 1));
  }
  return streamFile(ctx, headers, entity.file!.absolute, entity.size, range);
}

function baseHeaders(ctx: RequestContext): OutgoingHttpHeaders {
  const { entity } = ctx;
  const headers: OutgoingHttpHeaders = { ...ctx.headers };
  const validators = ctx.status < 300 || ctx.status === 304;
  if (entity !== undefined) {
    if (ctx.status !== 304) headers['content-type'] = entity.contentType;
    if (validators && entity.etag !== '') headers['etag'] = ctx.encoded?.etag ?? entity.etag;
    if (validators && entity.lastModified !== '') headers['last-modified'] = entity.lastModified;
    if (entity.file !== undefined && validators) headers['accept-ranges'] = 'bytes';
  }
  headers['cache-control'] = validators ? ctx.services.cacheControl : 'no-cache';
  headers['x-content-type-options'] = 'nosniff';
  return headers;
}

function sendBuffer(ctx: RequestContext, headers: OutgoingHttpHeaders, body: Buffer): void {
  headers['content-length'] = body.length;
  ctx.res.writeHead(ctx.status, headers);
  ctx.res.end(ctx.method === 'HEAD' ? undefined : body);
}

/**
 * Stream a file with backpressure. The file is opened before the headers go
 * out, so a file deleted or made unreadable since the stat still gets a clean
 * 404 or 403. If it shrinks while streaming, the connection is cut instead of
 * ending early: a short body with a full Content-Length would look complete.
 */
async function streamFile(
  ctx: RequestContext,
  headers: OutgoingHttpHeaders,
  path: string,
  size: number,
  range: ByteRange | undefined,
): Promise<StageResult> {
  const { res } = ctx;
  const start = range?.start ?? 0;
  const length = range === undefined ? size : range.end - range.start + 1;
  headers['content-length'] = length;
  if (ctx.method === 'HEAD' || length === 0) {
    res.writeHead(ctx.status, headers);
    res.end();
    return;
  }
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    return replaceWithError(ctx, error);
  }
  res.writeHead(ctx.status, headers);
  await pipeFileRange(ctx, handle, start, length);
}

/** Copy `length` bytes from `start` to the response, closing the file whatever happens. */
async function pipeFileRange(ctx: RequestContext, handle: FileHandle, start: number, length: number): Promise<void> {
  const stream = handle.createReadStream({ start, end: start + length - 1, highWaterMark: STREAM_CHUNK, autoClose: true });
  let sent = 0;
  stream.on('data', (chunk: string | Buffer) => {
    sent += chunk.length;
  });
  try {
    await pipeline(stream, ctx.res);
  } catch {
    // The client went away or the read failed; the stream and file are closed.
    ctx.res.destroy();
    return;
  }
  if (sent < length) ctx.res.destroy();
}

/** Compress a large file while streaming it: the length is unknown, so the body is chunked. */
async function streamCompressed(
  ctx: RequestContext,
  headers: OutgoingHttpHeaders,
  path: string,
  encoding: 'br' | 'gzip',
): Promise<StageResult> {
  const { res } = ctx;
  if (ctx.method === 'HEAD') {
    res.writeHead(ctx.status, headers);
    res.end();
    return;
  }
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    return replaceWithError(ctx, error);
  }
  res.writeHead(ctx.status, headers);
  const source = handle.createReadStream({ highWaterMark: STREAM_CHUNK, autoClose: true });
  const compressor =
    encoding === 'br'
      ? createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 4 } })
      : createGzip({ level: 6 });
  try {
    await pipeline(source, compressor, res);
  } catch {
    res.destroy();
  }
}

/** RFC 9110 §14.6: several ranges as one multipart/byteranges body of exact length. */
async function sendMultipart(
  ctx: RequestContext,
  headers: OutgoingHttpHeaders,
  entity: Entity,
  ranges: ByteRange[],
): Promise<StageResult> {
  const layout = multipartLayout(ranges, entity.size, entity.contentType, makeBoundary());
  headers['content-type'] = layout.contentType;
  headers['content-length'] = layout.contentLength;
  const { res } = ctx;
  if (ctx.method === 'HEAD') {
    res.writeHead(ctx.status, headers);
    res.end();
    return;
  }
  const body = entity.body;
  if (body !== undefined) {
    const pieces: Buffer[] = [];
    for (const part of layout.parts) pieces.push(part.head, body.subarray(part.range.start, part.range.end + 1));
    pieces.push(layout.tail);
    res.writeHead(ctx.status, headers);
    res.end(Buffer.concat(pieces, layout.contentLength));
    return;
  }
  let handle: FileHandle;
  try {
    handle = await open(entity.file!.absolute, 'r');
  } catch (error) {
    return replaceWithError(ctx, error);
  }
  res.writeHead(ctx.status, headers);
  try {
    for (const part of layout.parts) {
      res.write(part.head);
      const stream = handle.createReadStream({ start: part.range.start, end: part.range.end, autoClose: false });
      await pipeline(stream, res, { end: false });
    }
    res.end(layout.tail);
  } catch {
    res.destroy();
  } finally {
    await handle.close();
  }
}

/** The file vanished or became unreadable after the stat: answer as if found so now. */
function replaceWithError(ctx: RequestContext, error: unknown): StageResult {
  const code = (error as NodeJS.ErrnoException).code;
  const status = code === 'EACCES' || code === 'EPERM' ? 403 : code === 'ENOENT' || code === 'ENOTDIR' ? 404 : 500;
  if (status === 500) throw error;
  ctx.services.files.invalidate(ctx.entity?.file?.absolute);
  const body = Buffer.from(errorPage(status));
  ctx.res.writeHead(status, {
    'content-type': HTML_TYPE,
    'content-length': body.length,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  ctx.res.end(ctx.method === 'HEAD' ? undefined : body);
}
