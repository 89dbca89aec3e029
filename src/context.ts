import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FileCache, FileEntry } from './fs/file-cache.js';
import type { VariantCache } from './fs/variant-cache.js';
import type { ListingCache } from './listing/cache.js';
import type { MappedPath } from './fs/map-path.js';
import type { HeaderRules } from './http/header-rules.js';
import type { ByteRange } from './http/range.js';
import type { LiveReload } from './livereload/index.js';
import type { ResolvedOptions } from './options.js';
import type { Mount } from './stages/mount.js';

/**
 * The representation a response will carry: bytes in memory, or a file to
 * stream. Stages replace it (listing, injection, compression) and the send
 * stage writes whatever is left.
 */
export interface Entity {
  contentType: string;
  /** Length of the bytes before any content-coding. */
  size: number;
  /** Strong validator of these exact bytes; '' when the entity has none (error pages). */
  etag: string;
  /** IMF-fixdate, or '' when there is no meaningful date (generated pages). */
  lastModified: string;
  /** The same in ms (whole seconds), or NaN when undated: date preconditions are then ignored. */
  lastModifiedMs: number;
  /** In-memory bytes; when undefined, `file` is streamed. */
  body: Buffer | undefined;
  /** The file behind the entity, when it is one. */
  file: FileEntry | undefined;
  /**
   * Bytes to put into the streamed file at offset `at` (the live-reload script in a page too
   * large to hold); `size` counts them. Such an entity is a generated page: no ranges, no sidecars.
   */
  insertion?: { at: number; bytes: Buffer };
}

/**
 * The entity in a content-coding (RFC 9110 §8.4): compressed bytes, a
 * precompressed sidecar file, or neither (the entity's file is compressed while
 * streaming).
 */
export interface EncodedBody {
  encoding: 'br' | 'gzip';
  /** Each coding is a different representation, with its own strong tag. */
  etag: string;
  body: Buffer | undefined;
  file: FileEntry | undefined;
}

/** Services built once per handler and shared by every request. */
export interface Services {
  options: ResolvedOptions;
  files: FileCache;
  /** Compressed variants of in-memory bodies. */
  variants: VariantCache;
  /** Directory listings, kept while their folders are unchanged. */
  listings: ListingCache;
  liveReload: LiveReload | undefined;
  /** Cache-Control for successful responses, from --cache and --immutable. */
  cacheControl: string;
  /** `-H` and path-scoped header rules; undefined when there are none (the hot path checks only that). */
  userHeaders: HeaderRules | undefined;
  /**
   * Write a body held in memory and end the response. The transport's to decide
   * (startServer tunes its own TCP writes, see write-slices.ts); a handler inside
   * someone else's server ends the response plainly.
   */
  endBody: (res: ServerResponse, body: Buffer) => void;
}

/** Plain data passed from stage to stage; each stage reads and fills its part. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly services: Services;
  readonly options: ResolvedOptions;
  /** Connect/Express style hand-off: when set, a 404 calls it instead of answering. */
  readonly next: ((error?: unknown) => void) | undefined;
  readonly method: string;
  /** As middleware: the path the app mounted us at, which every URL we send back must carry. */
  readonly mount: Mount;
  /** As middleware: a status other than 200 that the app gave the response before us (kept; see app-response.ts). */
  readonly appStatus: number | undefined;
  /** Set by the path guard. */
  target: MappedPath | undefined;
  /**
   * Set by resolution when nothing exists at the mapped path (nor its clean-URL page): only such
   * a miss may get the SPA's page. A real folder kept at 404 (`--no-listing`, `--no-redirect`),
   * `file.txt/` or a hidden file is a miss of another kind, and keeps its 404.
   */
  absent: boolean;
  /** Set by resolution when a directory without an index is to be listed. */
  directory: FileEntry | undefined;
  /** Status to answer with: 200 while undecided; anything else ends the request's way through the file stages. */
  status: number;
  /** Headers specific to this response (Location, Allow, Content-Range ...). */
  headers: OutgoingHttpHeaders;
  /** What to send; undefined for bodiless answers (204, 304). */
  entity: Entity | undefined;
  /** Satisfiable ranges to send (206), from the range stage. */
  ranges: ByteRange[] | undefined;
  /** Set by the compression stage when the entity goes out in a content-coding. */
  encoded: EncodedBody | undefined;
}

/** Returned by a stage that has fully answered (or handed off) the request. */
export const HANDLED = Symbol('handled');

export type StageResult = void | typeof HANDLED;
export interface Stage {
  (ctx: RequestContext): StageResult | Promise<StageResult>;
  /**
   * Runs after the answer is decided too. Once a stage settles the status (an
   * error, a redirect, a 304, a miss), the runner skips every stage without this
   * mark: only the stages that finish an answer (settle a miss, inject the
   * live-reload script, write it) still run, so no stage needs its own guard.
   */
  readonly finishes?: true;
}

/** Mark a stage as one that finishes every answer, decided or not. */
export function finishing(stage: (ctx: RequestContext) => StageResult | Promise<StageResult>): Stage {
  return Object.assign(stage, { finishes: true as const });
}

/** The answer is decided: a status other than 200 was settled by some stage. */
export function isDecided(ctx: RequestContext): boolean {
  return ctx.status !== 200;
}

/**
 * A GET with a Range header addresses the identity bytes of the file (RFC 9110
 * §14): no compression, no injected script. Only GET: §14.2 has other methods
 * ignore Range, so a HEAD reports what a plain GET would send.
 */
export function asksForRange(ctx: RequestContext): boolean {
  return ctx.method === 'GET' && ctx.req.headers.range !== undefined;
}

/** The request is still on the normal path: a 200 with an entity to refine. */
export function isServingEntity(ctx: RequestContext): boolean {
  return ctx.status === 200 && ctx.entity !== undefined;
}
