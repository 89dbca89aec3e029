/**
 * The trust command printed for Linux, run as printed, then a real Chromium
 * loading a page over HTTPS with the generated certificate. Needs Debian's
 * chromium and certutil (libnss3-tools); skipped with a message without them.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificate } from '../../src/tls/certificate.js';
import { trustCommand } from '../../src/tls/trust.js';
import { CHROMIUM_PATH, hasChromium } from '../browser/browser.js';

const hasCertutil = (() => {
  try {
    execFileSync('certutil', ['-H'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // certutil -H prints its help and exits non-zero; only a missing program is ENOENT.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
})();
if (!hasCertutil) console.warn('Skipping the certificate trust test: certutil is missing (apt-get install -y libnss3-tools).');

describe.skipIf(!hasChromium || !hasCertutil || process.platform !== 'linux')('trusting the certificate in Chromium on Linux', () => {
  let home: string;
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'serve-dir-trust-'));
    // Chromium makes this database on its first run; the test's HOME is new, so make it here.
    mkdirSync(join(home, '.pki', 'nssdb'), { recursive: true });
    execFileSync('certutil', ['-N', '--empty-password', '-d', `sql:${join(home, '.pki', 'nssdb')}`]);
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  async function serve(cert: string, key: string): Promise<Server> {
    const server = createServer({ cert, key }, (_req, res) => res.end('<title>secure</title>'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  /**
   * Load https://<host>:<port>/ for each host in a fresh Chromium (launched
   * after the trust changed) whose NSS database is the test's: titles or errors.
   */
  async function visit(port: number, ...hosts: string[]): Promise<string[]> {
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      env: { ...process.env, HOME: home },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const results: string[] = [];
      for (const host of hosts) {
        try {
          await page.goto(`https://${host}:${port}/`);
          results.push(await page.title());
        } catch (error) {
          results.push(/net::ERR_[A-Z_]+/.exec((error as Error).message)?.[0] ?? (error as Error).message);
        }
      }
      return results;
    } finally {
      await browser.close();
    }
  }

  it('is refused before, and trusted for localhost and 127.0.0.1 after, the printed command', async () => {
    const { cert, key } = generateCertificate({ names: ['localhost', '127.0.0.1'] });
    const path = join(home, "it's here.pem"); // a quote in the path: the command must still work
    writeFileSync(path, cert);
    const server = await serve(cert, key);
    const { port } = server.address() as AddressInfo;
    try {
      expect(await visit(port, 'localhost', '127.0.0.1')).toEqual(['net::ERR_CERT_AUTHORITY_INVALID', 'net::ERR_CERT_AUTHORITY_INVALID']);
      execFileSync('sh', ['-c', trustCommand(path, 'linux')], { env: { ...process.env, HOME: home }, stdio: 'pipe' });
      expect(await visit(port, 'localhost', '127.0.0.1')).toEqual(['secure', 'secure']);
    } finally {
      await new Promise((done) => server.close(done));
    }
  }, 120_000);

  it('trusts a renewed certificate after the same command, beside the old one', async () => {
    const { cert, key } = generateCertificate({ names: ['localhost', '127.0.0.1'] });
    const path = join(home, 'renewed.pem');
    writeFileSync(path, cert);
    const server = await serve(cert, key);
    const { port } = server.address() as AddressInfo;
    try {
      execFileSync('sh', ['-c', trustCommand(path, 'linux')], { env: { ...process.env, HOME: home }, stdio: 'pipe' });
      expect(await visit(port, 'localhost')).toEqual(['secure']);
    } finally {
      await new Promise((done) => server.close(done));
    }
  }, 120_000);
});

describe('trustCommand', () => {
  // [platform, path, expected]
  const cases: Array<[NodeJS.Platform, string, string]> = [
    ['linux', '/home/ann/.cache/serve-dir/certificate.pem', `certutil -d sql:$HOME/.pki/nssdb -A -t "P,," -n serve-dir -i '/home/ann/.cache/serve-dir/certificate.pem'`],
    ['linux', "/home/o'neil/c.pem", `certutil -d sql:$HOME/.pki/nssdb -A -t "P,," -n serve-dir -i '/home/o'\\''neil/c.pem'`],
    ['darwin', '/Users/ann/Library/Caches/serve-dir/certificate.pem', `security add-trusted-cert -p ssl -k ~/Library/Keychains/login.keychain-db '/Users/ann/Library/Caches/serve-dir/certificate.pem'`],
    ['win32', 'C:\\Users\\ann\\AppData\\Local\\serve-dir\\certificate.pem', 'certutil -addstore -user Root "C:\\Users\\ann\\AppData\\Local\\serve-dir\\certificate.pem"'],
  ];
  it.each(cases)('%s: %s', (platform, path, expected) => {
    expect(trustCommand(path, platform)).toBe(expected);
  });
});
