import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../src/options.js';
import { CERTIFICATE_FILE, certificateCacheDir, KEY_FILE, loadOrCreateCertificate } from '../../src/tls/cache.js';

const DAY = 24 * 60 * 60 * 1000;
const NAMES = ['localhost', '127.0.0.1', '::1'];
const posix = process.platform !== 'win32';

describe('certificateCacheDir', () => {
  // [what, env, platform, home, expected]
  const cases: Array<[string, NodeJS.ProcessEnv, NodeJS.Platform, string, string]> = [
    ['XDG_CACHE_HOME wins on Linux', { XDG_CACHE_HOME: '/xdg' }, 'linux', '/home/ann', '/xdg/serve-dir'],
    ['XDG_CACHE_HOME wins on macOS too', { XDG_CACHE_HOME: '/xdg' }, 'darwin', '/Users/ann', '/xdg/serve-dir'],
    ['a relative XDG_CACHE_HOME is ignored, as the spec says', { XDG_CACHE_HOME: 'rel' }, 'linux', '/home/ann', '/home/ann/.cache/serve-dir'],
    ['an empty XDG_CACHE_HOME is ignored', { XDG_CACHE_HOME: '' }, 'linux', '/home/ann', '/home/ann/.cache/serve-dir'],
    ['Linux', {}, 'linux', '/home/ann', '/home/ann/.cache/serve-dir'],
    ['FreeBSD follows XDG too', {}, 'freebsd', '/home/ann', '/home/ann/.cache/serve-dir'],
    ['macOS', {}, 'darwin', '/Users/ann', '/Users/ann/Library/Caches/serve-dir'],
    ['Windows', { LOCALAPPDATA: 'C:\\Users\\ann\\AppData\\Local' }, 'win32', 'C:\\Users\\ann', 'C:\\Users\\ann\\AppData\\Local\\serve-dir'],
    ['Windows without LOCALAPPDATA', {}, 'win32', 'C:\\Users\\ann', 'C:\\Users\\ann\\AppData\\Local\\serve-dir'],
  ];
  it.each(cases)('%s', (_what, env, platform, home, expected) => {
    expect(certificateCacheDir(env, platform, home)).toBe(expected);
  });
});

