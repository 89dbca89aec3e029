// Hostile requests, written byte for byte over raw sockets: path tricks, open
// redirects, markup in names, DNS rebinding, method and framing abuse. Secrets
// sit outside the root and in dotfiles; no response may ever carry them, an
// absolute path or a stack trace, and after every case the server still serves.
// Every case runs over HTTP/1.1 and HTTPS (the same bytes inside TLS); those an
// HTTP/2 stream can carry run over h2 too. Request-line bytes, framing, CONNECT
// tunnels, Upgrade and the absolute form are HTTP/1's alone, and say so below.

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHead, parseResponses, rawRequest, type RawRequest, type SendOptions } from '../helpers/raw.js';
import { cleanup, onCleanup, tempDir, writeTree, type RawResponse } from '../helpers/server.js';
import { h2Exchange, h2Session, sendOver, serveOver, startCliOver, TRANSPORTS } from '../helpers/transport.js';
import { SseClient } from '../livereload/sse-client.js';

const SECRETS = {
  parent: `parent-canary-${randomUUID()}`,
  sibling: `sibling-canary-${randomUUID()}`,
  dotenv: `dotenv-canary-${randomUUID()}`,
  git: `git-canary-${randomUUID()}`,
  hidden: `hidden-canary-${randomUUID()}`,
};
/** A plain file anyone may fetch; it must never answer a request that was smuggled in. */
const SMUGGLED_TARGET = `smuggled-${randomUUID()}`;

let base: string; // holds the root, its `-secret` sibling and the parent's canary
let root: string;
let rebindRoot: string;

/** A small file whose `.gz` sidecar is a symlink out of the root. */
const PAGE_TEXT = 'a page with a precompressed sidecar that escapes';
/** Streamed from disk, and larger than the socket buffers can hold while a client does not read. */
const BIG_FILE = randomBytes(16 * 1024 * 1024);

const REDIRECT_FOLDERS = {
  'dir/inner.txt': 'inner',
  'evil.example/index.html': 'a folder named like a host',
  '%5Cevil/x': 'a folder whose name is an escape',
  'x\r\nSet-Cookie: a=1/x': 'a folder whose name holds CR LF',
};

beforeAll(async () => {
  base = await tempDir('serve-dir-hostile-');
  root = join(base, 'site');
  await writeTree(base, {
    'canary.txt': SECRETS.parent,
    'site-secret/canary.txt': SECRETS.sibling,
  });
  await writeTree(root, {
    'file.txt': 'plain file',
    'big.bin': BIG_FILE,
    ...REDIRECT_FOLDERS,
    '.env': SECRETS.dotenv,
    '.git/config': SECRETS.git,
    'dir/.secret': SECRETS.hidden,
    [`${SMUGGLED_TARGET}.txt`]: SMUGGLED_TARGET,
    'page.txt': PAGE_TEXT,
    'xss/<script src=data:,alert(1)>.html': 'x',
    'xss/<img src=x onerror=alert(2)>.txt': 'x',
    'xss/"><b>quote.txt': 'x',
    "xss/' onmouseover='alert(3)'.txt": 'x',
    'xss/&lt;b&gt;entity.txt': 'x',
    'xss/<svg onload=alert(4)>/inside.txt': 'x',
  });
  await symlink(join(base, 'site-secret', 'canary.txt'), join(root, 'escape-file.txt'));
  await symlink(join(base, 'site-secret'), join(root, 'escape-dir'));
  await symlink('..', join(root, 'escape-parent'));
  await symlink('../../canary.txt', join(root, 'dir', 'escape-relative.txt'));
  await symlink(join(base, 'site-secret', 'canary.txt'), join(root, 'page.txt.gz'));
  // The sidecar must look at least as new as its source to be chosen.
  const later = new Date(Date.now() + 60_000);
  await utimes(join(base, 'site-secret', 'canary.txt'), later, later);

  rebindRoot = await tempDir('serve-dir-rebind-');
  await writeTree(rebindRoot, { 'file.txt': 'plain file', ...REDIRECT_FOLDERS, '.hidden-notes': 'x', 'visible.txt': 'x' });
});
afterAll(cleanup);

/** No secret, no absolute path, no stack trace: in headers or body, in any response. */
function expectNothingLeaked(received: Buffer): void {
  const text = received.toString('latin1');
  for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
  expect(text).not.toContain(base);
  expect(text).not.toContain(rebindRoot);
  expect(text).not.toMatch(/\n\s+at \S|node:internal|\w+Error\b/);
}

const longSegment = (bytes: number) => '/' + 'a'.repeat(bytes);
/**
 * `count` segments of `length` bytes. 16 × 255 fits the guard's 4096 bytes, yet not PATH_MAX
 * once joined to the root (ENAMETOOLONG from the file system); 20 × 255 does not fit the guard.
 */
