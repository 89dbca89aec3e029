import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventHub } from '../../src/livereload/hub.js';
import { writeResponse } from '../../src/respond.js';
import { SseClient } from './sse-client.js';

let servers: http.Server[] = [];
let clients: SseClient[] = [];

afterEach(async () => {
  for (const client of clients) client.close();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  servers = [];
  clients = [];
});

async function serveHub(maxStreams = 10): Promise<{ hub: EventHub; url: string; host: string }> {
  const hub = new EventHub(maxStreams);
  const server = http.createServer((req, res) => hub.accept(req, res, (plan) => writeResponse(res, plan)));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { hub, host, url: `http://${host}/__serve-dir/events` };
}

async function connect(url: string, headers: http.OutgoingHttpHeaders = {}): Promise<SseClient> {
  const client = await SseClient.connect(url, headers);
  clients.push(client);
  return client;
}

describe('EventHub', () => {
  it('opens a stream that says hello with the server id, with headers that keep it flowing', async () => {
    const { hub, url } = await serveHub();
    const client = await connect(url);
    expect(client.status).toBe(200);
    expect(client.response.headers['content-type']).toBe('text/event-stream');
    expect(client.response.headers['cache-control']).toBe('no-cache, no-transform');
    expect(client.response.headers['x-accel-buffering']).toBe('no');
    const hello = await client.next();
    expect(hello.data).toEqual({ type: 'hello', server: hub.serverId });
    expect(hello.id).toBe(`${hub.serverId}.0`);
    expect(hub.size).toBe(1);
  });

  it('sends each batch to every open stream and counts them', async () => {
    const { hub, url } = await serveHub();
    const first = await connect(url);
    const second = await connect(url);
    await Promise.all([first.next(), second.next()]);
    expect(hub.broadcast(['/a b.css', '/é.html'])).toBe(2);
    for (const client of [first, second]) {
      const change = await client.next();
      expect(change.data).toEqual({ type: 'change', paths: ['/a b.css', '/é.html'] });
      expect(change.id).toBe(`${hub.serverId}.1`);
    }
  });

  describe('refuses streams to pages of another origin', () => {
    it.each([
      ['no Origin (same-origin GET)', 200, {}],
      ['Origin of this server', 200, { origin: 'http://HOST' }],
      ['Sec-Fetch-Site: same-origin', 200, { 'sec-fetch-site': 'same-origin' }],
      ['Sec-Fetch-Site: none (typed in the address bar)', 200, { 'sec-fetch-site': 'none' }],
      ['Origin seen by a tunnel (X-Forwarded-Host)', 200, { origin: 'https://dev.example', 'x-forwarded-host': 'dev.example' }],
      ['another site', 403, { origin: 'http://evil.example' }],
      ['another port of the same host', 403, { origin: 'http://127.0.0.1:1' }],
      ['another name for the same host', 403, { origin: 'http://localhost:PORT' }],
      ['an opaque origin', 403, { origin: 'null' }],
      ['a malformed Origin', 403, { origin: '::' }],
      ['Sec-Fetch-Site: cross-site', 403, { 'sec-fetch-site': 'cross-site' }],
      ['Sec-Fetch-Site: same-site', 403, { 'sec-fetch-site': 'same-site' }],
    ])('%s -> %i', async (_name, status, headers: Record<string, string>) => {
      const { host, url } = await serveHub();
      const port = host.split(':')[1]!;
      const resolved = Object.fromEntries(
        Object.entries(headers).map(([name, value]) => [name, value.replace('HOST', host).replace('PORT', port)]),
      );
      const client = await connect(url, resolved);
      expect(client.status).toBe(status);
    });
  });

  it('refuses streams beyond the cap with 503 and Retry-After, and frees a place when a page leaves', async () => {
    const { hub, url } = await serveHub(2);
    const first = await connect(url);
    await connect(url);
    const refused = await connect(url);
    expect(refused.status).toBe(503);
    expect(refused.response.headers['retry-after']).toBe('10');

    first.close();
    await vi.waitFor(() => expect(hub.size).toBe(1));
    expect((await connect(url)).status).toBe(200);
  });

  it('sends a reconnecting page the paths it missed, merged into one change', async () => {
    const { hub, url } = await serveHub();
    hub.broadcast(['/a.css']);
    hub.broadcast(['/b.html', '/a.css']);
    hub.broadcast(['/c.js']);

    const afterFirst = await connect(url, { 'last-event-id': `${hub.serverId}.1` });
    expect((await afterFirst.next()).data.type).toBe('hello');
    const missed = await afterFirst.next();
    expect(missed.data).toEqual({ type: 'change', paths: ['/b.html', '/a.css', '/c.js'] });
    expect(missed.id).toBe(`${hub.serverId}.3`);

    // A page back from the background passes the last id in the query instead.
    const fromQuery = await connect(`${url}?last=${hub.serverId}.2`);
    await fromQuery.next();
    expect((await fromQuery.next()).data).toEqual({ type: 'change', paths: ['/c.js'] });
  });

  it.each([
    ['up to date', (id: string) => `${id}.1`],
    ['from another server (it reloads on the new id in hello)', () => 'AnotherServer.1'],
    ['malformed', () => 'garbage'],
  ])('sends nothing more than hello to a page %s', async (_name, lastEventId) => {
    const { hub, url } = await serveHub();
    hub.broadcast(['/a.css']);
    const client = await connect(url, { 'last-event-id': lastEventId(hub.serverId) });
    expect((await client.next()).data.type).toBe('hello');
    hub.broadcast(['/next.html']);
    expect((await client.next()).data).toEqual({ type: 'change', paths: ['/next.html'] });
  });

  it('tells a page that missed more than it remembers to reload', async () => {
    const { hub, url } = await serveHub();
    for (let i = 0; i < 150; i++) hub.broadcast([`/page${i}.html`]);
    const client = await connect(url, { 'last-event-id': `${hub.serverId}.1` });
    await client.next();
    expect((await client.next()).data).toEqual({ type: 'reload' });
  });

  it('answers HEAD with the stream headers and no stream', async () => {
    const { hub, url } = await serveHub();
    const response = await fetch(url, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(await response.text()).toBe('');
    expect(hub.size).toBe(0);
  });

  it('answers other methods with 405 and Allow', async () => {
    const { url } = await serveHub();
    const response = await fetch(url, { method: 'POST' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });

  it('ends every stream on close, and drops later requests so that browsers retry', async () => {
    const { hub, url } = await serveHub();
    const client = await connect(url);
    await client.next();
    hub.close();
    await client.ended;
    await expect(SseClient.connect(url)).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it('sends a heartbeat comment every 30 s so that proxies keep quiet streams open', async () => {
    const { hub, url } = await serveHub();
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const client = await connect(url);
      await client.next();
      vi.advanceTimersByTime(29_999);
      // Anything written before this event has arrived once the event has.
      hub.broadcast(['/marker.html']);
      await client.next();
      expect(client.comments).toBe(0);
      vi.advanceTimersByTime(1);
      await client.waitForComments(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('gives each server its own id', () => {
    expect(new EventHub(1).serverId).not.toBe(new EventHub(1).serverId);
  });
});
