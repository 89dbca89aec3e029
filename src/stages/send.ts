import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { constants, createBrotliCompress, createGzip } from 'node:zlib';
import { HANDLED, type Entity, type RequestContext, type StageResult } from '../context.js';
import { classifyError } from '../fs/file-cache.js';
import { contentRange, type ByteRange } from '../http/range.js';
import { makeBoundary, multipartLayout } from '../http/multipart.js';
import { fail, responseGone, settleMiss, writeResponse, type HeaderList } from '../respond.js';
import { withUserHeaders } from './user-headers.js';

/**
 * Streamed downloads share a fixed memory budget. Each holds two buffers (one
 * being sent while the next is read) and reuses them, so a download costs the
 * same memory at the first megabyte as at the hundredth, and no garbage. A few
 * clients get large reads (fewer trips through the thread pool, faster); many
 * clients get smaller ones, and memory stays bounded.
 */
const STREAM_BUDGET = 16 * 1024 * 1024;
const MIN_CHUNK = 64 * 1024;
const MAX_CHUNK = 1024 * 1024;
/** Bytes of buffers held by downloads in flight. */
let reservedBytes = 0;

/**
 * Buffers of finished downloads, by size, for the next ones: allocating a
 * megabyte per download and leaving it to the garbage collector grows the
 * resident size far beyond what is in use (freed memory is not returned at once).
 */
const spareBuffers = new Map<number, Buffer[]>();
const MAX_SPARE_BYTES = 4 * 1024 * 1024;
let spareBytes = 0;

/**
 * Two read buffers of the largest size (a power of two, at most `most`) that still fits the
 * budget; never below MIN_CHUNK.
 */
function takeBuffers(length: number, most = MAX_CHUNK): [Buffer, Buffer] {
  let chunk = most;
  while (chunk > MIN_CHUNK && reservedBytes + 2 * chunk > STREAM_BUDGET) chunk /= 2;
  // Whole powers of two only, so buffers can be handed on; a short file reads through a short view.
  while (chunk > MIN_CHUNK && chunk / 2 >= length) chunk /= 2;
  reservedBytes += 2 * chunk;
  const spare = spareBuffers.get(chunk) ?? [];
  const take = () => {
    const buffer = spare.pop();
    if (buffer === undefined) return Buffer.allocUnsafeSlow(chunk);
    spareBytes -= chunk;
    return buffer;
  };
  return [take(), take()];
}

function returnBuffers(buffers: readonly Buffer[]): void {
  for (const buffer of buffers) {
    reservedBytes -= buffer.length;
    if (spareBytes + buffer.length > MAX_SPARE_BYTES) continue;
    let spare = spareBuffers.get(buffer.length);
    if (spare === undefined) spareBuffers.set(buffer.length, (spare = []));
    spare.push(buffer);
    spareBytes += buffer.length;
  }
}

/** The last stage: write the status, headers and body the earlier stages decided. */
export function send(ctx: RequestContext): StageResult | Promise<StageResult> {
  const { entity } = ctx;
  if (entity === undefined || ctx.status === 204 || ctx.status === 304) {
    const headers = baseHeaders(ctx, entity?.contentType);
    // 304 keeps the validators and caching headers but describes no body (RFC 9110 §15.4.5).
    // Other bodiless answers (a 416) say their body is empty rather than send an empty chunked one.
    if (ctx.status !== 204 && ctx.status !== 304) headers.push('content-length', 0);
    return sendHeadersOnly(ctx, headers);
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
  if (entity.insertion !== undefined) return streamWithInsertion(ctx, headers, entity.file!.absolute, entity.size, entity.insertion);
  return streamFile(ctx, headers, entity.file!.absolute, entity.size, range);
}

function baseHeaders(ctx: RequestContext, contentType: string | undefined): HeaderList {
  const { entity, status } = ctx;
  const notModified = status === 304;
  const validators = status < 300 || notModified;
  const headers: HeaderList = [];
  if (entity !== undefined) {
    if (!notModified && contentType !== undefined) headers.push('content-type', contentType);
    if (validators && entity.etag !== '') headers.push('etag', ctx.encoded?.etag ?? entity.etag);
    if (validators && entity.lastModified !== '') headers.push('last-modified', entity.lastModified);
    if (status < 300 && entity.file !== undefined && entity.insertion === undefined) headers.push('accept-ranges', 'bytes');
  }
  headers.push('cache-control', validators && !isPage(contentType) ? ctx.services.cacheControl : 'no-cache');
  // A 304 updates the cached response's metadata and has no body to sniff: it carries the
  // validators and caching fields a 200 would (RFC 9110 §15.4.5), not the rest.
  if (!notModified) headers.push('x-content-type-options', 'nosniff');
  for (const name in ctx.headers) headers.push(name, String(ctx.headers[name]));
  // As middleware, or with a setHeaders hook, a header the app set on the response wins over
  // ours for a file it lets us send (Express's send does the same). Standalone nobody can have.
  const appSet = validators && (ctx.next !== undefined || ctx.options.setHeaders !== undefined) ? ctx.res.getHeaderNames() : [];
  const kept = appSet.length === 0 ? headers : withoutNames(headers, appSet);
  // -H and path-scoped headers: undefined unless the user set some, so otherwise free.
  const userHeaders = ctx.services.userHeaders;
  return userHeaders === undefined ? kept : withUserHeaders(ctx, userHeaders, kept);
}

/** The list without the fields named (lower-case names, as getHeaderNames gives them). */
function withoutNames(headers: HeaderList, names: readonly string[]): HeaderList {
  const result: HeaderList = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!names.includes(String(headers[i]).toLowerCase())) result.push(headers[i]!, headers[i + 1]!);
  }
  return result;
}

