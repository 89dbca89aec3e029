/**
 * The `--https` certificate, kept between starts in the user's cache folder so
 * that trusting it once is enough: made on first use, reused while it covers
 * the names wanted and has more than `renewWithinDays` to run, made again
 * otherwise. How a user trusts it is in ./trust.ts.
 *
 * The key is written with mode 600 in a folder with mode 700 (POSIX only:
 * on Windows, %LOCALAPPDATA% is already private to the user). Each file is
 * written whole under a temporary name and renamed into place, so a reader
 * never sees half a file. Two servers starting at once may each make a pair
 * and leave one's key beside the other's certificate: the next start sees that
 * they do not match and makes a new pair.
 */
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join, posix, win32 } from 'node:path';
import { UsageError } from '../options.js';
import { generateCertificate, DEFAULT_VALIDITY_DAYS } from './certificate.js';
import { defaultCertificateNames, ipOctets, parseCertificateName } from './names.js';

export interface CertificateCacheOptions {
  /** Host names and addresses the certificate must cover. Default: `defaultCertificateNames()`. */
  names?: readonly string[];
  /** Folder that holds the files. Default: `certificateCacheDir()`. */
  dir?: string;
  /** The current time, in milliseconds since the epoch. Default: `Date.now()`. */
  now?: number;
  /** Make a new certificate when the stored one expires within this many days. Default 30. */
  renewWithinDays?: number;
}

/** Why a new certificate was made: none stored, one unusable, expiring soon, or missing a wanted name. */
export type RenewalReason = 'missing' | 'unusable' | 'expiring' | 'names';

export type CachedCertificate = {
  /** The certificate, PEM: pass as `cert` to `tls.createSecureContext` and friends. */
  cert: string;
  /** Its private key, unencrypted PEM: pass as `key`. */
  key: string;
  /** SHA-256 fingerprint, colon-separated hex, as browsers show it. */
  fingerprint256: string;
  /** The certificate's file: the one a user trusts. */
  path: string;
  keyPath: string;
  /** When the certificate stops being valid. */
  validTo: Date;
} & ({ created: false } | { created: true; reason: RenewalReason });

export const CERTIFICATE_FILE = 'certificate.pem';
export const KEY_FILE = 'certificate-key.pem';
export const DEFAULT_RENEW_WITHIN_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * `$XDG_CACHE_HOME/serve-dir` when that is set (the XDG Base Directory spec
 * ignores a relative value), else the platform's per-user cache folder.
 */
export function certificateCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  const path = platform === 'win32' ? win32 : posix;
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'serve-dir');
  if (platform === 'win32') {
    const local = env.LOCALAPPDATA && path.isAbsolute(env.LOCALAPPDATA) ? env.LOCALAPPDATA : path.join(home, 'AppData', 'Local');
    return path.join(local, 'serve-dir');
  }
  if (platform === 'darwin') return path.join(home, 'Library', 'Caches', 'serve-dir');
  return path.join(home, '.cache', 'serve-dir');
}

/** The stored certificate when it is still good for `names`, else a new one, stored. */
export async function loadOrCreateCertificate(options: CertificateCacheOptions = {}): Promise<CachedCertificate> {
  const dir = options.dir ?? certificateCacheDir();
  const names = options.names ?? defaultCertificateNames();
  const now = options.now ?? Date.now();
  const renewWithinDays = options.renewWithinDays ?? DEFAULT_RENEW_WITHIN_DAYS;
  const path = join(dir, CERTIFICATE_FILE);
  const keyPath = join(dir, KEY_FILE);

  const stored = await readStored(path, keyPath);
  let reason: RenewalReason;
  if (typeof stored === 'object') {
    const verdict = judge(stored.x509, names, now, renewWithinDays);
    if (verdict === 'reuse') {
      await tightenKeyMode(keyPath);
      return { ...summary(stored.cert, stored.key, stored.x509, path, keyPath), created: false };
    }
    reason = verdict;
  } else {
    reason = stored ?? 'missing';
  }
  // Longer than the renewal margin, or it would be renewed on every start.
  const validityDays = Math.max(DEFAULT_VALIDITY_DAYS, renewWithinDays + 1);
  const { cert, key } = generateCertificate({ names, now, validityDays });
  await store(dir, path, keyPath, cert, key);
  return { ...summary(cert, key, new X509Certificate(cert), path, keyPath), created: true, reason };
}

interface StoredPair {
  cert: string;
  key: string;
  x509: X509Certificate;
}

/** The stored pair when both files read, parse and belong together; 'unusable' otherwise; undefined when absent. */
async function readStored(path: string, keyPath: string): Promise<StoredPair | 'unusable' | undefined> {
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([readFile(path, 'utf8'), readFile(keyPath, 'utf8')]);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : 'unusable';
  }
  try {
    const x509 = new X509Certificate(cert);
    return x509.checkPrivateKey(createPrivateKey(key)) ? { cert, key, x509 } : 'unusable';
  } catch {
    return 'unusable';
  }
}

function judge(x509: X509Certificate, names: readonly string[], now: number, renewWithinDays: number): 'reuse' | RenewalReason {
  // A certificate from the future: the clock was wrong when it was made, or is now.
  if (Date.parse(x509.validFrom) > now) return 'unusable';
  if (Date.parse(x509.validTo) - now < renewWithinDays * DAY_MS) return 'expiring';
  const covered = subjectAltNames(x509);
  return names.every((name) => covered.has(sanKey(name))) ? 'reuse' : 'names';
}

/** The certificate's dNSName and iPAddress entries, as `sanKey` writes them. */
function subjectAltNames(x509: X509Certificate): Set<string> {
  const keys = new Set<string>();
  // Node lists them as `DNS:name, IP Address:addr`; our names never hold a comma or a quote.
  for (const entry of (x509.subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) keys.add(`dns:${entry.slice(4).toLowerCase()}`);
    else if (entry.startsWith('IP Address:') && isIP(entry.slice(11)) !== 0) keys.add(`ip:${ipOctets(entry.slice(11)).toString('hex')}`);
  }
  return keys;
}

/** One spelling per name, so `::1` and `0:0:0:0:0:0:0:1` compare equal. */
function sanKey(text: string): string {
  const name = parseCertificateName(text);
  return name.kind === 'dns' ? `dns:${name.name}` : `ip:${name.octets.toString('hex')}`;
}

function summary(cert: string, key: string, x509: X509Certificate, path: string, keyPath: string) {
  return { cert, key, fingerprint256: x509.fingerprint256, path, keyPath, validTo: new Date(Date.parse(x509.validTo)) };
}

async function store(dir: string, path: string, keyPath: string, cert: string, key: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (process.platform !== 'win32') await chmod(dir, 0o700);
    await writeWhole(keyPath, key, 0o600);
    await writeWhole(path, cert, 0o644);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'read-only file system' : (error as Error).message;
    throw new UsageError(`cannot keep the HTTPS certificate in ${dir}: ${problem} (set XDG_CACHE_HOME, or give --tls-cert and --tls-key)`);
  }
}

/** Write under a temporary name created with `mode`, then rename: the file is never partly written or looser. */
async function writeWhole(path: string, data: string, mode: number): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, data, { mode, flag: 'wx' });
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/** A key copied in or restored from a backup may have lost its mode; keep it private. */
async function tightenKeyMode(keyPath: string): Promise<void> {
  if (process.platform === 'win32') return;
  const { mode } = await stat(keyPath);
  if ((mode & 0o077) !== 0) await chmod(keyPath, 0o600);
}
