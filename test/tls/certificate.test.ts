import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCertificate, type GeneratedCertificate } from '../../src/tls/certificate.js';
import { defaultCertificateNames } from '../../src/tls/names.js';

const NOW = Date.UTC(2030, 0, 15, 10, 30, 0);
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

let folder: string;
beforeAll(() => {
  folder = mkdtempSync(join(tmpdir(), 'serve-dir-cert-'));
});
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function openssl(args: string[], pem: string): string {
  const file = join(folder, `${createHash('sha1').update(pem).digest('hex')}.pem`);
  writeFileSync(file, pem);
  return execFileSync('openssl', args.map((arg) => (arg === 'CERT' ? file : arg)), { encoding: 'utf8', stdio: 'pipe' });
}

describe('generateCertificate, read by openssl', () => {
  const names = ['localhost', '127.0.0.1', '::1', '192.168.1.20', 'fd00::2', 'my-laptop.local'];
  let generated: GeneratedCertificate;
  let text: string;
  beforeAll(() => {
    generated = generateCertificate({ names, now: NOW });
    text = openssl(['x509', '-in', 'CERT', '-noout', '-text'], generated.cert);
  });

  it('is an X.509 v3 certificate signed with ECDSA-SHA256 by a P-256 key', () => {
    expect(text).toContain('Version: 3 (0x2)');
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    expect(text).toContain('NIST CURVE: P-256');
  });

  it('names serve-dir as subject and issuer', () => {
    expect(text).toContain('Issuer: O = serve-dir, CN = serve-dir development certificate');
    expect(text).toContain('Subject: O = serve-dir, CN = serve-dir development certificate');
  });

  it('carries every requested name in subjectAltName', () => {
    const san = /X509v3 Subject Alternative Name: *\n *(.*)/.exec(text)?.[1];
    expect(san).toBe(
      'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:192.168.1.20, IP Address:FD00:0:0:0:0:0:0:2, DNS:my-laptop.local',
    );
  });

  it('is a leaf for TLS servers: CA:FALSE critical, digitalSignature critical, serverAuth', () => {
    expect(text).toMatch(/X509v3 Basic Constraints: critical\n *CA:FALSE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\n *Digital Signature\n/);
    expect(text).toMatch(/X509v3 Extended Key Usage: *\n *TLS Web Server Authentication\n/);
  });

  it('has a subjectKeyIdentifier that is the SHA-1 of its public key bits (RFC 5280 §4.2.1.2)', () => {
    const jwk = new X509Certificate(generated.cert).publicKey.export({ format: 'jwk' });
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
    const expected = createHash('sha1').update(point).digest('hex').toUpperCase().match(/../g)?.join(':');
    expect(text).toMatch(new RegExp(`X509v3 Subject Key Identifier: *\\n *${expected}\\n`));
  });

  it('is valid from an hour before now for a year', () => {
    const dates = openssl(['x509', '-in', 'CERT', '-noout', '-dates'], generated.cert);
    expect(dates).toContain('notBefore=Jan 15 09:30:00 2030 GMT');
    expect(dates).toContain('notAfter=Jan 15 10:30:00 2031 GMT');
    const x509 = new X509Certificate(generated.cert);
    expect(Date.parse(x509.validFrom)).toBe(NOW - HOUR);
    expect(Date.parse(x509.validTo)).toBe(NOW + 365 * DAY);
  });

  it('verifies as its own trust anchor, strictly, for the TLS server purpose', () => {
    const output = openssl(['verify', '-x509_strict', '-purpose', 'sslserver', '-attime', String(NOW / 1000), '-CAfile', 'CERT', 'CERT'], generated.cert);
    expect(output.trim()).toMatch(/: OK$/);
  });

  it('comes with the private key of its public key, and its signature checks', () => {
    const x509 = new X509Certificate(generated.cert);
    expect(generated.key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(x509.checkPrivateKey(createPrivateKey(generated.key))).toBe(true);
    expect(x509.verify(x509.publicKey)).toBe(true);
  });
});

describe('generateCertificate, its other properties', () => {
  it('gives each certificate its own key and a positive 16-octet random serial', () => {
    const serials = new Set<string>();
    const keys = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const { cert, key } = generateCertificate({ names: ['localhost'] });
      const serial = new X509Certificate(cert).serialNumber;
      expect(serial).toMatch(/^[4-7][0-9A-F]{31}$/);
      serials.add(serial);
      keys.add(key);
    }
    expect(serials.size).toBe(5);
    expect(keys.size).toBe(5);
  });

  it('writes validity dates from 2050 as GeneralizedTime (RFC 5280 §4.1.2.5)', () => {
    const { cert } = generateCertificate({ names: ['localhost'], now: Date.UTC(2049, 6, 1), validityDays: 365 });
    const dates = openssl(['x509', '-in', 'CERT', '-noout', '-dates'], cert);
    expect(dates).toContain('notBefore=Jun 30 23:00:00 2049 GMT');
    expect(dates).toContain('notAfter=Jul  1 00:00:00 2050 GMT');
    const parsed = execFileSync('openssl', ['asn1parse', '-inform', 'PEM'], { input: cert, encoding: 'utf8' });
    expect(parsed).toContain('UTCTIME           :490630230000Z');
    expect(parsed).toContain('GENERALIZEDTIME   :20500701000000Z');
  });

  it('covers the machine\'s LAN addresses by default', () => {
    const names = defaultCertificateNames();
    const { cert } = generateCertificate({ names });
    const x509 = new X509Certificate(cert);
    const peer = { subjectaltname: x509.subjectAltName, subject: {} } as Parameters<typeof checkServerIdentity>[1];
    for (const name of names) expect(checkServerIdentity(name, peer), name).toBeUndefined();
    expect(checkServerIdentity('example.com', peer)).toBeInstanceOf(Error);
  });

  it('refuses no names, a bad name and a bad validity', () => {
    expect(() => generateCertificate({ names: [] })).toThrow(RangeError);
    expect(() => generateCertificate({ names: ['a b'] })).toThrow('cannot issue a certificate for "a b"');
    expect(() => generateCertificate({ names: ['localhost'], validityDays: 0 })).toThrow(RangeError);
  });
});