/**
 * --cache is for assets. A page keeps `no-cache` under it: the page is the URL
 * people type and bookmark, and it names the (fingerprinted) assets, so caching
 * it for a year would hide every later deploy.
 */
function isPage(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.startsWith('text/html');
}

function sendBuffer(ctx: RequestContext, headers: HeaderList, body: Buffer): void {
  headers.push('content-length', body.length);
  writeResponse(ctx.res, { status: ctx.status, headers, body: { kind: 'bytes', bytes: body } }, ctx.services.endBody);
}

/** Stream a file, or one range of it, with backpressure. */
async function streamFile(
  ctx: RequestContext,
  headers: HeaderList,
  path: string,
  size: number,
  range: ByteRange | undefined,
): Promise<StageResult> {
  const start = range?.start ?? 0;
  const length = range === undefined ? size : range.end - range.start + 1;
  headers.push('content-length', length);
  if (ctx.method === 'HEAD' || length === 0) return sendHeadersOnly(ctx, headers);
  return withOpenFile(ctx, path, headers, (handle) => sendFilePieces(ctx, handle, [{ start, end: start + length - 1 }]));
}

/** Stream a file with bytes put in at one offset (a large page with the live-reload script). */
async function streamWithInsertion(
  ctx: RequestContext,
  headers: HeaderList,
  path: string,
  size: number,
  insertion: { at: number; bytes: Buffer },
): Promise<StageResult> {
  headers.push('content-length', size);
  if (ctx.method === 'HEAD') return sendHeadersOnly(ctx, headers);
  const fileEnd = size - insertion.bytes.length;
  const pieces: Array<Buffer | ByteRange> = [{ start: 0, end: insertion.at - 1 }, insertion.bytes, { start: insertion.at, end: fileEnd - 1 }];
  const nonEmpty = pieces.filter((piece) => Buffer.isBuffer(piece) || piece.end >= piece.start);
  return withOpenFile(ctx, path, headers, (handle) => sendFilePieces(ctx, handle, nonEmpty));
}

function sendHeadersOnly(ctx: RequestContext, headers: HeaderList): void {
  writeResponse(ctx.res, { status: ctx.status, headers, body: { kind: 'none' } });
}

/**
 * Open the file before the headers go out, so a file deleted or made unreadable
 * since the stat still gets a clean 404 or 403; then send the headers and the
 * body, and close the file whatever happens. The file cache opens it: without
 * blocking, and refusing what was opened unless it is a regular file whose real
 * location may be served (a FIFO, or a symlink leading out, renamed over the
 * name since the lookup).
 */
async function withOpenFile(
  ctx: RequestContext,
  path: string,
  headers: HeaderList,
  sendBody: (handle: FileHandle) => Promise<void>,
): Promise<StageResult> {
  let handle: FileHandle | 'not-found';
  try {
    handle = await ctx.services.files.openFile(path);
  } catch (error) {
    return replaceWithError(ctx, path, classifyError(error));
  }
  if (handle === 'not-found') return replaceWithError(ctx, path, handle);
  try {
    // Inside the try: whatever throws once the file is open (writeHead on a header
    // value it refuses, on headers already sent) still closes it.
    writeResponse(ctx.res, { status: ctx.status, headers, body: { kind: 'open' } });
    await sendBody(handle);
  } finally {
    await handle.close();
  }
}

/**
 * Send `pieces` (in-memory bytes, and ranges of the file read as they are sent)
 * and end the response. If a read fails, the file turns out shorter than
 * promised, or the client goes away, the connection is cut rather than the
 * response ended: a short body under a full Content-Length would look complete,
 * and a keep-alive client would read the next response as its missing bytes.
 */
