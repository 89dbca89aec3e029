/**
 * serve-dir as a library:
 *
 *   import { createHandler, startServer } from 'serve-dir';
 *   http.createServer(createHandler({ directory: 'public' })).listen(8080);
 *   app.use(createHandler({ directory: 'public' }));   // Express: 404s fall through to next()
 *   const { urls, close } = await startServer({ directory: 'public', port: 0 });
 */
export { createHandler, type Handler, type NextFunction } from './handler.js';
export { startServer, type RunningServer } from './server.js';
export { UsageError, type Options, type ResolvedOptions } from './options.js';
export type { ProxyRoute } from './proxy/route.js';
export type {
  ChangeEvent,
  ErrorEvent,
  ListeningEvent,
  RequestEvent,
  ServerEvent,
  WarningCode,
  WarningEvent,
  WatchingEvent,
} from './events.js';
export type { ScopedHeadersConfig } from './http/header-rules.js';
