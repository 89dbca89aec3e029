import type { Entity, RequestContext, StageResult } from '../context.js';
import type { FileEntry } from '../fs/file-cache.js';
import { withSeparator } from '../fs/map-path.js';
import { fail, redirect } from '../respond.js';


/**
 * File resolution: what the mapped path names now. A file becomes the entity; a
 * directory asked for without its slash is redirected to it (so relative links
 * inside resolve against the directory); a directory serves its index file, or
 * is left for the listing stage in `ctx.directory`.
 */
export function resolveFile(ctx: RequestContext): StageResult {
  const target = ctx.target;
  if (ctx.status !== 200 || target === undefined) return;
  const found = ctx.services.files.lookup(target.absolute);
  if (found === 'not-found') return fail(ctx, 404);
  if (found === 'forbidden') return fail(ctx, 403);

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