async function sendFilePieces(ctx: RequestContext, handle: FileHandle, pieces: Array<Buffer | ByteRange>): Promise<void> {
  const { res } = ctx;
  const largest = pieces.reduce((most, piece) => Math.max(most, Buffer.isBuffer(piece) ? 0 : piece.end - piece.start + 1), 0);
  // An HTTP/2 stream shows its progress (what the stall rule watches) a whole write at a
  // time, so its writes are kept to MIN_CHUNK: a slow phone must move 64 KiB per stall
  // timeout over HTTP/2, as over HTTP/1.1, rather than 1 MiB. nghttp2 frames by 16 KiB anyway.
  const buffers = takeBuffers(largest, ctx.req.httpVersionMajor === 2 ? MIN_CHUNK : MAX_CHUNK);
  const chunk = buffers[0].length;
  try {
    // Two buffers take turns: one is being sent while the other is refilled.
    let current = { buffer: buffers[0], sent: Promise.resolve() };
    let other = { buffer: buffers[1], sent: Promise.resolve() };
    for (const piece of pieces) {
      if (Buffer.isBuffer(piece)) {
        await written(res, piece);
        continue;
      }
      for (let position = piece.start, end = piece.end + 1; position < end; [current, other] = [other, current]) {
        // A buffer is refilled only once its previous contents are on their way.
        await current.sent;
        const { bytesRead } = await handle.read(current.buffer, 0, Math.min(chunk, end - position), position);
        if (bytesRead === 0) throw new Error('the file shrank while being sent');
        position += bytesRead;
        current.sent = written(res, current.buffer.subarray(0, bytesRead));
        current.sent.catch(() => {}); // awaited on its next turn; no unhandled rejection meanwhile
      }
    }
    await Promise.all([current.sent, other.sent]);
    res.end();
    returnBuffers(buffers);
  } catch {
    res.destroy();
    // Not handed on: the socket may not be done with them. The garbage collector takes them.
    reservedBytes -= 2 * chunk;
  }
}

/**
 * Resolves once `chunk` has been handed to the socket; rejects if the response is
 * gone. The response's 'close' settles it too: Node drops the callback of a write
 * made after the socket was destroyed but before the response heard of it (its
 * 'close' comes later), and a write never settled would leave the download waiting
 * forever, its file open until the garbage collector closes it.
 */
function written(res: RequestContext['res'], chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (responseGone(res)) return reject(new Error('the client went away'));
    const gone = () => reject(new Error('the client went away'));
    res.once('close', gone);
    res.write(chunk, (error) => {
      res.off('close', gone);
      if (error) reject(error);
      else resolve();
    });
  });
}

/** Compress a large file while streaming it: the length is unknown, so the body is chunked. */
async function streamCompressed(
  ctx: RequestContext,
  headers: HeaderList,
  path: string,
  encoding: 'br' | 'gzip',
): Promise<StageResult> {
  if (ctx.method === 'HEAD') return sendHeadersOnly(ctx, headers);
  return withOpenFile(ctx, path, headers, async (handle) => {
    const compressor =
      encoding === 'br'
        ? createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 4 } })
        : createGzip({ level: 6 });
    try {
      await pipeline(handle.createReadStream({ autoClose: false }), compressor, ctx.res);
    } catch {
      ctx.res.destroy();
    }
  });
}

/** RFC 9110 §14.6: several ranges as one multipart/byteranges body of exact length. */
async function sendMultipart(ctx: RequestContext, entity: Entity, ranges: ByteRange[]): Promise<StageResult> {
  const layout = multipartLayout(ranges, entity.size, entity.contentType, makeBoundary());
  const headers = baseHeaders(ctx, layout.contentType);
  headers.push('content-length', layout.contentLength);
  if (ctx.method === 'HEAD') return sendHeadersOnly(ctx, headers);
  const body = entity.body;
  if (body !== undefined) {
    const pieces: Buffer[] = [];
    for (const part of layout.parts) pieces.push(part.head, body.subarray(part.range.start, part.range.end + 1));
    pieces.push(layout.tail);
    const bytes = Buffer.concat(pieces, layout.contentLength);
    writeResponse(ctx.res, { status: ctx.status, headers, body: { kind: 'bytes', bytes } }, ctx.services.endBody);
    return;
  }
  const pieces = [...layout.parts.flatMap((part) => [part.head, part.range]), layout.tail];
  return withOpenFile(ctx, entity.file!.absolute, headers, (handle) => sendFilePieces(ctx, handle, pieces));
}

/**
 * The file vanished, became unreadable, or was swapped for something that may
 * not be served between its stat and its opening: answer as resolution would
 * have, had it looked a moment later (the site's 404.html, or next() in
 * middleware). Other errors (EMFILE) are thrown on.
 */
function replaceWithError(ctx: RequestContext, path: string, found: 'not-found' | 'forbidden'): StageResult | Promise<StageResult> {
  const status = found === 'forbidden' ? 403 : 404;
  ctx.services.files.invalidate(path);
  ctx.ranges = undefined;
  if (fail(ctx, status) === HANDLED || settleMiss(ctx) === HANDLED) return HANDLED;
  return send(ctx);
}
