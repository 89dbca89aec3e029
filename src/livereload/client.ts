// The browser side of live reload, served as a plain script (ES2018, no dependencies) and
// loaded by the tag injected into every HTML page.
//
// - Listens to the event stream (see hub.ts for the messages) with EventSource, which
//   reconnects by itself; a "hello" from a different server means it restarted: reload once.
// - A batch of stylesheets only: each matching <link rel=stylesheet> is replaced by a copy with
//   a cache-busting query parameter, inserted after it; the old one is removed once the new one
//   has loaded, so the page never shows unstyled and keeps its state and scroll position. If a
//   changed stylesheet is not linked from the page (e.g. it is @imported), reload.
// - Anything else: reload.
// - A page in the background closes its stream (browsers allow only six connections per host
//   over HTTP/1.1, and a stream held by every open tab would soon stall the site) and reopens it
//   when shown again, passing the last event it saw so that the server sends what it missed.
//
// State for debugging: window.__serveDir.

/** The client script for an event stream at `eventsUrl` (a path on the same origin). */
export function buildClientScript(eventsUrl: string): string {
  return String.raw`(() => {
  'use strict';
  if (window.__serveDir) return;
  // Beside the script, wherever the app mounted us (/static/__serve-dir/events).
  const EVENTS_URL = document.currentScript ? new URL(${JSON.stringify(eventsUrl.slice(eventsUrl.lastIndexOf('/') + 1))}, document.currentScript.src).pathname : ${JSON.stringify(eventsUrl)};
  const CACHE_BUST_PARAM = 'serve-dir';
  const state = { server: null, lastEventId: '', source: null, updates: 0 };
  window.__serveDir = state;
  // The server names the last event this page's HTML already reflects: changes
  // after it are sent on connect, and a different server means a restart.
  const since = document.currentScript && document.currentScript.dataset.since;
  if (since && since.lastIndexOf('.') > 0) {
    state.lastEventId = since;
    state.server = since.slice(0, since.lastIndexOf('.'));
  }
  const debug = (...args) => console.debug('[serve-dir]', ...args);
  const describe = (paths) => paths[0] + (paths.length > 1 ? ' (+' + (paths.length - 1) + ' more)' : '');

  let reloading = false;
  const reload = (reason) => {
    if (reloading) return;
    reloading = true;
    debug('reloading:', reason);
    location.reload();
  };

  const decodePath = (path) => {
    try {
      return decodeURIComponent(path);
    } catch (error) {
      return path;
    }
  };

  // The stylesheet links that match each changed path, among those not already being replaced.
  const retiring = new WeakSet();
  const stylesheetLinks = (paths) => {
    const matches = new Map();
    for (const link of document.querySelectorAll('link[rel~="stylesheet" i][href]')) {
      if (retiring.has(link)) continue;
      const url = new URL(link.href, location.href);
      const path = decodePath(url.pathname);
      if (url.origin !== location.origin || !paths.includes(path)) continue;
      if (!matches.has(path)) matches.set(path, []);
      matches.get(path).push(link);
    }
    return matches;
  };

  // The same URL with our parameter set to a new value; other parameters are kept as they are.
  const withCacheBust = (href) => {
    const url = new URL(href);
    const params = url.search.slice(1).split('&')
      .filter((param) => param !== '' && param.split('=')[0] !== CACHE_BUST_PARAM);
    params.push(CACHE_BUST_PARAM + '=' + Date.now().toString(36) + '.' + ++state.updates);
    url.search = params.join('&');
    return url.href;
  };

  // Each replacement link -> the link it replaces (itself perhaps still waiting for its own).
  const replaces = new WeakMap();
  const replaceStylesheet = (link) => {
    const replacement = link.cloneNode(false);
    replacement.href = withCacheBust(link.href);
    replaces.set(replacement, link);
    retiring.add(link);
    const removeReplaced = () => {
      for (let old = replaces.get(replacement); old; old = replaces.get(old)) old.remove();
    };
    replacement.addEventListener('load', removeReplaced, { once: true });
    replacement.addEventListener('error', removeReplaced, { once: true });
    link.after(replacement);
  };

  const applyChange = (paths) => {
    if (paths.length > 0 && paths.every((path) => /\.css$/i.test(path))) {
      const links = stylesheetLinks(paths);
      if (links.size === paths.length) {
        links.forEach((matching) => matching.forEach(replaceStylesheet));
        debug('stylesheet updated:', describe(paths));
        return;
      }
    }
    reload(describe(paths) + ' changed');
  };

  const onMessage = (event) => {
    if (event.lastEventId) state.lastEventId = event.lastEventId;
    const message = JSON.parse(event.data);
    if (message.type === 'hello') {
      if (state.server === null) debug('live reload is on');
      else if (state.server !== message.server) reload('the server restarted');
      state.server = message.server;
    } else if (message.type === 'change') {
      applyChange(message.paths);
    } else if (message.type === 'reload') {
      reload('missed changes while away');
    }
  };

  const connect = () => {
    const query = state.lastEventId ? '?last=' + encodeURIComponent(state.lastEventId) : '';
    const source = new EventSource(EVENTS_URL + query);
    source.onmessage = onMessage;
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) debug('live reload is off: the server refused the event stream');
    };
    state.source = source;
  };

  const disconnect = () => {
    if (state.source) state.source.close();
    state.source = null;
  };

  const followVisibility = () => {
    if (document.hidden) disconnect();
    else if (!state.source) connect();
  };
  document.addEventListener('visibilitychange', followVisibility);
  window.addEventListener('pageshow', followVisibility);
  window.addEventListener('pagehide', disconnect);
  followVisibility();
})();
`;
}
