import { open, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { constants, createBrotliCompress, createGzip } from 'node:zlib';
import type { Entity, RequestContext, StageResult } from '../context.js';
import { contentRange, type ByteRange } from '../http/range.js';
import { makeBoundary, multipartLayout, type MultipartLayout } from '../http/multipart.js';
import { errorPage, HTML_TYPE } from '../respond.js';

/**
 * Read size for streamed files. Each read is a round trip through the thread
 * pool, so reads larger than a read stream's default (64 KiB) move big files
 * faster; backpressure still bounds memory to a chunk or two per connection.
 */
const STREAM_CHUNK = 256 * 1024;

/** The last stage: write the status, headers and body the earlier stages decided. */
export function send(ctx: RequestContext): StageResult | Promise<StageResult> {
  const { res, entity } = ctx;
  if (entity === undefined || ctx.status === 204 || ctx.status === 304) {
    const headers = baseHeaders(ctx, entity?.contentType);
    // 304 keeps the validators and caching headers but describes no body (RFC 9110 §15.4.5).
    // Other bodiless answers (a 416) say their body is empty rather than send an empty chunked one.
    if (ctx.status !== 204 && ctx.status !== 304) headers.push('content-length', 0);
    res.writeHead(ctx.status, headers);
    res.end();
    return;
  }
  // The coding was chosen for the file; an error page that replaced it since (a 412) goes out as is.
  const encoded = ctx.status === 200 ? ctx.encoded : undefined;
  if (encoded !== undefined) {
    const headers = baseHeaders(ctx, entity.contentType);
    headers.push('content-encoding', encoded.encoding);
    if (encoded.body !== undefined) return sendBuffer(ctx, headers, encoded.body);
    if (encoded.file !== undefined) return streamFile(ctx, headers, encoded.file.absolute, encoded.file.size, undefined);
    return streamCompressed(ctx, headers, entity.file!.absolute, encoded.encoding);
  }
  const ranges = ctx.ranges;
  if (ranges !== undefined && ranges.length > 1) return sendMultipart(ctx, entity, ranges);
  const headers = baseHeaders(ctx, entity.contentType);
  const range = ranges?.[0];
  if (range !== undefined) headers.push('content-range', contentRange(range, entity.size));
  if (entity.body !== undefined) {
    return sendBuffer(ctx, headers, range === undefined ? entity.body : entity.body.subarray(range.start, range.end + 1));
  }
  return streamFile(ctx, headers, entity.file!.absolute, entity.size, range);
}

/** Response header fields as a flat [name, value, ...] list: the cheapest form for writeHead. */
type HeaderList = Array<string | number>;

function baseHeaders(ctx: RequestContext, contentType: string | undefined): HeaderList {
  const { entity, status } = ctx;
  const validators = status < 300 || status === 304;
  const headers: HeaderList = [];
  if (entity !== undefined) {
    if (status !== 304 && contentType !== undefined) headers.push('content-type', contentType);
    if (validators && entity.etag !== '') headers.push('etag', ctx.encoded?.etag ?? entity.etag);
    if (validators && entity.lastModified !== '') headers.push('last-modified', entity.lastModified);
    if (validators && entity.file !== undefined) headers.push('accept-ranges', 'bytes');
  }
  headers.push('cache-control', validators ? ctx.services.cacheControl : 'no-cache', 'x-content-type-options', 'nosniff');
  for (const name in ctx.headers) headers.push(name, String(ctx.headers[name]));
  return headers;
}

function sendBuffer(ctx: RequestContext, headers: HeaderList, body: Buffer): void {
  headers.push('content-length', body.length);
  ctx.res.writeHead(ctx.status, headers);
  ctx.res.end(ctx.method === 'HEAD' ? undefined : body);
}

/**
 * Stream a file with backpressure. The file is opened before the headers go
 * out, so a file deleted or made unreadable since the stat still gets a clean
 * 404 or 403.
 */
async function streamFile(
  ctx: RequestContext,
  headers: HeaderList,
  path: string,
  size: number,
  range: ByteRange | undefined,
): Promise<StageResult> {
  const { res } = ctx;
  const start = range?.start ?? 0;
  const length = range === undefined ? size : range.end - range.start + 1;
  headers.push('content-length', length);
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
  try {
    await pipeToResponse(ctx, fileBytes(handle, start, length));
  } finally {
    await handle.close();
  }
}

/**
 * Exactly `length` bytes of the file from `start`, read as they are sent.
 * Throws when the file has fewer (it shrank since its size was sent).
 */
async function* fileBytes(handle: FileHandle, start: number, length: number): AsyncGenerator<Buffer> {
  const end = start + length;
  for (let position = start; position < end; ) {
    const buffer = Buffer.allocUnsafe(Math.min(STREAM_CHUNK, end - position));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) throw new Error('the file shrank while being sent');
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

/**
 * Write `chunks` with backpressure and end the response. If they fail (a read
 * error, a file that shrank) or the client goes away, the connection is cut
 * rather than the response ended: a short body under a full Content-Length
 * would look complete, and a keep-alive client would read the next response
 * as its missing bytes.
 */
async function pipeToResponse(ctx: RequestContext, chunks: AsyncIterable<Buffer>): Promise<void> {
  try {
    await pipeline(chunks, ctx.res);
  } catch {
    ctx.res.destroy();
  }
}

/** Compress a large file while streaming it: the length is unknown, so the body is chunked. */
async function streamCompressed(
  ctx: RequestContext,
  headers: HeaderList,
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
async function sendMultipart(ctx: RequestContext, entity: Entity, ranges: ByteRange[]): Promise<StageResult> {
  const layout = multipartLayout(ranges, entity.size, entity.contentType, makeBoundary());
  const headers = baseHeaders(ctx, layout.contentType);
  headers.push('content-length', layout.contentLength);
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
    await pipeToResponse(ctx, multipartBytes(handle, layout));
  } finally {
    await handle.close();
  }
}

async function* multipartBytes(handle: FileHandle, layout: MultipartLayout): AsyncGenerator<Buffer> {
  for (const { head, range } of layout.parts) {
    yield head;
    yield* fileBytes(handle, range.start, range.end - range.start + 1);
  }
  yield layout.tail;
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