const longPath = (count: number, length: number) => Array.from({ length: count }, (_, i) => '/' + String(i % 10).repeat(length)).join('');

/** A target as a test name: JSON-quoted, long ones cut short with their length. */
const shown = (target: string) => (target.length > 80 ? `${JSON.stringify(target.slice(0, 40))}… (${target.length} bytes)` : JSON.stringify(target));

describe.each(TRANSPORTS)('over %s', (transport) => {
  /** HTTP/1 on its own or inside TLS: the cases written as bytes run on these. */
  const http1 = transport !== 'h2';
  let site: number; // loopback, defaults
  let watched: number; // loopback, --watch, --allowed-host dev.example
  let explicitLoopback: number; // --bind 127.0.0.1
  let wildcard: number; // --bind 0.0.0.0: no Host check
  let allowedAttacker: number; // loopback, --allowed-host attacker.example: redirects must still ignore Host

  beforeAll(async () => {
    site = (await serveOver(transport, root)).port;
    const watching = await serveOver(transport, rebindRoot, { watch: true, allowedHost: ['dev.example'] });
    await watching.handler.ready; // the watcher has scanned the tree: changes from now on are seen
    watched = watching.port;
    explicitLoopback = (await serveOver(transport, rebindRoot, { bind: '127.0.0.1' })).port;
    wildcard = (await serveOver(transport, rebindRoot, { bind: '0.0.0.0' })).port;
    allowedAttacker = (await serveOver(transport, root, { allowedHost: ['attacker.example'] })).port;
  });

  /**
   * Send a hostile request (or, over HTTP/1, raw bytes) and check what came back leaks
   * nothing; its responses, in order. Over h2 a stream reset before any response (the
   * HTTP/2 layer refusing a field it cannot carry) is no response: [].
   */
  async function hostile(port: number, request: RawRequest | string | Buffer, options: SendOptions = {}): Promise<RawResponse[]> {
    if (!http1) {
      if (typeof request === 'string' || Buffer.isBuffer(request)) throw new Error('raw HTTP/1 bytes: keep this case on http1 and https');
      const outcome = await h2Exchange(port, request, options);
      expect(outcome, 'the server neither answered nor reset the stream').not.toBe('timed out');
      if (outcome === 'timed out' || outcome.kind === 'reset') return [];
      expectNothingLeaked(Buffer.concat([Buffer.from(outcome.headBytes, 'latin1'), outcome.response.body]));
      return [outcome.response];
    }
    const bytes = typeof request === 'string' || Buffer.isBuffer(request) ? request : rawRequest(request);
    const exchange = await sendOver(transport, port, bytes, options);
    expect(exchange.timedOut, 'the server neither answered nor closed').toBe(false);
    expectNothingLeaked(exchange.bytes);
    return parseResponses(exchange.bytes);
  }

  /** The one response a request got. */
  async function only(port: number, request: RawRequest | string | Buffer): Promise<RawResponse> {
    const responses = await hostile(port, request);
    expect(responses).toHaveLength(1);
    return responses[0]!;
  }

  async function expectStillServing(port: number): Promise<void> {
    const response = await only(port, { target: '/file.txt' });
    expect(response.status).toBe(200);
    expect(response.text).toBe('plain file');
  }

  /** The status of the answer to `request`, read from its head only (the event stream never ends). */
  async function headStatus(port: number, request: RawRequest): Promise<number> {
    if (!http1) {
      const outcome = await h2Exchange(port, request, { headOnly: true });
      if (outcome === 'timed out' || outcome.kind === 'reset') throw new Error(`no response: ${JSON.stringify(outcome)}`);
      expectNothingLeaked(Buffer.concat([Buffer.from(outcome.headBytes, 'latin1'), outcome.response.body]));
      return outcome.response.status;
    }
    const exchange = await sendOver(transport, port, rawRequest(request), { headOnly: true });
    expectNothingLeaked(exchange.bytes);
    return parseHead(exchange.bytes).status;
  }

  describe('path safety: nothing outside the root, no hidden file', () => {
    // [target exactly as sent, status]
    const PATH_CASES: [string, number][] = [
      // `..` raw
      ['/../canary.txt', 400],
      ['/../site-secret/canary.txt', 400],
      ['/dir/../../canary.txt', 400],
      ['/./../canary.txt', 400],
      ['/..', 400],
      ['/../', 400],
      ['/dir/./../../site-secret/canary.txt', 400],
      // `..` and separators percent-encoded
      ['/%2e%2e/canary.txt', 400],
      ['/%2E%2e/site-secret/canary.txt', 400],
      ['/.%2e/canary.txt', 400],
      ['/%2e./canary.txt', 400],
      ['/..%2fcanary.txt', 400],
      ['/%2e%2e%2fsite-secret%2fcanary.txt', 400],
      ['/dir%2f..%2f..%2fcanary.txt', 400],
      ['/..%5ccanary.txt', 400],
      ['/%5c..%5c..%5csite-secret%5ccanary.txt', 400],
      // Double encoding is decoded once: `%2e%2e` is then a name that does not exist
      ['/%252e%252e/canary.txt', 404],
      ['/%252e%252e%252fcanary.txt', 404],
      ['/%25%32%65%25%32%65/canary.txt', 404],
      // Overlong UTF-8 for '.', '/' and '\' is invalid UTF-8
      ['/%c0%ae%c0%ae/canary.txt', 400],
      ['/%e0%80%ae%e0%80%ae/canary.txt', 400],
      ['/%f0%80%80%ae%f0%80%80%ae/canary.txt', 400],
      ['/%c0%af..%c0%afcanary.txt', 400],
      ['/..%c1%9ccanary.txt', 400],
      // Full-width and look-alike dots, slashes and backslashes are ordinary letters
      ['/%ef%bc%8e%ef%bc%8e/canary.txt', 404],
      ['/%ef%bc%8e%ef%bc%8e%ef%bc%8fcanary.txt', 404],
      ['/..%ef%bc%bccanary.txt', 404],
      ['/%e2%80%a4%e2%80%a4/canary.txt', 404],
      // Backslashes (Windows reads them as separators)
      ['/..\\canary.txt', 400],
      ['/dir\\..\\..\\canary.txt', 400],
      ['/\\..\\site-secret\\canary.txt', 400],
      // NUL, raw and encoded
      ['/file.txt\0', 400],
      ['/file.txt\0.html', 400],
      ['/file.txt%00', 400],
      ['/%00/../canary.txt', 400],
      // Very long names and paths: too long to exist, never a 500 (ENAMETOOLONG)
      [longSegment(255), 404],
      [longSegment(256), 404],
      ['/' + '%C3%A9'.repeat(128), 404],
      [longPath(16, 255), 404],
      [longPath(20, 255), 414],
      ['/a'.repeat(2100), 414],
      ['/a/..'.repeat(800) + '/file.txt', 200],
      // The sibling whose name extends the root's
      ['/site-secret/canary.txt', 404],
      ['//site-secret/canary.txt', 404],
      ['http://localhost/../site-secret/canary.txt', 400],
      // Symlinks whose real path leaves the root
      ['/escape-file.txt', 404],
      ['/escape-dir', 404],
      ['/escape-dir/', 404],
      ['/escape-dir/canary.txt', 404],
      ['/escape-parent/', 404],
      ['/escape-parent/canary.txt', 404],
      ['/escape-parent/site-secret/canary.txt', 404],
      ['/dir/escape-relative.txt', 404],
      // Dotfiles and dot-folders however spelled, with queries and fragments appended
      ['/.env', 404],
      ['/.env?', 404],
      ['/.env?x=1', 404],
      ['/.env#', 404],
      ['/.env#top', 404],
      ['/.env/', 404],
      ['/.env/.', 404],
      ['/./.env', 404],
      ['/%2eenv', 404],
      ['/%2Eenv?x', 404],
      ['/%2e%65%6e%76', 404],
      ['/dir/../.env', 404],
      ['/dir/%2e%2e/.env', 404],
      ['/.well-known/../.env', 404],
      ['http://localhost/.env', 404],
      ['/.git', 404],
      ['/.git/', 404],
      ['/.git/config', 404],
      ['/.git/./config', 404],
      ['//.git//config', 404],
      ['/.git/config?', 404],
      ['/.git/config#x', 404],
      ['/.git%2fconfig', 400],
      ['/dir/.secret', 404],
      ['/dir//.secret?download=1', 404],
    ];
    // HTTP/2's :path has no absolute form (RFC 9113 §8.3.1): those cases are HTTP/1's. And
    // HTTP/2 refuses a NUL in any field (§8.2.1): the stream is reset before a request exists.
    const pathCases = PATH_CASES.filter(([target]) => http1 || target.startsWith('/'));
    it.each(pathCases.map(([target, status]) => ({ target, status, shown: shown(target) })))('$shown → $status', async ({ target, status }) => {
      if (!http1 && target.includes('\0')) {
        expect(await hostile(site, { target })).toEqual([]);
      } else {
        const response = await only(site, { target });
        expect(response.status).toBe(status);
        expect(response.headers['location']).toBeUndefined();
      }
      await expectStillServing(site);
    });

    // Every way of asking for a secret, with every header that changes how a file is sent.
    const SECRET_TARGETS = ['/.env', '/.git/config', '/dir/.secret', '/escape-file.txt', '/escape-dir/canary.txt', '/escape-parent/canary.txt'];
    const VARIANTS: [string, Partial<RawRequest>][] = [
      ['HEAD', { method: 'HEAD' }],
      ['a range', { headers: [['Host', 'localhost'], ['Range', 'bytes=0-']] }],
      ['several ranges', { headers: [['Host', 'localhost'], ['Range', 'bytes=0-1,3-']] }],
      ['gzip', { headers: [['Host', 'localhost'], ['Accept-Encoding', 'gzip, br']] }],
      ['If-None-Match', { headers: [['Host', 'localhost'], ['If-None-Match', '*']] }],
      ['JSON', { headers: [['Host', 'localhost'], ['Accept', 'application/json']] }],
    ];
    it.each(SECRET_TARGETS.flatMap((target) => VARIANTS.map(([name, variant]) => [target, name, variant] as const)))(
      '%s with %s → 404',
      async (target, _name, variant) => {
        const response = await only(site, { target, ...variant });
        expect(response.status).toBe(404);
        await expectStillServing(site);
      },
    );

    it('a precompressed sidecar that is a symlink out of the root is never sent', async () => {
      const response = await only(site, { target: '/page.txt', headers: [['Host', 'localhost'], ['Accept-Encoding', 'gzip']] });
      expect(response.status).toBe(200);
      const body = response.headers['content-encoding'] === 'gzip' ? gunzipSync(response.body) : response.body;
      expect(body.toString()).toBe(PAGE_TEXT);
    });

    it('listings name neither hidden entries nor links that escape', async () => {
      for (const target of ['/', '/dir/']) {
        const response = await only(site, { target, headers: [['Host', 'localhost'], ['Accept', 'application/json']] });
        const names = (JSON.parse(response.text) as { entries: { name: string }[] }).entries.map((entry) => entry.name);
        expect(names.length).toBeGreaterThan(0);
        for (const name of names) expect(name).not.toMatch(/^\.|^escape-/);
      }
    });
  });

  describe('redirects stay on this server', () => {
    // [target, Location]: built from the mapped path only; the Host header never goes in.
    const cases: [string, string][] = [
      ['/dir', '/dir/'],
      ['//dir', '/dir/'],
      ['///dir', '/dir/'],
      ['/./dir', '/dir/'],
      ['/dir/../dir', '/dir/'],
      ['//evil.example', '/evil.example/'],
      ['///evil.example', '/evil.example/'],
      ['/.//evil.example', '/evil.example/'],
      ['/evil.example?next=//attacker.example', '/evil.example/?next=//attacker.example'],
      ['/dir?%0d%0aSet-Cookie:%20a=1', '/dir/?%0d%0aSet-Cookie:%20a=1'],
      ['/%255Cevil', '/%255Cevil/'],
      ['/x%0D%0ASet-Cookie:%20a=1', '/x%0D%0ASet-Cookie%3A%20a%3D1/'],
      ['http://attacker.example/dir', '/dir/'],
      ['http://attacker.example//evil.example', '/evil.example/'],
    ];
    // The absolute form is HTTP/1's (HTTP/2's :path is origin-form).
    it.each(cases.filter(([target]) => http1 || target.startsWith('/')).flatMap(([target, location]) => [
      ['allowed host', target, location, 'attacker.example'] as const,
      ['bound to 0.0.0.0', target, location, 'attacker.example:8000'] as const,
    ]))('(%s) %j → Location %j', async (server, target, location, host) => {
      const port = server === 'allowed host' ? allowedAttacker : wildcard;
      for (const method of ['GET', 'HEAD']) {
        const [response] = await hostile(port, { method, target, headers: [['Host', host]] });
        expect(response!.status).toBe(301);
        expect(response!.headers['location']).toBe(location);
        expect(response!.headers['location']).toMatch(/^\/(?![/\\])/);
        expect(response!.headers['set-cookie']).toBeUndefined();
        expect(response!.text).not.toContain('attacker');
      }
      await expectStillServing(port);
    });

    // [target]: each would be an off-site redirect if echoed; each is refused instead.
    it.each(['/%2fevil.example', '/%2f%2fevil.example', '/\\evil.example', '/%5cevil.example', '/%5C%5Cevil.example'])(
      '%j → 400, no Location',
      async (target) => {
        const response = await only(allowedAttacker, { target, headers: [['Host', 'attacker.example']] });
        expect(response.status).toBe(400);
        expect(response.headers['location']).toBeUndefined();
      },
    );

    // HTTP/1-only: bytes of a request line.
    if (http1) it('a CR LF pushed into the request line never becomes a header of ours', async () => {
      // Node reads the first line as a request without a version; whatever it answers, the
      // line after the CR LF is not a response header.
      const responses = await hostile(site, 'GET /dir?a\r\nSet-Cookie: injected=1 HTTP/1.1\r\nHost: localhost\r\n\r\n', { endAfterWrite: true });
      for (const response of responses) {
        expect(response.status).toBeLessThan(500);
        expect(response.headers['set-cookie']).toBeUndefined();
        expect(response.headers['location'] ?? '/').toMatch(/^\/(?![/\\])[^\r\n]*$/);
      }
    });
  });

  /** The text an HTML attribute value stands for (the entities an escaper may use). */
  function unescapeHtml(text: string): string {
    const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'" };
    return text.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (_, entity: string) => entities[entity]!);
  }

  describe('pages escape everything they echo', () => {
    /** Every tag in a page: its name and its attributes as written. */
    const tagsOf = (html: string) => [...html.matchAll(/<([a-z][a-z0-9-]*)([^>]*)>/gi)].map((match) => ({ name: match[1]!.toLowerCase(), attributes: match[2]! }));

    it.each([
      ['/xss/', 'the folder'],
      ['/xss/%3Csvg%20onload%3Dalert(4)%3E/', 'a folder named with markup (title, breadcrumbs)'],
      ['/xss/?sort=%3Cscript%3E&order=%22%3E%3Cimg%20src=x%3E', 'markup in the query'],
      ['/xss/?sort=<script>&order=<img>', 'raw markup in the query'],
    ])('the HTML listing of %s (%s) has only the tags of a plain listing, and no event handler', async (target) => {
      const plainTags = new Set(tagsOf((await only(site, { target: '/dir/' })).text).map((tag) => tag.name));
      const response = await only(site, { target });
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      for (const tag of tagsOf(response.text)) {
        expect(plainTags).toContain(tag.name);
        expect(tag.attributes).not.toMatch(/\son[a-z]+\s*=|javascript:/i);
      }
      // An entity in a name is shown as the characters typed, not decoded by the browser.
      expect(response.text).not.toContain('&lt;b&gt;entity');
    });

    it('every hostile name is still listed, as a link that leads back to it', async () => {
      const listing = await only(site, { target: '/xss/' });
      const hrefs = [...listing.text.matchAll(/href="\.\/([^"]+)"/g)].map((match) => unescapeHtml(match[1]!));
      expect(hrefs).toHaveLength(6);
      for (const href of hrefs.filter((entry) => !entry.endsWith('/'))) {
        const response = await only(site, { target: `/xss/${href}` });
        expect(response.status).toBe(200);
      }
    });

    it('the JSON listing is JSON with nosniff, the names exact', async () => {
      const response = await only(site, { target: '/xss/', headers: [['Host', 'localhost'], ['Accept', 'application/json']] });
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      const names = (JSON.parse(response.text) as { entries: { name: string }[] }).entries.map((entry) => entry.name);
      expect(names).toContain('<img src=x onerror=alert(2)>.txt');
    });

    // [method, target]: error pages say only their status, whatever was asked.
    it.each([
      ['GET', '/<script>alert(1)</script>'],
      ['GET', '/%3Csvg%20onload%3Dalert(1)%3E'],
      ['GET', '/%3Cscript%3E%2F'],
      ['GET', '/xss/missing%22%3E%3Cimg%20src=x%3E?q=<script>'],
      ['TRACE', '/<script>alert(1)</script>'],
      ['DELETE', '/%3Csvg%20onload%3Dalert(1)%3E'],
    ])('%s %j: the error page echoes nothing', async (method, target) => {
      const response = await only(site, { method, target });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.text).not.toMatch(/script|svg|alert|onload|img/i);
    });
  });

  describe('DNS rebinding: on loopback, only loopback and allowed Host names', () => {
    const TARGETS = ['/file.txt', '/', '/__serve-dir/events', '/__serve-dir/client.js'];
    const HOSTS: [host: string, status: 200 | 403][] = [
      ['evil.example', 403],
      ['evil.example:PORT', 403],
      ['EVIL.EXAMPLE', 403],
      ['evil.example.', 403],
      ['127.0.0.1.evil.example', 403],
      ['127.0.0.1.nip.io:PORT', 403],
      ['localhost.evil.example', 403],
      ['localhost.evil.example:PORT', 403],
      ['0.0.0.0:PORT', 403],
      ['192.168.1.10:PORT', 403],
      ['', 403],
      ['localhost', 200],
      ['LOCALHOST:PORT', 200],
      ['localhost.:PORT', 200],
      ['foo.localhost', 200],
      ['foo.localhost:PORT', 200],
      ['127.0.0.1:PORT', 200],
      ['127.1.2.3', 200],
      ['[::1]:PORT', 200],
      ['[::1]', 200],
      ['dev.example', 200],
      ['DEV.EXAMPLE:PORT', 200],
    ];

    it.each(HOSTS.flatMap(([host, status]) => TARGETS.map((target) => [host, target, status] as const)))(
      'Host %j, %s → %i',
      async (host, target, status) => {
        const hostHeader = host.replace('PORT', String(watched));
        // Over h2 the name is the :authority, as browsers send it (RFC 9113 §8.3.1). An empty
        // one is malformed there, and the HTTP/2 layer resets the stream before any request.
        if (!http1 && hostHeader === '') {
          expect(await hostile(watched, { target, headers: [['Host', hostHeader]] })).toEqual([]);
        } else {
          expect(await headStatus(watched, { target, headers: [['Host', hostHeader]] })).toBe(status);
        }
        await expectStillServing(watched);
      },
    );

    it.each([
      ['bound to 127.0.0.1', () => explicitLoopback, 403],
      ['bound to 0.0.0.0', () => wildcard, 200],
    ])('%s: a foreign Host → %i', async (_name, port, status) => {
      for (const host of ['evil.example', `evil.example:${port()}`, '127.0.0.1.evil.example']) {
        for (const target of ['/file.txt', '/']) {
          const response = await only(port(), { target, headers: [['Host', host]] });
          expect(response.status).toBe(status);
        }
      }
    });

    it('--allowed-host on the command line admits that name and no other', async () => {
      const cli = await startCliOver(transport, [rebindRoot, '--port', '0', '--quiet', '--allowed-host', 'dev.example', '--allowed-host', 'Other.Example']);
      const status = async (host: string) => (await only(cli.port, { target: '/file.txt', headers: [['Host', host]] })).status;
      expect(await status('dev.example')).toBe(200);
      expect(await status(`other.example:${cli.port}`)).toBe(200);
      expect(await status('evil.example')).toBe(403);
      expect(await status('dev.example.evil.example')).toBe(403);
    });
  });

  describe('live reload', () => {
    it('the event stream never names a hidden file', async () => {
      const stream = await SseClient.over(transport, watched, '/__serve-dir/events');
      onCleanup(() => stream.close());
      let received = '';
      stream.response.on('data', (chunk: string) => (received += chunk));
      expect((await stream.next()).data.type).toBe('hello');
      // The hidden file changes first: any batch naming it arrives before, or with, the visible one's.
      await writeFile(join(rebindRoot, '.hidden-notes'), 'changed');
      await writeFile(join(rebindRoot, 'visible.txt'), 'changed');
      for (;;) {
        const event = await stream.next();
        if ((event.data.paths as string[] | undefined)?.includes('/visible.txt')) break;
      }
      expect(received).toContain('/visible.txt');
      expect(received).not.toContain('hidden-notes');
    });
  });

  describe('method hygiene', () => {
    it('TRACE is refused and echoes no request header', async () => {
      const response = await only(site, {
        method: 'TRACE',
        target: '/file.txt',
        headers: [['Host', 'localhost'], ['Cookie', 'session=trace-canary'], ['X-Echo', 'trace-canary'], ['Max-Forwards', '0']],
      });
      expect(response.status).toBe(405);
      expect(response.headers['content-type']).not.toMatch(/message\/http/);
      expect(JSON.stringify(response.headers) + response.text).not.toContain('trace-canary');
    });

    // HTTP/1-only: a CONNECT request line and bytes after it (h2's CONNECT is below).
    // [request line and head]: whatever follows a CONNECT is never relayed nor parsed as a request.
    if (http1) it.each([
      'CONNECT 127.0.0.1:PORT HTTP/1.1\r\nHost: 127.0.0.1:PORT\r\n\r\n',
      'CONNECT localhost:22 HTTP/1.1\r\nHost: localhost:22\r\n\r\n',
      'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n',
    ])('%j → 405, and the bytes after it go nowhere', async (head) => {
      const tunnelled = `GET /${SMUGGLED_TARGET}.txt HTTP/1.1\r\nHost: localhost\r\n\r\n`;
      const responses = await hostile(site, head.replaceAll('PORT', String(site)) + tunnelled);
      expect(responses.map((response) => response.status)).toEqual([405]);
      expect(responses[0]!.text).not.toContain(SMUGGLED_TARGET);
      await expectStillServing(site);
    });

    // HTTP/2's CONNECT names only an authority (RFC 9113 §8.5); node:http2 hands it to the
    // server's 'connect' listener with a response, which must be a plain 405 on the stream.
    if (!http1) it('CONNECT on an h2 stream → 405, and the session serves on', async () => {
      const answer = await new Promise<{ status: number; allow: unknown; body: string }>((resolve, reject) => {
        const stream = h2Session(site).request({ ':method': 'CONNECT', ':authority': 'evil.example:443' });
        let body = '';
        let head: Record<string, unknown> = {};
        stream.on('response', (received) => (head = received));
        stream.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        stream.on('error', reject);
        stream.on('close', () => resolve({ status: Number(head[':status']), allow: head['allow'], body }));
      });
      expect(answer).toEqual({ status: 405, allow: 'GET, HEAD, OPTIONS', body: '' });
      await expectStillServing(site);
    });

    // HTTP/1-only: HTTP/2 has no Upgrade (RFC 9113 §8.6).
    if (http1) it('an Upgrade request is served as plain HTTP, never switched', async () => {
      const request = rawRequest({
        target: '/file.txt',
        headers: [['Host', 'localhost'], ['Connection', 'Upgrade'], ['Upgrade', 'websocket'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='], ['Sec-WebSocket-Version', '13']],
        close: false,
      });
      const exchange = await sendOver(transport, site, request, { headOnly: true });
      expect(parseHead(exchange.bytes).status).toBe(200);
    });
  });

  // HTTP/1-only: message framing (HTTP/2 frames every message alike).
  if (http1) describe('request smuggling: ambiguous framing is refused before any file is touched', () => {
    const smuggled = `GET /${SMUGGLED_TARGET}.txt HTTP/1.1\r\nHost: localhost\r\n\r\n`;
    // [what, head lines after the request line, body]: each must be one 400 and nothing else.
    it.each([
      ['Content-Length with Transfer-Encoding', ['Host: localhost', `Content-Length: ${5 + smuggled.length}`, 'Transfer-Encoding: chunked'], `0\r\n\r\n${smuggled}`],
      ['Transfer-Encoding with Content-Length', ['Host: localhost', 'Transfer-Encoding: chunked', 'Content-Length: 5'], `0\r\n\r\n${smuggled}`],
      ['two different Content-Lengths', ['Host: localhost', 'Content-Length: 0', `Content-Length: ${smuggled.length}`], smuggled],
      ['two equal Content-Lengths', ['Host: localhost', 'Content-Length: 0', 'Content-Length: 0'], smuggled],
      ['a list of Content-Lengths', ['Host: localhost', `Content-Length: 0, ${smuggled.length}`], smuggled],
      ['a signed Content-Length', ['Host: localhost', `Content-Length: +${smuggled.length}`], smuggled],
      ['two Host lines', ['Host: localhost', 'Host: evil.example'], smuggled],
      ['the same Host twice', ['Host: localhost', 'Host: localhost'], smuggled],
      ['Transfer-Encoding: chunked, identity', ['Host: localhost', 'Transfer-Encoding: chunked, identity'], `0\r\n\r\n${smuggled}`],
      ['Transfer-Encoding: identity', ['Host: localhost', 'Transfer-Encoding: identity'], smuggled],
      ['two Transfer-Encoding lines', ['Host: localhost', 'Transfer-Encoding: chunked', 'Transfer-Encoding: identity'], `0\r\n\r\n${smuggled}`],
      ['an unknown coding', ['Host: localhost', 'Transfer-Encoding: xchunked'], `0\r\n\r\n${smuggled}`],
      ['obs-fold in Transfer-Encoding', ['Host: localhost', 'Transfer-Encoding:', ' chunked'], `0\r\n\r\n${smuggled}`],
      ['obs-fold in any header', ['Host: localhost', 'X-Folded: a', ' b'], ''],
      ['a space before the colon', ['Host: localhost', 'Transfer-Encoding : chunked'], `0\r\n\r\n${smuggled}`],
      ['a bare LF between headers', ['Host: localhost\nTransfer-Encoding: chunked'], `0\r\n\r\n${smuggled}`],
      ['a Host that is not a host', ['Host: localhost/evil.example'], smuggled],
      ['a Host with a user part', ['Host: user@localhost'], smuggled],
      ['a Host with a space', ['Host: local host'], smuggled],
    ])('%s → 400 only', async (_what, lines, body) => {
      const bytes = `GET /file.txt HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
      const responses = await hostile(site, bytes);
      expect(responses.map((response) => response.status)).toEqual([400]);
      expect(responses[0]!.text).not.toContain(SMUGGLED_TARGET);
      await expectStillServing(site);
    });

    // A malformed body after a well-framed head: the request was already taken, but
    // what follows must never be read as a second request.
    it.each([
      ['a chunk longer than its size', 'Transfer-Encoding: chunked', `2\r\nxxx\r\n0\r\n\r\n${smuggled}`],
      ['a bad chunk size', 'Transfer-Encoding: chunked', `zz\r\n\r\n${smuggled}`],
      ['a chunk size overflow', 'Transfer-Encoding: chunked', `ffffffffffffffffff\r\n${smuggled}`],
    ])('%s: the smuggled request is never answered', async (_what, framing, body) => {
      const responses = await hostile(site, `GET /file.txt HTTP/1.1\r\nHost: localhost\r\n${framing}\r\n\r\n${body}`);
      expect(responses.length).toBeGreaterThan(0);
      for (const response of responses) expect(response.text).not.toContain(SMUGGLED_TARGET);
      expect(responses.filter((response) => response.status === 200).length).toBeLessThanOrEqual(1);
      await expectStillServing(site);
    });

    // On a plain socket: the test pauses and resumes the TCP stream itself.
    if (transport === 'http1') it('a body that turns malformed while a large file streams cuts that response; no 400 is spliced into it', async () => {
      const received = await new Promise<Buffer>((resolve) => {
        const socket = connect({ port: site, host: '127.0.0.1' });
        const chunks: Buffer[] = [];
        socket.on('error', () => {});
        socket.on('close', () => resolve(Buffer.concat(chunks)));
        socket.once('data', (chunk: Buffer) => {
          // The response has begun, and stalls while we do not read: now break the
          // request body's framing, then read what comes.
          chunks.push(chunk);
          socket.pause();
          socket.on('data', (more: Buffer) => chunks.push(more));
          socket.write('2\r\nxxx', () => setImmediate(() => socket.resume()));
        });
        socket.write('GET /big.bin HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n');
      });
      const head = parseHead(received);
      expect(head.status).toBe(200);
      expect(Number(head.headers['content-length'])).toBe(BIG_FILE.length);
      const body = received.subarray(head.bodyStart, head.bodyStart + BIG_FILE.length);
      expect(body.equals(BIG_FILE.subarray(0, body.length))).toBe(true);
      // Cut short, or complete and then followed by nothing but whole responses of their own.
      const after = received.subarray(head.bodyStart + BIG_FILE.length);
      if (after.length > 0) expect(parseResponses(after).map((response) => response.status)).toEqual([400]);
      await expectStillServing(site);
    });

    it('a GET body of the declared length is read and dropped, never parsed as a request', async () => {
      const responses = await hostile(site, `GET /file.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${smuggled.length}\r\nConnection: close\r\n\r\n${smuggled}`);
      expect(responses.map((response) => response.status)).toEqual([200]);
      expect(responses[0]!.text).toBe('plain file');
    });
  });

  // HTTP/1-only: the request line's target forms (HTTP/2's :path is origin-form).
  if (http1) describe('request targets', () => {
    // [target, status, body]: the absolute form is served by its path; malformed targets are 400s.
    it.each([
      ['http://localhost/file.txt', 200, 'plain file'],
      ['HTTP://LOCALHOST/file.txt', 200, 'plain file'],
      ['https://localhost/file.txt', 200, 'plain file'],
      ['http://[::1]/file.txt', 200, 'plain file'],
      ['http://localhost:1/file.txt?x=1', 200, 'plain file'],
      ['http://localhost/%2e%2e/canary.txt', 400, undefined],
      ['http://localhost/../canary.txt', 400, undefined],
      ['http://[::1', 400, undefined],
      ['http://[::1/file.txt', 400, undefined],
      ['http://[::1]:99999/file.txt', 400, undefined],
      ['http://localhost:port/file.txt', 400, undefined],
      ['http:///file.txt', 400, undefined],
      ['http:/file.txt', 400, undefined],
      ['ftp://localhost/file.txt', 400, undefined],
      ['file:///etc/passwd', 400, undefined],
      ['*', 400, undefined],
      ['x', 400, undefined],
      ['file.txt', 400, undefined],
      ['../canary.txt', 400, undefined],
      ['%2e%2e/canary.txt', 400, undefined],
      ['\\..\\canary.txt', 400, undefined],
      ['localhost:80', 400, undefined],
    ])('GET %j → %i', async (target, status, body) => {
      const response = await only(site, { target });
      expect(response.status).toBe(status);
      if (body !== undefined) expect(response.text).toBe(body);
      await expectStillServing(site);
    });

    it('GET http://[::1 with nothing else on the line, as in the known crash, is a 400', async () => {
      const responses = await hostile(site, 'GET http://[::1 HTTP/1.1\r\nHost: localhost\r\n\r\n', { endAfterWrite: true });
      expect(responses.map((response) => response.status)).toEqual([400]);
      await expectStillServing(site);
    });

    it('a request line with no version, or a version from the future, is answered or refused, never a 5xx', async () => {
      for (const line of ['GET /file.txt', 'GET /file.txt HTTP/1.2', 'GET /file.txt HTTP/3.0', 'GET /file.txt FTP/1.1', 'PRI * HTTP/2.0']) {
        const responses = await hostile(site, `${line}\r\nHost: localhost\r\n\r\n`, { endAfterWrite: true });
        for (const response of responses) expect(response.status).toBeLessThan(500);
      }
      await expectStillServing(site);
    });
  });

  describe('a folder made after the server started is no way around these rules', () => {
    it('a new dot-folder is hidden and a new escaping link is not followed', async () => {
      // Names of this transport's own: the folder is shared.
      await mkdir(join(root, `.new-secret-${transport}`));
      await writeTree(root, { [`.new-secret-${transport}/key`]: SECRETS.hidden });
      await symlink(join(base, 'canary.txt'), join(root, `new-escape-${transport}.txt`));
      for (const target of [`/.new-secret-${transport}/key`, `/.new-secret-${transport}/`, `/new-escape-${transport}.txt`]) {
        expect((await only(site, { target })).status).toBe(404);
      }
    });
  });
});
