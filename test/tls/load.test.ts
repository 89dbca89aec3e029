import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/options.js';
import { loadTlsFiles, tlsFilesFromFlags, type TlsFiles } from '../../src/tls/load.js';

const PASSWORD = 'correct horse';
let dir: string;
/** A file of the test's folder. */
const f = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'serve-dir-load-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ec, '-keyout', 'key.pem', '-out', 'cert.pem', '-subj', '/CN=localhost', '-days', '30', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'other-key.pem');
  openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', 'rsa-key.pem');
  // The certificate's own key, encrypted: PKCS #8 (openssl pkey) and OpenSSL's traditional form (openssl ec).
  openssl('pkey', '-in', 'key.pem', '-aes256', '-passout', `pass:${PASSWORD}`, '-out', 'key-pkcs8-encrypted.pem');
  openssl('ec', '-in', 'key.pem', '-aes256', '-passout', `pass:${PASSWORD}`, '-out', 'key-traditional-encrypted.pem');
  openssl('x509', '-in', 'cert.pem', '-outform', 'der', '-out', 'cert.der');
  writeFileSync(f('password.txt'), `${PASSWORD}\n`);
  writeFileSync(f('password-crlf.txt'), `${PASSWORD}\r\nsecond line\r\n`);
  writeFileSync(f('wrong-password.txt'), 'not it\n');
  writeFileSync(f('empty-password.txt'), '\n');
  writeFileSync(f('combined.pem'), readFileSync(f('cert.pem'), 'utf8') + readFileSync(f('key.pem'), 'utf8'));
  writeFileSync(f('chain.pem'), readFileSync(f('cert.pem'), 'utf8').repeat(2));
  writeFileSync(f('damaged.pem'), '-----BEGIN CERTIFICATE-----\nMIIBnotreally\n-----END CERTIFICATE-----\n');
  writeFileSync(f('chain-damaged.pem'), readFileSync(f('cert.pem'), 'utf8') + readFileSync(f('damaged.pem'), 'utf8'));
  writeFileSync(f('notes.txt'), 'hello\n');
  mkdirSync(f('folder'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tlsFilesFromFlags', () => {
  it('is undefined without flags, and the files with them', () => {
    expect(tlsFilesFromFlags({})).toBeUndefined();
    expect(tlsFilesFromFlags({ tlsCert: 'c', tlsKey: 'k', tlsPasswordFile: 'p' })).toEqual({ cert: 'c', key: 'k', passwordFile: 'p' });
    expect(tlsFilesFromFlags({ tlsCert: 'c' })).toEqual({ cert: 'c', key: undefined, passwordFile: undefined });
  });
  it('refuses a key or a password without a certificate', () => {
    expect(() => tlsFilesFromFlags({ tlsKey: 'k' })).toThrow(new UsageError('--tls-key needs --tls-cert'));
    expect(() => tlsFilesFromFlags({ tlsPasswordFile: 'p' })).toThrow(new UsageError('--tls-password-file needs --tls-cert'));
  });
});

describe('loadTlsFiles accepts', () => {
  // [what, files (names inside the test's folder)]
  const cases: Array<[string, () => TlsFiles]> = [
    ['a certificate and its key', () => ({ cert: f('cert.pem'), key: f('key.pem') })],
    ['an encrypted PKCS #8 key with its password', () => ({ cert: f('cert.pem'), key: f('key-pkcs8-encrypted.pem'), passwordFile: f('password.txt') })],
    ['an encrypted traditional key with its password', () => ({ cert: f('cert.pem'), key: f('key-traditional-encrypted.pem'), passwordFile: f('password.txt') })],
    ['a password file with CRLF and more lines (the first line is the password)', () => ({ cert: f('cert.pem'), key: f('key-pkcs8-encrypted.pem'), passwordFile: f('password-crlf.txt') })],
    ['a password given for a key that is not encrypted', () => ({ cert: f('cert.pem'), key: f('key.pem'), passwordFile: f('wrong-password.txt') })],
    ['the key in the certificate file, as http.server allows', () => ({ cert: f('combined.pem') })],
    ['a chain of several certificates', () => ({ cert: f('chain.pem'), key: f('key.pem') })],
  ];
  it.each(cases)('%s', async (_what, files) => {
    const loaded = await loadTlsFiles(files());
    const fingerprint = openssl('x509', '-in', 'cert.pem', '-noout', '-fingerprint', '-sha256').toString().trim().split('=')[1];
    expect(loaded.fingerprint256).toBe(fingerprint);
    expect(loaded.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/); // decrypted: TLS needs no passphrase
    expect(loaded.validTo.getTime()).toBeGreaterThan(Date.now() + 29 * 24 * 3600 * 1000);
  });

  it('gives credentials a real TLS server can use', async () => {
    const loaded = await loadTlsFiles({ cert: f('cert.pem'), key: f('key-pkcs8-encrypted.pem'), passwordFile: f('password.txt') });
    const server = createServer({ cert: loaded.cert, key: loaded.key }, (_req, res) => res.end('secure'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const port = (server.address() as AddressInfo).port;
        request({ host: '127.0.0.1', port, servername: 'localhost', ca: loaded.cert, agent: false }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve(text));
        })
          .on('error', reject)
          .end();
      });
      expect(body).toBe('secure');
    } finally {
      await new Promise((done) => server.close(done));
    }
  });
});

