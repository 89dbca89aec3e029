/**
 * The user's own certificate and key (`--tls-cert`, `--tls-key`,
 * `--tls-password-file`, the names of Python 3.14's http.server), checked at
 * start-up so that every way they can be wrong is one line naming the file,
 * not an OpenSSL error on the first connection.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../options.js';

export interface TlsFiles {
  /** PEM: the server's certificate, then any intermediates; may hold the key as well. */
  cert: string;
  /** PEM private key; when absent, the key is looked for in `cert` (as http.server does). */
  key?: string;
  /** A file whose first line is the password of an encrypted key. */
  passwordFile?: string;
}

export interface TlsCredentials {
  /** The certificate chain, PEM, as read: pass as `cert` to `tls.createSecureContext` and friends. */
  cert: string;
  /** The private key, decrypted, PKCS #8 PEM: pass as `key`; no passphrase is needed any more. */
  key: string;
  /** SHA-256 fingerprint of the server's certificate. */
  fingerprint256: string;
  /** When the server's certificate stops being valid (the CLI may warn; an expired one still loads). */
  validTo: Date;
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g;
/** PKCS #8 (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`) and the traditional `RSA`/`EC`/`DSA PRIVATE KEY`. */
const KEY_BLOCK = /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY)-----[\s\S]*?-----END \1-----/;

/**
 * The flags as given, or undefined when none is. A key or a password without
 * a certificate is the user's mistake: said at once rather than ignored.
 */
export function tlsFilesFromFlags(flags: { tlsCert?: string; tlsKey?: string; tlsPasswordFile?: string }): TlsFiles | undefined {
  if (flags.tlsCert === undefined) {
    if (flags.tlsKey !== undefined) throw new UsageError('--tls-key needs --tls-cert');
    if (flags.tlsPasswordFile !== undefined) throw new UsageError('--tls-password-file needs --tls-cert');
    return undefined;
  }
  return { cert: flags.tlsCert, key: flags.tlsKey, passwordFile: flags.tlsPasswordFile };
}

/** Read and check the files; every problem is a UsageError of one line. */
export async function loadTlsFiles(files: TlsFiles): Promise<TlsCredentials> {
  const certBytes = await readBytes('--tls-cert', files.cert);
  const certText = certBytes.toString('utf8');
  const chain = parseChain(certText, certBytes, files.cert);
  const [leaf] = chain;
  if (leaf === undefined) throw new Error('unreachable: parseChain returns at least one certificate');

  const keyFlag = files.key === undefined ? '--tls-cert' : '--tls-key';
  const keyFile = files.key ?? files.cert;
  const keyText = files.key === undefined ? certText : (await readBytes('--tls-key', files.key)).toString('utf8');
  const block = KEY_BLOCK.exec(keyText)?.[0];
  if (block === undefined) {
    throw new UsageError(
      files.key === undefined
        ? `--tls-cert ${shown(files.cert)}: holds no private key; give it with --tls-key`
        : `--tls-key ${shown(keyFile)}: not a PEM private key (no -----BEGIN PRIVATE KEY----- block)`,
    );
  }
  const password = files.passwordFile === undefined ? undefined : await readPassword(files.passwordFile);
  const privateKey = decryptKey(block, keyFlag, keyFile, password, files.passwordFile);

  if (!leaf.checkPrivateKey(privateKey)) {
    throw new UsageError(`${keyFlag} ${shown(keyFile)}: this key does not match the certificate in --tls-cert ${shown(files.cert)}`);
  }
  return {
    cert: certText,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    fingerprint256: leaf.fingerprint256,
    validTo: new Date(Date.parse(leaf.validTo)),
  };
}

/** Every certificate in the file, the server's own first; TLS would fail later on any that cannot be read. */
function parseChain(text: string, bytes: Buffer, file: string): X509Certificate[] {
  const blocks = text.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) {
    if (looksLikeDer(bytes)) {
      throw new UsageError(`--tls-cert ${shown(file)}: DER, not PEM; convert it with: openssl x509 -inform der -in ${shown(file)} -out cert.pem`);
    }
    throw new UsageError(`--tls-cert ${shown(file)}: not a PEM certificate (no -----BEGIN CERTIFICATE----- block)`);
  }
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch {
      const which = blocks.length === 1 ? 'the certificate' : `certificate ${index + 1} of ${blocks.length}`;
      throw new UsageError(`--tls-cert ${shown(file)}: ${which} is damaged and cannot be read`);
    }
  });
}

function looksLikeDer(bytes: Buffer): boolean {
  try {
    new X509Certificate(bytes);
    return true;
  } catch {
    return false;
  }
}

function decryptKey(block: string, flag: string, file: string, password: string | undefined, passwordFile: string | undefined): KeyObject {
  // RFC 5958 §3 (PKCS #8) and RFC 1421's Proc-Type header (OpenSSL's traditional form).
  const encrypted = block.startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /^Proc-Type: *4, *ENCRYPTED/m.test(block);
  if (encrypted && password === undefined) {
    throw new UsageError(`${flag} ${shown(file)}: the key is encrypted; give its password with --tls-password-file`);
  }
  try {
    return createPrivateKey({ key: block, format: 'pem', passphrase: encrypted ? password : undefined });
  } catch {
    // A wrong password does not always fail as "bad decrypt": it can also decrypt to garbage.
    if (encrypted) throw new UsageError(`--tls-password-file ${shown(passwordFile ?? '')}: wrong password for ${flag} ${shown(file)}`);
    throw new UsageError(`${flag} ${shown(file)}: the private key is damaged or of a kind that cannot be read`);
  }
}

/** The first line, as `openssl -pass file:` reads it: spaces are part of a password, the line end is not. */
async function readPassword(file: string): Promise<string> {
  const text = (await readBytes('--tls-password-file', file)).toString('utf8');
  const password = text.split(/\r?\n/, 1)[0] ?? '';
  if (password === '') throw new UsageError(`--tls-password-file ${shown(file)}: the first line is empty`);
  return password;
}

async function readBytes(flag: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT' ? 'not found'
      : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : code === 'EISDIR' ? 'is a folder, not a file'
      : `cannot be read (${code ?? (error as Error).message})`;
    throw new UsageError(`${flag} ${shown(file)}: ${problem}`);
  }
}

/** A file name as typed, unless it holds control characters, which would break the one line. */
function shown(file: string): string {
  return /[\x00-\x1f\x7f]/.test(file) ? JSON.stringify(file) : file;
}