describe('loadOrCreateCertificate', () => {
  let base: string;
  let dir: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'serve-dir-cache-'));
    dir = join(base, 'serve-dir');
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('makes a certificate on first use, then returns the same one', async () => {
    const first = await loadOrCreateCertificate({ dir, names: NAMES });
    expect(first.created && first.reason).toBe('missing');
    expect(first.path).toBe(join(dir, CERTIFICATE_FILE));
    expect(first.keyPath).toBe(join(dir, KEY_FILE));
    expect(readFileSync(first.path, 'utf8')).toBe(first.cert);
    expect(readFileSync(first.keyPath, 'utf8')).toBe(first.key);
    expect(first.fingerprint256).toBe(new X509Certificate(first.cert).fingerprint256);
    expect(first.validTo.getTime()).toBeGreaterThan(Date.now() + 300 * DAY);

    const second = await loadOrCreateCertificate({ dir, names: NAMES });
    expect(second.created).toBe(false);
    expect(second.fingerprint256).toBe(first.fingerprint256);
    expect(second.key).toBe(first.key);
    expect(readdirSync(dir).sort()).toEqual([KEY_FILE, CERTIFICATE_FILE].sort()); // no temporary files left
  });

  it.runIf(posix)('keeps the key at mode 600 in a folder at mode 700', async () => {
    const { keyPath } = await loadOrCreateCertificate({ dir, names: NAMES });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
  });

  it.runIf(posix)('tightens a folder and a key that were left readable by others', async () => {
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const { keyPath, fingerprint256 } = await loadOrCreateCertificate({ dir, names: NAMES });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    chmodSync(keyPath, 0o644);
    const again = await loadOrCreateCertificate({ dir, names: NAMES });
    expect(again.created).toBe(false);
    expect(again.fingerprint256).toBe(fingerprint256);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
  });

  it('makes a new one when the stored one expires within 30 days', async () => {
    const old = await loadOrCreateCertificate({ dir, names: NAMES, now: Date.now() - 340 * DAY });
    expect(old.validTo.getTime()).toBeLessThan(Date.now() + 30 * DAY);
    const renewed = await loadOrCreateCertificate({ dir, names: NAMES });
    expect(renewed.created && renewed.reason).toBe('expiring');
    expect(renewed.fingerprint256).not.toBe(old.fingerprint256);
    expect((await loadOrCreateCertificate({ dir, names: NAMES })).created).toBe(false);
  });

  it('keeps it until 30 days before it expires, by the clock it is given', async () => {
    const made = await loadOrCreateCertificate({ dir, names: NAMES });
    const expiry = made.validTo.getTime();
    const at = async (now: number) => loadOrCreateCertificate({ dir, names: NAMES, now });
    expect((await at(expiry - 31 * DAY)).created).toBe(false);
    const late = await at(expiry - 29 * DAY);
    expect(late.created && late.reason).toBe('expiring');
  });

  it('makes a new one when a wanted address is not in it, not when fewer are wanted', async () => {
    const made = await loadOrCreateCertificate({ dir, names: NAMES });
    const moved = await loadOrCreateCertificate({ dir, names: [...NAMES, '192.168.1.20'] });
    expect(moved.created && moved.reason).toBe('names');
    expect(moved.fingerprint256).not.toBe(made.fingerprint256);
    expect(new X509Certificate(moved.cert).checkIP('192.168.1.20')).toBe('192.168.1.20');
    // The same names spelled otherwise, and a subset of them, are covered.
    expect((await loadOrCreateCertificate({ dir, names: ['LOCALHOST', '0:0:0:0:0:0:0:1', '192.168.1.20'] })).created).toBe(false);
    expect((await loadOrCreateCertificate({ dir, names: ['localhost'] })).created).toBe(false);
    const named = await loadOrCreateCertificate({ dir, names: [...NAMES, 'my-laptop.local'] });
    expect(named.created && named.reason).toBe('names');
  });

  it('covers the machine\'s addresses when no names are given', async () => {
    const made = await loadOrCreateCertificate({ dir });
    const x509 = new X509Certificate(made.cert);
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  // [what, how the stored pair is spoiled]
  const spoiled: Array<[string, (paths: { path: string; keyPath: string }) => void]> = [
    ['a key that is not the certificate\'s', ({ keyPath }) => writeFileSync(keyPath, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }))],
    ['a certificate that is not PEM', ({ path }) => writeFileSync(path, 'not a certificate\n')],
    ['a key that is not PEM', ({ keyPath }) => writeFileSync(keyPath, '')],
  ];
  it.each(spoiled)('replaces a stored pair with %s', async (_what, spoil) => {
    const made = await loadOrCreateCertificate({ dir, names: NAMES });
    spoil(made);
    const again = await loadOrCreateCertificate({ dir, names: NAMES });
    expect(again.created && again.reason).toBe('unusable');
    expect(new X509Certificate(again.cert).checkPrivateKey(createPrivateKey(again.key))).toBe(true);
  });

  it('says which folder is in the way when the certificate file cannot be replaced', async () => {
    const made = await loadOrCreateCertificate({ dir, names: NAMES });
    rmSync(made.path);
    mkdirSync(made.path);
    await expect(loadOrCreateCertificate({ dir, names: NAMES })).rejects.toThrow(`cannot keep the HTTPS certificate in ${dir}: `);
  });

  it('makes a new one when the stored one is not valid yet (the clock went back)', async () => {
    await loadOrCreateCertificate({ dir, names: NAMES, now: Date.now() + 10 * DAY });
    const again = await loadOrCreateCertificate({ dir, names: NAMES });
    expect(again.created && again.reason).toBe('unusable');
  });

  it('says in one line where it cannot keep the certificate', async () => {
    const file = join(base, 'a-file');
    writeFileSync(file, '');
    const attempt = loadOrCreateCertificate({ dir: join(file, 'serve-dir'), names: NAMES });
    await expect(attempt).rejects.toThrow(UsageError);
    await expect(attempt).rejects.toThrow(/^cannot keep the HTTPS certificate in .*a-file\/serve-dir: .* \(set XDG_CACHE_HOME, or give --tls-cert and --tls-key\)$/);
  });

  it('uses $XDG_CACHE_HOME/serve-dir when no folder is given', async () => {
    vi.stubEnv('XDG_CACHE_HOME', base);
    try {
      const made = await loadOrCreateCertificate({ names: NAMES });
      expect(made.path).toBe(join(base, 'serve-dir', CERTIFICATE_FILE));
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