describe('loadTlsFiles refuses, in one line naming the file', () => {
  // [what, files, expected message with {dir} for the test's folder]
  const cases: Array<[string, TlsFiles, string]> = [
    ['a missing certificate', { cert: 'missing.pem', key: 'key.pem' }, '--tls-cert {dir}/missing.pem: not found'],
    ['a missing key', { cert: 'cert.pem', key: 'missing.pem' }, '--tls-key {dir}/missing.pem: not found'],
    ['a missing password file', { cert: 'cert.pem', key: 'key-pkcs8-encrypted.pem', passwordFile: 'missing.txt' }, '--tls-password-file {dir}/missing.txt: not found'],
    ['a folder as the certificate', { cert: 'folder', key: 'key.pem' }, '--tls-cert {dir}/folder: is a folder, not a file'],
    ['a text file as the certificate', { cert: 'notes.txt', key: 'key.pem' }, '--tls-cert {dir}/notes.txt: not a PEM certificate (no -----BEGIN CERTIFICATE----- block)'],
    ['a key file as the certificate', { cert: 'key.pem', key: 'key.pem' }, '--tls-cert {dir}/key.pem: not a PEM certificate (no -----BEGIN CERTIFICATE----- block)'],
    ['a DER certificate', { cert: 'cert.der', key: 'key.pem' }, '--tls-cert {dir}/cert.der: DER, not PEM; convert it with: openssl x509 -inform der -in {dir}/cert.der -out cert.pem'],
    ['a damaged certificate', { cert: 'damaged.pem', key: 'key.pem' }, '--tls-cert {dir}/damaged.pem: the certificate is damaged and cannot be read'],
    ['a damaged certificate in a chain', { cert: 'chain-damaged.pem', key: 'key.pem' }, '--tls-cert {dir}/chain-damaged.pem: certificate 2 of 2 is damaged and cannot be read'],
    ['a certificate as the key', { cert: 'cert.pem', key: 'cert.pem' }, '--tls-key {dir}/cert.pem: not a PEM private key (no -----BEGIN PRIVATE KEY----- block)'],
    ['no key given, and none in the certificate file', { cert: 'cert.pem' }, '--tls-cert {dir}/cert.pem: holds no private key; give it with --tls-key'],
    ['a key of another certificate', { cert: 'cert.pem', key: 'other-key.pem' }, '--tls-key {dir}/other-key.pem: this key does not match the certificate in --tls-cert {dir}/cert.pem'],
    ['a key of another type', { cert: 'cert.pem', key: 'rsa-key.pem' }, '--tls-key {dir}/rsa-key.pem: this key does not match the certificate in --tls-cert {dir}/cert.pem'],
    ['an encrypted key without a password', { cert: 'cert.pem', key: 'key-pkcs8-encrypted.pem' }, '--tls-key {dir}/key-pkcs8-encrypted.pem: the key is encrypted; give its password with --tls-password-file'],
    ['an encrypted traditional key without a password', { cert: 'cert.pem', key: 'key-traditional-encrypted.pem' }, '--tls-key {dir}/key-traditional-encrypted.pem: the key is encrypted; give its password with --tls-password-file'],
    ['a wrong password', { cert: 'cert.pem', key: 'key-pkcs8-encrypted.pem', passwordFile: 'wrong-password.txt' }, '--tls-password-file {dir}/wrong-password.txt: wrong password for --tls-key {dir}/key-pkcs8-encrypted.pem'],
    ['a wrong password for a traditional key', { cert: 'cert.pem', key: 'key-traditional-encrypted.pem', passwordFile: 'wrong-password.txt' }, '--tls-password-file {dir}/wrong-password.txt: wrong password for --tls-key {dir}/key-traditional-encrypted.pem'],
    ['an empty password', { cert: 'cert.pem', key: 'key-pkcs8-encrypted.pem', passwordFile: 'empty-password.txt' }, '--tls-password-file {dir}/empty-password.txt: the first line is empty'],
  ];
  it.each(cases)('%s', async (_what, files, message) => {
    const inFolder = (name: string | undefined) => (name === undefined ? undefined : f(name));
    const attempt = loadTlsFiles({ cert: f(files.cert), key: inFolder(files.key), passwordFile: inFolder(files.passwordFile) });
    const error = await attempt.then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(message.replaceAll('{dir}', dir));
    expect((error as UsageError).message).not.toContain('\n');
  });

  it.runIf(process.getuid?.() !== 0)('an unreadable key', async () => {
    writeFileSync(f('locked-key.pem'), readFileSync(f('key.pem')));
    chmodSync(f('locked-key.pem'), 0o000);
    await expect(loadTlsFiles({ cert: f('cert.pem'), key: f('locked-key.pem') })).rejects.toThrow(
      new UsageError(`--tls-key ${f('locked-key.pem')}: permission denied`),
    );
  });

  it('a file name with a line break, quoted so the message stays one line', async () => {
    const error = await loadTlsFiles({ cert: 'no\nsuch.pem' }).catch((caught: unknown) => caught);
    expect((error as Error).message).toBe('--tls-cert "no\\nsuch.pem": not found');
  });
});
