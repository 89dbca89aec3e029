/**
 * A self-signed certificate for development (`--https`), made with Node's
 * crypto alone: an X.509 v3 certificate (RFC 5280) encoded by ./der.ts and
 * signed by its own key.
 *
 * What it is, and why:
 * - A leaf that the user trusts directly as its own anchor, not a CA that then
 *   signs a leaf (mkcert's way). A trusted CA whose key sits in a cache folder
 *   would let any process that reads that key impersonate every HTTPS site to
 *   this machine's browsers; a trusted leaf vouches only for the names it
 *   carries. It is also the shape Firefox accepts: it refuses a certificate
 *   with cA TRUE as a server's own (MOZILLA_PKIX_ERROR_CA_CERT_USED_AS_END_ENTITY).
 *   ASP.NET Core's development certificate is built the same way.
 * - So basicConstraints cA FALSE, critical, and keyUsage digitalSignature only:
 *   RFC 5280 §4.2.1.3 forbids keyCertSign without cA, and RFC 5480 §3 allows
 *   an EC key no key-encipherment use. OpenSSL (Node's `ca:` option, curl) and
 *   the browsers' trust stores accept such a self-signed leaf as an anchor.
 * - EC P-256 with ECDSA-SHA256: every browser and TLS 1.2/1.3 client takes it,
 *   and the key is generated in about a millisecond, where RSA 2048 takes tens
 *   to hundreds on a busy machine.
 * - Names only in subjectAltName (browsers ignore the subject's CN for
 *   identity, RFC 6125 §6.4.4), with serverAuth in extendedKeyUsage, which
 *   Apple platforms require of every TLS server certificate.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { bitString, boolean, explicit, implicitPrimitive, integer, octetString, oid, sequence, set, utf8String, x509Time } from './der.js';
import { parseCertificateName, type CertificateName } from './names.js';

export interface CertificateOptions {
  /** Host names and IP addresses the certificate is for, e.g. `defaultCertificateNames()`. */
  names: readonly string[];
  /** The current time, in milliseconds since the epoch. Default: `Date.now()`. */
  now?: number;
  /** Days the certificate stays valid from `now`. Default: `DEFAULT_VALIDITY_DAYS`. */
  validityDays?: number;
}

export interface GeneratedCertificate {
  /** The certificate, PEM. */
  cert: string;
  /** Its private key, unencrypted PKCS #8 PEM. */
  key: string;
}

/**
 * Chrome and Safari refuse publicly trusted certificates valid for more than
 * 398 days; a year stays well inside that, should a platform ever apply the
 * cap to certificates the user trusted by hand.
 */
export const DEFAULT_VALIDITY_DAYS = 365;
/** notBefore is set this far back, so a client whose clock lags ours still accepts a new certificate. */
const BACKDATE_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

const OID = {
  organizationName: '2.5.4.10',
  commonName: '2.5.4.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

export const CERTIFICATE_ORGANIZATION = 'serve-dir';
export const CERTIFICATE_COMMON_NAME = 'serve-dir development certificate';

export function generateCertificate(options: CertificateOptions): GeneratedCertificate {
  const names = options.names.map(parseCertificateName);
  // RFC 5280 §4.2.1.6: names of a leaf go here; without one, no client would match it.
  if (names.length === 0) throw new RangeError('a certificate needs at least one name');
  const now = options.now ?? Date.now();
  const validityDays = options.validityDays ?? DEFAULT_VALIDITY_DAYS;
  if (!(validityDays > 0)) throw new RangeError(`validity must be a positive number of days, not ${validityDays}`);

  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // RFC 5758 §3.2: ECDSA algorithm identifiers have no parameters.
  const signatureAlgorithm = sequence(oid(OID.ecdsaWithSha256));
  // Issuer and subject are the same bytes: that is what makes it self-issued (RFC 5280 §3.3).
  const name = sequence(
    set(sequence(oid(OID.organizationName), utf8String(CERTIFICATE_ORGANIZATION))),
    set(sequence(oid(OID.commonName), utf8String(CERTIFICATE_COMMON_NAME))),
  );
  const tbsCertificate = sequence(
    explicit(0, integer(2)), // RFC 5280 §4.1.2.1: v3, since there are extensions
    integer(serialNumber()),
    signatureAlgorithm, // RFC 5280 §4.1.2.3: the same as the outer signatureAlgorithm
    name,
    sequence(x509Time(new Date(now - BACKDATE_MS)), x509Time(new Date(now + validityDays * DAY_MS))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...extensions(publicKey, names))),
  );
  // RFC 5280 §4.1.1.3: the signature covers the DER of tbsCertificate; ECDSA's value is DER too.
  const signature = sign('sha256', tbsCertificate, privateKey);
  const der = sequence(tbsCertificate, signatureAlgorithm, bitString(signature));
  return {
    cert: toPem('CERTIFICATE', der),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/**
 * RFC 5280 §4.1.2.2: positive, at most 20 octets, unique per issuer. Every
 * generated certificate has the same issuer name, and Firefox refuses a
 * certificate whose issuer and serial it has already seen on another
 * (SEC_ERROR_REUSED_ISSUER_AND_SERIAL), so the serial is random: 16 octets,
 * top bit clear (positive) and the next one set (never zero, always 16 octets).
 */
function serialNumber(): Buffer {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x3f) | 0x40;
  return serial;
}

function extensions(publicKey: KeyObject, names: readonly CertificateName[]): Buffer[] {
  return [
    // RFC 5280 §4.2.1.9: not a CA; marked critical so no verifier may ignore it.
    extension(OID.basicConstraints, true, sequence()),
    // RFC 5280 §4.2.1.3 (SHOULD be critical): bit 0, digitalSignature; DER drops trailing zero bits.
    extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)),
    // RFC 5280 §4.2.1.12
    extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
    // RFC 5280 §4.2.1.6: not critical, because the subject name is not empty.
    extension(OID.subjectAltName, false, sequence(...names.map(generalName))),
    // RFC 5280 §4.2.1.2, method (1): SHA-1 of the subjectPublicKey bits. The
    // authorityKeyIdentifier may be left out of a self-signed certificate (§4.2.1.1).
    extension(OID.subjectKeyIdentifier, false, octetString(createHash('sha1').update(ecPoint(publicKey)).digest())),
  ];
}

/** RFC 5280 §4.1: an Extension; `critical` is DEFAULT FALSE, which DER leaves out. */
function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

/** RFC 5280 §4.2.1.6: dNSName is [2] IA5String, iPAddress is [7] OCTET STRING. */
function generalName(name: CertificateName): Buffer {
  return name.kind === 'dns' ? implicitPrimitive(2, Buffer.from(name.name, 'ascii')) : implicitPrimitive(7, name.octets);
}

/** The subjectPublicKey bits of a P-256 key: the uncompressed point 04 || X || Y (RFC 5480 §2.2). */
function ecPoint(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.x === undefined || jwk.y === undefined) throw new Error('an EC public key without coordinates');
  return Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
}

/** RFC 7468 §2: base64 in lines of 64 between the labels. */
function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
