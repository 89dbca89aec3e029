/**
 * The CLI over TLS: --tls-cert/--tls-key, --https with a certificate kept in
 * the cache folder, --no-http2, startup errors, and live reload over HTTP/2.
 */
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import { createPrivateKey } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificate } from '../../src/tls/certificate.js';
import { cleanup, onCleanup, runCli, spawnCli, tempDir, writeTree } from '../helpers/server.js';

const { cert, key } = generateCertificate({ names: ['localhost', '127.0.0.1', '::1'] });
const other = generateCertificate({ names: ['localhost'] });
let root: string;
let certFile: string;
let keyFile: string;
let otherKeyFile: string;

beforeAll(async () => {
  root = await tempDir();
  await writeTree(root, { 'index.html': '<!doctype html><title>t</title><body><p>hi</p></body>', 'a.txt': 'abc' });
  const dir = await tempDir();
  certFile = join(dir, 'cert.pem');
  keyFile = join(dir, 'key.pem');
  otherKeyFile = join(dir, 'other-key.pem');
  await writeFile(certFile, cert);
  await writeFile(keyFile, key);
  await writeFile(otherKeyFile, other.key);
});
afterAll(cleanup);

async function startHttps(args: string[], env: Record<string, string> = {}) {
  const cli = spawnCli([root, '--port', '0', ...args], { env });
  const [, url, port] = await cli.waitForStdout(/(https:\/\/localhost:(\d+))/);
  return { cli, url: url!, port: Number(port) };
}

function h2Session(port: number, ca: string): ClientHttp2Session {
  const session = connect(`https://localhost:${port}`, { ca });
  onCleanup(() => void session.destroy());
  return session;
}

function h2Get(session: ClientHttp2Session, path: string): Promise<{ headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path });
    let body = '';
    let headers: IncomingHttpHeaders = {};
    stream.on('response', (h) => (headers = h));
    stream.setEncoding('utf8').on('data', (c: string) => (body += c));
    stream.on('end', () => resolve({ headers, body }));
    stream.on('error', reject);
  });
}

function servedFingerprint(port: number, ca: string): Promise<{ fingerprint: string; alpn: string | false }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: 'localhost', port, ca, ALPNProtocols: ['h2', 'http/1.1'] }, () => {
      resolve({ fingerprint: socket.getPeerCertificate().fingerprint256, alpn: socket.alpnProtocol ?? false });
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('serve-dir --tls-cert --tls-key', () => {
  it('shows https:// URLs and serves over HTTP/2; --no-http2 negotiates http/1.1', async () => {
    const { port } = await startHttps(['--tls-cert', certFile, '--tls-key', keyFile]);
    const session = h2Session(port, cert);
    const res = await h2Get(session, '/a.txt');
    expect(session.alpnProtocol).toBe('h2');
    expect([res.headers[':status'], res.body]).toEqual([200, 'abc']);

    const plain = await startHttps(['--tls-cert', certFile, '--tls-key', keyFile, '--no-http2']);
    expect((await servedFingerprint(plain.port, cert)).alpn).toBe('http/1.1');
  });

  it('a key that does not match the certificate is one line and exit 1', async () => {
    const { code, stderr } = await runCli([root, '--port', '0', '--tls-cert', certFile, '--tls-key', otherKeyFile]);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a wrong password for an encrypted key is one line and exit 1', async () => {
    const dir = await tempDir();
    const encrypted = createPrivateKey(key).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'right' });
    await writeFile(join(dir, 'enc.pem'), encrypted);
    await writeFile(join(dir, 'pw'), 'wrong\n');
    const { code, stderr } = await runCli([root, '--port', '0', '--tls-cert', certFile, '--tls-key', join(dir, 'enc.pem'), '--tls-password-file', join(dir, 'pw')]);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/password/i);
  });

  it('a missing key file is one line and exit 1', async () => {
    const { code, stderr } = await runCli([root, '--port', '0', '--tls-cert', certFile, '--tls-key', join(root, 'none.pem')]);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('serve-dir --https', () => {
  it('makes a certificate on the first start, says how to trust it, and serves the same one on the next', async () => {
    const cache = await tempDir();
    const first = await startHttps(['--https'], { XDG_CACHE_HOME: cache });
    const { readFile } = await import('node:fs/promises');
    const made = await readFile(join(cache, 'serve-dir', 'certificate.pem'), 'utf8');
    const a = await servedFingerprint(first.port, made);
    expect(first.cli.stdout()).toMatch(/to trust it: /);
    first.cli.child.kill('SIGTERM');
    await first.cli.exited;

    const second = await startHttps(['--https'], { XDG_CACHE_HOME: cache });
    const b = await servedFingerprint(second.port, made);
    expect(b.fingerprint).toBe(a.fingerprint);
    expect(second.cli.stdout()).not.toMatch(/to trust it: /);
  });
});

describe('serve-dir --watch over HTTP/2', () => {
  it('injects the script and streams a change event on h2', async () => {
    const dir = await tempDir();
    await writeTree(dir, { 'index.html': '<!doctype html><title>t</title><body><p>hi</p></body>' });
    const cli = spawnCli([dir, '--port', '0', '--watch', '--tls-cert', certFile, '--tls-key', keyFile]);
    const [, port] = await cli.waitForStdout(/https:\/\/localhost:(\d+)/);
    const session = h2Session(Number(port), cert);
    const page = await h2Get(session, '/');
    expect(page.body).toContain('/__serve-dir/');

    const events = await new Promise<{ headers: IncomingHttpHeaders; changed: Promise<string> }>((resolve, reject) => {
      const stream = session.request({ ':path': '/__serve-dir/events', accept: 'text/event-stream' });
      let text = '';
      const changed = new Promise<string>((done) => {
        stream.setEncoding('utf8').on('data', (c: string) => {
          text += c;
          if (text.includes('"type":"change"')) done(text);
        });
      });
      stream.on('response', (headers) => resolve({ headers, changed }));
      stream.on('error', reject);
    });
    expect(events.headers[':status']).toBe(200);
    expect(String(events.headers['content-type'])).toMatch(/^text\/event-stream/);
    // The CLI says when its watcher has scanned the tree: an edit from then on is seen.
    await cli.waitForStdout(/live reload: watching for changes/);
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>t</title><body><p>edited</p></body>');
    expect(await events.changed).toBeTruthy();
  });
});
