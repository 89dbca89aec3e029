import type { RequestContext, StageResult } from '../context.js';
import { classifyError, type FileEntry } from '../fs/file-cache.js';
import { contentDigest } from '../http/etag.js';
import type { RenderedListing } from '../listing/cache.js';
import { LISTING_PAGE_SIZE, parseOffsetQuery } from '../listing/paging.js';
import { parseSortQuery, sortEntriesInSlices, TimeSlice, type SortSpec } from '../listing/sort.js';
import { addVary, fail, HTML_TYPE, htmlEntity, LISTING_POLICY } from '../respond.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/** The reader and renderers load with the first listing: a server of files never pays for them. */
let listingModules:
  | Promise<[typeof import('../fs/read-directory.js'), typeof import('../listing/html.js'), typeof import('../listing/json.js')]>
  | undefined;
function loadListingModules() {
  listingModules ??= Promise.all([import('../fs/read-directory.js'), import('../listing/html.js'), import('../listing/json.js')]);
  return listingModules;
}

/** Entries rendered between checks of the time slice. */
const RENDER_CHUNK = 500;
const RENDER_SLICE_MS = 10;

/** What one listing request asks for: its format, order and page. */
interface PageRequest {
  urlPath: string;
  json: boolean;
  sort: SortSpec;
  offset: number;
}

/**
 * Directory listing for a folder without an index: HTML for people, JSON for
 * `Accept: application/json`. Pages are served from the listing cache while the
 * folder is provably unchanged (see ListingCache), and concurrent requests for
 * one page share one build. A page shows at most LISTING_PAGE_SIZE entries, the
 * first ones in the requested order from `?offset=` (default 0): a huge folder
 * costs a read and a sort (both yielding to other clients), never a huge page.
 */
export function listDirectory(ctx: RequestContext): StageResult | Promise<StageResult> {
  const directory = ctx.directory;
  const target = ctx.target;
  if (ctx.status !== 200 || directory === undefined || target === undefined) return;
  // The same URL answers HTML or JSON, so caches must key on Accept too.
  addVary(ctx, 'Accept');
  const query = target.query.slice(1);
  const request: PageRequest = {
    // A page names its own path, mount included.
    urlPath: ctx.mount.shown + target.urlPath,
    json: prefersJson(ctx.req.headers.accept),
    sort: parseSortQuery(query),
    offset: parseOffsetQuery(query),
  };
  const variant = `${request.json ? 'json' : 'html'} ${request.sort.key} ${request.sort.order} ${request.offset} ${ctx.mount.shown}`;
  const cached = ctx.services.listings.rendered(directory, variant);
  if (cached !== undefined) {
    setEntity(ctx, cached, request.json);
    return;
  }
  return ctx.services.listings.page(directory, variant, () => buildPage(ctx, directory, request)).then(
    (page) => setEntity(ctx, page, request.json),
    (error: unknown) => fail(ctx, classifyError(error) === 'forbidden' ? 403 : 404),
  );
}

/** Read (shared), sort (shared per order), and render the one page asked for. */
async function buildPage(ctx: RequestContext, directory: FileEntry, request: PageRequest): Promise<RenderedListing> {
  const { options, listings } = ctx.services;
  const [{ readDirectory }, { htmlRows, renderListingHtml }, { jsonItems, renderListingJson }] = await loadListingModules();
  const entries = await listings.read(directory, () =>
    readDirectory(directory.absolute, { root: options.root, dotfiles: options.dotfiles, directorySize: directory.size }),
  );
  const sorted = await listings.sorted(entries, request.sort, () => sortEntriesInSlices(entries, request.sort));
  const window = { offset: request.offset, total: sorted.length, pageSize: LISTING_PAGE_SIZE };
  const page = {
    urlPath: request.urlPath,
    entries: sorted.slice(request.offset, request.offset + LISTING_PAGE_SIZE),
    sort: request.sort,
    window,
  };
  // 10,000 rows take tens of milliseconds to render: a slice at a time, with turns between.
  const rendered: string[] = [];
  const slice = new TimeSlice(RENDER_SLICE_MS);
  for (let start = 0; start < page.entries.length; start += RENDER_CHUNK) {
    const chunk = page.entries.slice(start, start + RENDER_CHUNK);
    rendered.push(request.json ? jsonItems(chunk) : htmlRows(chunk));
    await slice.turnIfDue();
  }
  const body = Buffer.from(request.json ? renderListingJson(page, rendered) : renderListingHtml(page, rendered));
  return { body, etag: `"l-${body.length.toString(36)}-${contentDigest(body)}"` };
}

function setEntity(ctx: RequestContext, rendered: RenderedListing, json: boolean): void {
  ctx.headers['content-security-policy'] = LISTING_POLICY;
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
