import { createHash } from 'node:crypto';
import type { RequestContext, StageResult } from '../context.js';
import { readDirectory } from '../fs/read-directory.js';
import { renderListingHtml } from '../listing/html.js';
import { renderListingJson } from '../listing/json.js';
import { parseSortQuery, sortEntries } from '../listing/sort.js';
import { addVary, fail, HTML_TYPE, htmlEntity } from '../respond.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Directory listing for a folder without an index: HTML for people, JSON for
 * `Accept: application/json`. Generated fresh from the file system on each
 * request, so it never lags behind it.
 */
export async function listDirectory(ctx: RequestContext): Promise<StageResult> {
  const directory = ctx.directory;
  const target = ctx.target;
  if (ctx.status !== 200 || directory === undefined || target === undefined) return;

  let entries;
  try {
    entries = await readDirectory(directory.absolute, { root: ctx.options.root, dotfiles: ctx.options.dotfiles });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') return fail(ctx, 403);
    if (code === 'ENOENT' || code === 'ENOTDIR') return fail(ctx, 404);
    throw error;
  }
  const sort = parseSortQuery(target.query.slice(1));
  const page = { urlPath: target.urlPath, entries: sortEntries(entries, sort), sort };
  const wantsJson = prefersJson(ctx.req.headers.accept);
  const body = Buffer.from(wantsJson ? renderListingJson(page) : renderListingHtml(page));
  const etag = `"l-${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`;
  ctx.entity = { ...htmlEntity(body, etag), contentType: wantsJson ? JSON_TYPE : HTML_TYPE };
  // The same URL answers HTML or JSON, so caches must key on Accept too.
  addVary(ctx, 'Accept');
}

/** JSON only when the client names it and does not prefer HTML (browsers send text/html first). */
export function prefersJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const json = accept.indexOf('application/json');
  if (json === -1) return false;
  const html = accept.indexOf('text/html');
  return html === -1 || json < html;
}
