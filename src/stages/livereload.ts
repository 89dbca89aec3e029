import { lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { asksForRange, HANDLED, type RequestContext, type Services, type Stage, type StageResult } from '../context.js';
import { mapRequestPath } from '../fs/map-path.js';
import { etagForEncoding } from '../http/etag.js';
import { CORS_RESPONSE_HEADERS } from '../http/cors.js';
import type * as LiveReloadModule from '../livereload/index.js';
import { fail, writeResponse, type HeaderList, type ResponsePlan } from '../respond.js';

/**
 * The reserved prefix of the client script and event stream. It equals the live-reload
 * module's LIVERELOAD_PREFIX (a test checks) and is repeated here so that recognising
 * it does not load that module.
 */
export const LIVERELOAD_PREFIX = '/__serve-dir/';
/** When the watcher starts if no request has come: soon enough that an edit a second after start counts. */
export const WATCH_DELAY_MS = 100;

export interface LiveReloadStages {
  /** Answers the live-reload client script and event stream. */
  endpoint: Stage;
  /** Adds the client script to every HTML page (files, index pages, listings, error pages). */
  inject: Stage;
  /** Resolves once the watcher has scanned the tree (serving does not wait for it). */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * The live-reload stages. The module (and the watcher with it) is loaded
 * only here, only with --watch: a plain preview never pays for it.
 */
export function createLiveReloadStages(services: Services): LiveReloadStages {
  const { options } = services;
  let module: typeof LiveReloadModule | undefined;
  let pageScans: LiveReloadModule.PageFileScans | undefined;
  // Pages are read for a scan as for sending: through the file cache's judged open.
  const openPage = async (path: string) => {
    const handle = await services.files.openFile(path);
    if (handle === 'not-found') throw Object.assign(new Error('not a servable file'), { code: 'ENOENT' });
    return handle;
  };
  // Serving never waits for the watcher, and the first answer does not even share
  // the CPU with it: the module loads and the tree is scanned once the first
  // response is out, or WATCH_DELAY_MS after start if no request comes. A page
  // that needs the script or the stream starts it at once and waits for the
  // (small) module, not for the scan.
  let state: 'waiting' | 'begun' | 'closed' = 'waiting';
  let resolveBegun!: () => void;
  const begun = new Promise<void>((resolve) => (resolveBegun = resolve));
  const begin = () => {
    if (state !== 'waiting') return;
    state = 'begun';
    clearTimeout(timer);
    resolveBegun();
  };
  const timer = setTimeout(begin, WATCH_DELAY_MS);
  let startedAt = 0;
  let firstRequest = true;
  const starting = begun.then(async () => {
    startedAt = performance.now();
    const loaded = await import('../livereload/index.js');
    const liveReload = await loaded.startLiveReload({
      root: options.root,
      // Hidden files are not served, so their changes are nobody's business: an
      // event naming `.env` would leak that it exists. Not watching dot-folders
      // also spares the watcher `.cache`, `.next` and the like.
      ignore: options.dotfiles ? options.ignore : [...options.ignore, '.*'],
      poll: options.poll,
      // --quiet drops the line per change; a watcher that fails, or falls back to polling, still says so.
      emit: options.emit,
      quiet: options.quiet,
      announces: (urlPath) => wouldServe(services, urlPath),
    });
    // Forget what we knew about changed files before any page is told to reload.
    liveReload.onChange((urlPaths) => {
      for (const urlPath of urlPaths) services.files.invalidate(resolve(options.root, `.${urlPath}`));
    });
    module = loaded;
    pageScans = new loaded.PageFileScans(openPage);
    services.liveReload = liveReload;
    return liveReload;
  });
  // Say when changes start to count: one made before this line is not seen.
  starting
    .then((liveReload) => liveReload.ready)
    .then(
      () => {
        if (!options.quiet) options.emit({ type: 'watching', ms: Math.round(performance.now() - startedAt) });
      },
      () => {},
    );
  /** Begin now (if not begun) and wait for the module. */
  const startNow = () => {
    begin();
    return starting;
  };

  function endpoint(ctx: RequestContext): StageResult | Promise<StageResult> {
    if (firstRequest) {
      firstRequest = false;
      ctx.res.once('close', begin);
    }
    if (ctx.status !== 200) return;
    const url = ctx.req.url ?? '';
    if (!url.startsWith(LIVERELOAD_PREFIX)) return;
    if (services.liveReload === undefined) {
      // Closed before the watcher began: live reload is off for good.
      if (state === 'closed') return fail(ctx, 404);
      return startNow().then(() => endpoint(ctx));
    }
    const respond = (plan: ResponsePlan) => writeResponse(ctx.res, withEndpointPolicy(ctx, plan));
    return services.liveReload.handle(ctx.req, ctx.res, respond) ? HANDLED : fail(ctx, 404);
  }

  let charsetNoted = false;
  /** Once per server: a page whose charset takes no ASCII tag goes out as is, and the terminal says why. */
  const noteIncompatible = (ctx: RequestContext, charset: string) => {
    if (charsetNoted) return;
    charsetNoted = true;
    let page = 'a page';
    try {
      // Percent-encoded: a file's name reaches the terminal as plain ASCII.
      if (ctx.target !== undefined) page = encodeURI(ctx.target.urlPath);
    } catch {}
    options.emit({
      type: 'warning',
      code: 'page-charset',
      from: 'live-reload',
      message:
        `${page} is in ${charset}, not UTF-8 or another ASCII-compatible charset, so it is sent ` +
        'without the live-reload script (reload it by hand); pages like it are sent the same way without another note',
    });
  };

  function inject(ctx: RequestContext): StageResult | Promise<StageResult> {
    const entity = ctx.entity;
    if (entity === undefined || !entity.contentType.startsWith('text/html')) return;
    if (ctx.status !== 200 && ctx.status < 400) return;
    const liveReload = services.liveReload;
    if (liveReload === undefined) return state === 'closed' ? undefined : startNow().then(() => inject(ctx));
    // A range addresses the file's own bytes; it is answered from the file, untouched.
    if (asksForRange(ctx) && ctx.status === 200) return;
    // Our own pages forbid every script; this one, from our origin, must run and reach the stream.
    const policy = ctx.headers['content-security-policy'];
    if (policy !== undefined) ctx.headers['content-security-policy'] = `${String(policy)}; script-src 'self'; connect-src 'self'`;
    // The script tag names the latest event, so the page's bytes, and its ETag, change with it.
    // Mounted at /static, the script is at /static/__serve-dir/client.js: each mount is a page of its own.
    const { prefix } = ctx.mount;
    const tag = prefix === '' ? liveReload.scriptTag : liveReload.scriptTag.replace('src="/', `src="${prefix.replaceAll('&', '&amp;')}/`);
    const etag = entity.etag === '' ? '' : etagForEncoding(entity.etag, `lr.${liveReload.lastEventId}${prefix}`);
    const body = entity.body;
    if (body !== undefined) {
      // Kept between requests (a big listing is megabytes to copy), until a change renames it.
      let injected = etag === '' ? undefined : services.variants.get(etag);
      if (injected === undefined) {
        const charset = module!.incompatibleCharset(body);
        if (charset !== undefined) return noteIncompatible(ctx, charset);
        injected = module!.injectScript(body, tag);
        if (etag !== '') services.variants.store(etag, injected);
      }
      // The page is now generated: no ranges, no sidecars.
      ctx.entity = { ...entity, body: injected, size: injected.length, etag, file: undefined };
      return;
    }
    const file = entity.file;
    if (file === undefined) return;
    // Too large to hold: streamed with the tag spliced in, its length known from the scan.
    const scans = pageScans!;
    let scanned = scans.done(file);
    if (scanned === undefined && ctx.method === 'HEAD') {
      // A HEAD sends no body: it needs to know whether the tag goes in (the charset), not where
      // (its length is the same anywhere), and does not wait for a scan of the whole page.
      scanned = module!.pageFileCharset(openPage, file.absolute).then(
        (charset): LiveReloadModule.PageScan => (charset === undefined ? { kind: 'insert', at: 0 } : { kind: 'incompatible', charset }),
        () => undefined,
      );
    }
    return (scanned ?? scans.scan(file)).then((scan) => {
      // Unreadable now: sent as is, and sending meets (and answers) the same error as without --watch.
      if (scan === undefined) return;
      if (scan.kind === 'incompatible') return noteIncompatible(ctx, scan.charset);
      const bytes = Buffer.from(tag, 'utf8');
      ctx.entity = { ...entity, size: entity.size + bytes.length, etag, insertion: { at: scan.at, bytes } };
    });
  }

  return {
    endpoint,
    inject,
    ready: starting.then((liveReload) => liveReload.ready),
    close: async () => {
      // Closed before it began: nothing to stop, and nothing will start.
      if (state === 'waiting') {
        state = 'closed';
        clearTimeout(timer);
        return;
      }
      const liveReload = await starting.catch(() => undefined);
      await liveReload?.close();
    },
  };
}

/** The event stream's path, repeated from the module as LIVERELOAD_PREFIX is (a test checks). */
export const EVENTS_PATH = `${LIVERELOAD_PREFIX}events`;

/**
 * The header policy for the live-reload module's answers, which it plans past the send
 * stage's baseHeaders: nosniff on all but a 304, `--cors` on the script (the event
 * stream gets none: only pages of this origin have any business with it, and the hub
 * refuses others), and the user's `-H` for the path. Fields the module set itself (the
 * script's Cache-Control) win over the user's of the same name.
 */
function withEndpointPolicy(ctx: RequestContext, plan: ResponsePlan): ResponsePlan {
  const { options, services } = ctx;
  const url = ctx.req.url ?? '';
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  const own = new Set<string>();
  for (let i = 0; i < plan.headers.length; i += 2) own.add(String(plan.headers[i]).toLowerCase());
  const added: HeaderList = [];
  const add = (name: string, value: string | number) => {
    if (own.has(name)) return;
    own.add(name);
    added.push(name, value);
  };
  if (plan.status !== 304) add('x-content-type-options', 'nosniff');
  if (options.cors && path !== EVENTS_PATH) for (const name in CORS_RESPONSE_HEADERS) add(name, CORS_RESPONSE_HEADERS[name] as string);
  for (const field of services.userHeaders?.forPath(path) ?? []) add(field.name.toLowerCase(), field.value);
  return added.length === 0 ? plan : { ...plan, headers: [...plan.headers, ...added] };
}

/**
 * Would a request for the changed `urlPath` be served, or, for a path just deleted, have been?
 * Decided by the server's own rules, not a copy of them: the path guard maps the path as a
 * browser would request it (percent-encoded), and the file cache looks it up as resolution does
 * (links leading out of the root, and what is neither a file nor a folder, are not served).
 */
export function wouldServe(services: Services, urlPath: string): boolean {
  const { options } = services;
  let target: string;
  try {
    target = urlPath.split('/').map(encodeURIComponent).join('/');
  } catch {
    return false; // a lone surrogate: no request can spell it
  }
  const mapped = mapRequestPath(target, options.root, options.dotfiles);
  // Refused (a backslash, a hidden name), or a request for it would name another path.
  if (!mapped.ok || mapped.path.urlPath !== urlPath) return false;
  let found: ReturnType<Services['files']['lookup']>;
  try {
    found = services.files.lookup(mapped.path.absolute);
  } catch {
    return true; // the system is busy (EMFILE): the name itself is fine
  }
  if (typeof found === 'object') return true;
  if (found === 'forbidden' || lstatSync(mapped.path.absolute, { throwIfNoEntry: false }) !== undefined) return false;
  // Gone, so pages that showed it should hear. But the watcher decodes a name that is not UTF-8
  // with U+FFFD in place of the bad bytes, a spelling under which no file is found: a request
  // for the real name is refused (400), and no page can have loaded it. (A real name with U+FFFD
  // in it goes untold only once deleted.)
  return !urlPath.includes('\uFFFD');
}
