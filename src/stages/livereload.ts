import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { asksForRange, HANDLED, type RequestContext, type Services, type Stage, type StageResult } from '../context.js';
import { etagForEncoding } from '../http/etag.js';
import type * as LiveReloadModule from '../livereload/index.js';
import { fail } from '../respond.js';

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
    });
    // Forget what we knew about changed files before any page is told to reload.
    liveReload.onChange((urlPaths) => {
      for (const urlPath of urlPaths) services.files.invalidate(resolve(options.root, `.${urlPath}`));
    });
    module = loaded;
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
    return services.liveReload.handle(ctx.req, ctx.res) ? HANDLED : fail(ctx, 404);
  }

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
    const etag = entity.etag === '' ? '' : etagForEncoding(entity.etag, `lr.${liveReload.lastEventId}`);
    const withScript = (body: Buffer) => {
      // The page is now generated: no ranges, no sidecars.
      ctx.entity = { ...entity, body, size: body.length, etag, file: undefined };
    };
    // Kept between requests (a big listing is megabytes to copy), until a change renames it.
    const injected = etag === '' ? undefined : services.variants.get(etag);
    if (injected !== undefined) return withScript(injected);
    const addScript = (html: Buffer) => {
      const body = module!.injectScript(html, liveReload.scriptTag);
      if (etag !== '') services.variants.store(etag, body);
      withScript(body);
    };
    if (entity.body !== undefined) return addScript(entity.body);
    return readFile(entity.file!.absolute).then(addScript);
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
