import type { RequestContext, StageResult } from '../context.js';
import { classifyError, type FileEntry } from '../fs/file-cache.js';
import type { RenderedListing } from '../listing/cache.js';
import { parseSortQuery, sortEntries, type SortSpec } from '../listing/sort.js';
import { contentDigest } from '../http/etag.js';
import { addVary, fail, HTML_TYPE, htmlEntity } from '../respond.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/** The reader and renderers load with the first listing: a server of files never pays for them. */
let listingModules:
  | Promise<[typeof import('../fs/read-directory.js'), typeof import('../listing/html.js'), typeof import('../listing/json.js')]>
  | undefined;
function loadListingModules() {
  listingModules ??= Promise.all([import('../fs/read-directory.js'), import('../listing/html.js'), import('../listing/json.js')]);
  return listingModules;
}

/**
 * Directory listing for a folder without an index: HTML for people, JSON for
 * `Accept: application/json`. Big folders are served from the listing cache
 * while the folder is provably unchanged (see ListingCache).
 */
export function listDirectory(ctx: RequestContext): StageResult | Promise<StageResult> {
  const directory = ctx.directory;
  const target = ctx.target;
  if (ctx.status !== 200 || directory === undefined || target === undefined) return;
  // The same URL answers HTML or JSON, so caches must key on Accept too.
  addVary(ctx, 'Accept');
  const sort = parseSortQuery(target.query.slice(1));
  const json = prefersJson(ctx.req.headers.accept);
  const variant = `${json ? 'json' : 'html'} ${sort.key} ${sort.order}`;
  const cached = ctx.services.listings.rendered(directory, variant);
  if (cached !== undefined) {
    setEntity(ctx, cached, json);
    return;
  }
  return renderListing(ctx, directory, target.urlPath, sort, variant, json);
}

async function renderListing(
  ctx: RequestContext,
  directory: FileEntry,
  urlPath: string,
  sort: SortSpec,
  variant: string,
  json: boolean,
): Promise<StageResult> {
  const { options, listings } = ctx.services;
  const [{ readDirectory }, { renderListingHtml }, { renderListingJson }] = await loadListingModules();
  let entries;
  try {
    entries = await listings.read(directory, () => readDirectory(directory.absolute, { root: options.root, dotfiles: options.dotfiles }));
  } catch (error) {
    return fail(ctx, classifyError(error) === 'forbidden' ? 403 : 404);
  }
  const page = { urlPath, entries: sortEntries(entries, sort), sort };
  const body = Buffer.from(json ? renderListingJson(page) : renderListingHtml(page));
  const rendered = { body, etag: `"l-${body.length.toString(36)}-${contentDigest(body)}"` };
  listings.store(directory, variant, rendered);
  setEntity(ctx, rendered, json);
}

function setEntity(ctx: RequestContext, rendered: RenderedListing, json: boolean): void {
  ctx.entity = { ...htmlEntity(rendered.body, rendered.etag), contentType: json ? JSON_TYPE : HTML_TYPE };
}

/** JSON only when the client names it and does not prefer HTML (browsers send text/html first). */
export function prefersJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const json = accept.indexOf('application/json');
  if (json === -1) return false;
  const html = accept.indexOf('text/html');
  return html === -1 || json < html;
}
