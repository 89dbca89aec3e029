import type { RequestContext, Stage, StageResult } from '../context.js';
import { CORS_RESPONSE_HEADERS } from '../http/cors.js';
import type { HeaderRules } from '../http/header-rules.js';
import { LIVERELOAD_PREFIX } from './livereload.js';

const EVENTS_PATH = `${LIVERELOAD_PREFIX}events`;

/**
 * The live-reload module writes its answers itself (the client script, the event
 * stream), past baseHeaders: `--cors` and `-H` reach them as headers set on the
 * response beforehand, which its writeHead keeps. Its own fields of the same name
 * (the script's Cache-Control) win there. The event stream gets no CORS headers:
 * only pages of this origin have any business with it, and the hub refuses others.
 * In the pipeline only with --watch and --cors or user headers.
 */
export function createEndpointHeaders(cors: boolean, userHeaders: HeaderRules | undefined): Stage {
  return function presetEndpointHeaders(ctx: RequestContext): StageResult {
    const url = ctx.req.url ?? '';
    if (ctx.status !== 200 || !url.startsWith(LIVERELOAD_PREFIX)) return;
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (cors && path !== EVENTS_PATH) {
      for (const name in CORS_RESPONSE_HEADERS) ctx.res.setHeader(name, CORS_RESPONSE_HEADERS[name] as string);
    }
    for (const field of userHeaders?.forPath(path) ?? []) ctx.res.setHeader(field.name, field.value);
  };
}