describe('generateCertificate, in a real TLS handshake', () => {
  const { cert, key } = generateCertificate({ names: ['localhost', '127.0.0.1', '::1'] });
  const servers: Server[] = [];
  const ports = new Map<string, number>();

  async function listen(host: string): Promise<void> {
    const server = createServer({ cert, key }, (_req, res) => res.end('secure'));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, host, () => resolve());
      });
    } catch {
      return; // no IPv6 loopback on this machine
    }
    servers.push(server);
    ports.set(host, (server.address() as AddressInfo).port);
  }
  beforeAll(async () => {
    await listen('127.0.0.1');
    await listen('::1');
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  });

  /** GET / over HTTPS to `address`, checking the certificate against `name`; the body or the client's error code. */
  function get(address: string, name: string, trust: string | undefined): Promise<string> {
    return new Promise((resolve) => {
      const req = request(
        { host: address, port: ports.get(address), servername: name, ca: trust, agent: false, path: '/' },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve(body));
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code}`));
      req.end();
    });
  }

  it('is trusted for localhost and 127.0.0.1 by a client given it as its CA', async () => {
    expect(await get('127.0.0.1', 'localhost', cert)).toBe('secure');
    // No servername: Node checks the address itself against the iPAddress entries.
    expect(await get('127.0.0.1', '', cert)).toBe('secure');
  });

  it('is trusted for [::1] where the machine has IPv6', async (context) => {
    if (!ports.has('::1')) context.skip();
    expect(await get('::1', '', cert)).toBe('secure');
    expect(await get('::1', 'localhost', cert)).toBe('secure');
  });

  it('is refused by a client that was not told to trust it, and for a name it does not carry', async () => {
    expect(await get('127.0.0.1', 'localhost', undefined)).toBe('error DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(await get('127.0.0.1', 'example.com', cert)).toBe('error ERR_TLS_CERT_ALTNAME_INVALID');
    const other = generateCertificate({ names: ['localhost'] }).cert;
    expect(await get('127.0.0.1', 'localhost', other)).toBe('error DEPTH_ZERO_SELF_SIGNED_CERT');
  });
});
