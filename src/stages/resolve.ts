import type { Entity, RequestContext, StageResult } from '../context.js';
import type { FileEntry, LookupResult } from '../fs/file-cache.js';
import { mapRequestPath, withSeparator, type MappedPath } from '../fs/map-path.js';
import { resolveCleanUrl, type EntryKind } from '../http/navigation.js';
import { fail, redirect } from '../respond.js';

/**
 * File resolution: what the mapped path names now. A file becomes the entity; a
 * directory asked for without its slash is redirected to it (so relative links
 * inside resolve against the directory); a directory serves its index file, or
 * is left for the listing stage in `ctx.directory`.
 */
export function resolveFile(ctx: RequestContext): StageResult | Promise<StageResult> {
  const target = ctx.target;
  if (ctx.status !== 200 || target === undefined) return;
  const found = ctx.services.files.lookup(target.absolute);
  if (found === 'forbidden') return fail(ctx, 403);
  if (ctx.options.cleanUrls && (found === 'not-found' || (found.kind === 'file' && target.segments.at(-1)?.endsWith('.html') === true))) {
    return resolveCleanly(ctx, target, found);
  }
  if (found === 'not-found') {
    ctx.absent = true;
    return fail(ctx, 404);
  }
  return resolveEntry(ctx, target, found);
}

/**
 * `--clean-urls` (the rules are in navigation.ts): `/about` serves about.html, `/about.html`
 * and `/about/` redirect to `/about`. Every name it tries is mapped by the path guard's own
 * function, so a clean URL reaches nothing a request for the file itself could not.
 */
async function resolveCleanly(ctx: RequestContext, target: MappedPath, found: FileEntry | 'not-found'): Promise<StageResult> {
  const outcome = await resolveCleanUrl(target, kindOf(found), (segments) => kindOf(lookupSegments(ctx, segments)));
  if (outcome.kind === 'redirect') {
    redirect(ctx, ctx.mount.prefix + outcome.location);
    return;
  }
  if (outcome.kind === 'serve') {
    const page = lookupSegments(ctx, outcome.segments);
    if (typeof page === 'object' && page.kind === 'file') {
      ctx.entity = fileEntity(page);
      return;
    }
  }
  if (found === 'not-found') {
    ctx.absent = true;
    return fail(ctx, 404);
  }
  return resolveEntry(ctx, target, found);
}

/** What `segments` name under the root, looked up as a request for them would be (hidden names, Windows aliases and all). */
function lookupSegments(ctx: RequestContext, segments: readonly string[]): LookupResult {
  const mapped = mapRequestPath(`/${segments.map(encodeURIComponent).join('/')}`, ctx.options.root, ctx.options.dotfiles);
  return mapped.ok ? ctx.services.files.lookup(mapped.path.absolute) : 'not-found';
}

function kindOf(found: LookupResult): EntryKind {
  return typeof found === 'object' ? found.kind : undefined;
}

/** A file or folder found at the mapped path. */
function resolveEntry(ctx: RequestContext, target: MappedPath, found: FileEntry): StageResult {
  // `/static` reached us as `/`: the mount point, like any folder, gets its slash.
  if (ctx.mount.bare && found.kind === 'directory' && ctx.options.redirect) {
    redirect(ctx, `${ctx.mount.prefix}/${target.query}`);
    return;
  }
  if (found.kind === 'file') {
    // `file.txt/` names a directory that does not exist.
    if (target.trailingSlash) return fail(ctx, 404);
    ctx.entity = fileEntity(found);
    return;
  }
  if (!target.trailingSlash) {
    // Without the redirect, a folder is reached only by its slash form (serve-static's redirect: false).
    if (!ctx.options.redirect) return fail(ctx, 404);
    redirect(ctx, ctx.mount.prefix + directoryLocation(target.segments, target.query));
    return;
  }
  const base = withSeparator(target.absolute);
  for (const name of ctx.options.index) {
    const index = ctx.services.files.lookup(base + name);
    if (index === 'forbidden') return fail(ctx, 403);
    if (index !== 'not-found' && index.kind === 'file') {
      ctx.entity = fileEntity(index);
      return;
    }
  }
  if (!ctx.options.listing) return fail(ctx, 404);
  ctx.directory = found;
}

export function fileEntity(file: FileEntry): Entity {
  return {
    contentType: file.contentType,
    size: file.size,
    etag: file.etag,
    lastModified: file.lastModified,
    lastModifiedMs: file.lastModifiedMs,
    body: file.body,
    file,
  };
}

/**
 * The slash form of a directory's path. Each segment is percent-encoded, so the
 * result starts with '/' and a non-empty segment: never '//' or '/\' (which a
 * browser would read as another host), never a CR or LF. It uses no Host header.
 */
export function directoryLocation(segments: readonly string[], query: string): string {
  return `/${segments.map(encodeURIComponent).join('/')}/${query}`;
}
