import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  bitString,
  boolean,
  explicit,
  generalizedTime,
  ia5String,
  implicitPrimitive,
  integer,
  nullValue,
  octetString,
  oid,
  printableString,
  sequence,
  set,
  utcTime,
  utf8String,
  x509Time,
} from '../../src/tls/der.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('DER encodings (X.690)', () => {
  // [what, encoding, expected hex]
  const cases: Array<[string, () => Buffer, string]> = [
    ['INTEGER 0', () => integer(0), '020100'],
    ['INTEGER 127', () => integer(127), '02017f'],
    ['INTEGER 128 gets a leading zero octet', () => integer(128), '02020080'],
    ['INTEGER 256', () => integer(256), '02020100'],
    ['INTEGER 2 (X.509 v3)', () => integer(2), '020102'],
    ['INTEGER from bytes drops redundant zeros', () => integer(Buffer.from('00007f', 'hex')), '02017f'],
    ['INTEGER from bytes keeps one zero before a high bit', () => integer(Buffer.from('0000ff01', 'hex')), '020300ff01'],
    ['INTEGER from no bytes is 0', () => integer(Buffer.alloc(0)), '020100'],
    ['OID sha256WithRSAEncryption', () => oid('1.2.840.113549.1.1.11'), '06092a864886f70d01010b'],
    ['OID ecdsa-with-SHA256', () => oid('1.2.840.10045.4.3.2'), '06082a8648ce3d040302'],
    ['OID commonName', () => oid('2.5.4.3'), '0603550403'],
    ['OID with a first arc of 2 above 39', () => oid('2.100.3'), '0603813403'],
    ['BOOLEAN TRUE is 0xff', () => boolean(true), '0101ff'],
    ['BOOLEAN FALSE', () => boolean(false), '010100'],
    ['NULL', () => nullValue(), '0500'],
    ['UTF8String', () => utf8String('é'), '0c02c3a9'],
    ['PrintableString', () => printableString('US'), '13025553'],
    ['IA5String', () => ia5String('localhost'), '16096c6f63616c686f7374'],
    ['OCTET STRING', () => octetString(Buffer.from([1, 2])), '04020102'],
    ['BIT STRING of whole bytes', () => bitString(Buffer.from([0xab])), '030200ab'],
    ['BIT STRING, one named bit (digitalSignature)', () => bitString(Buffer.from([0x80]), 7), '03020780'],
    ['SEQUENCE', () => sequence(integer(1), nullValue()), '30050201010500'],
    ['empty SEQUENCE', () => sequence(), '3000'],
    ['SET OF sorts its elements', () => set(integer(2), integer(1)), '3106020101020102'],
    ['[0] EXPLICIT', () => explicit(0, integer(2)), 'a003020102'],
    ['[3] EXPLICIT', () => explicit(3, sequence()), 'a3023000'],
    ['[2] IMPLICIT (dNSName)', () => implicitPrimitive(2, Buffer.from('a')), '820161'],
    ['[7] IMPLICIT (iPAddress)', () => implicitPrimitive(7, Buffer.from([127, 0, 0, 1])), '87047f000001'],
    ['UTCTime', () => utcTime(new Date('2025-06-01T12:34:56.789Z')), '170d3235303630313132333435365a'],
    ['GeneralizedTime', () => generalizedTime(new Date('2050-01-02T03:04:05Z')), '180f32303530303130323033303430355a'],
    ['x509Time: UTCTime through 2049', () => x509Time(new Date('2049-12-31T23:59:59Z')), '170d3439313233313233353935395a'],
    ['x509Time: GeneralizedTime from 2050', () => x509Time(new Date('2050-01-01T00:00:00Z')), '180f32303530303130313030303030305a'],
  ];
  it.each(cases)('%s', (_what, encode, expected) => {
    expect(hex(encode())).toBe(expected);
  });

  // [content length, expected length octets]
  const lengths: Array<[number, string]> = [
    [0, '00'],
    [127, '7f'],
    [128, '8180'],
    [255, '81ff'],
    [256, '820100'],
    [65_536, '83010000'],
  ];
  it.each(lengths)('length %i is written as %s', (length, expected) => {
    expect(hex(octetString(Buffer.alloc(length))).slice(2, 2 + expected.length)).toBe(expected);
  });

  // [what, encoding that must refuse]
  const invalid: Array<[string, () => Buffer]> = [
    ['negative INTEGER', () => integer(-1)],
    ['fractional INTEGER', () => integer(1.5)],
    ['OID with one arc', () => oid('1')],
    ['OID with a letter', () => oid('1.2.x')],
    ['OID with a second arc above 39 under 1', () => oid('1.40')],
    ['OID with a first arc above 2', () => oid('3.1')],
    ['PrintableString with @', () => printableString('a@b')],
    ['IA5String with non-ASCII', () => ia5String('é')],
    ['UTCTime after 2049', () => utcTime(new Date('2050-01-01T00:00:00Z'))],
    ['BIT STRING with 8 unused bits', () => bitString(Buffer.from([0]), 8)],
    ['context tag 31', () => explicit(31, sequence())],
  ];
  it.each(invalid)('refuses %s', (_what, encode) => {
    expect(encode).toThrow(RangeError);
  });

  it('nests into a structure openssl reads back in strict DER', () => {
    const der = sequence(
      explicit(0, integer(2)),
      integer(Buffer.from('80'.repeat(16), 'hex')),
      set(sequence(oid('2.5.4.3'), utf8String('serve-dir'))),
      x509Time(new Date('2049-12-31T23:59:59Z')),
      bitString(Buffer.alloc(300, 1)),
      implicitPrimitive(7, Buffer.from([127, 0, 0, 1])),
    );
    const parsed = execFileSync('openssl', ['asn1parse', '-inform', 'DER'], { input: der, encoding: 'utf8' });
    expect(parsed).toContain('INTEGER           :02');
    expect(parsed).toContain('INTEGER           :80808080808080808080808080808080');
    expect(parsed).toContain('commonName');
    expect(parsed).toContain('UTF8STRING        :serve-dir');
    expect(parsed).toContain('UTCTIME           :491231235959Z');
    expect(parsed).toContain('BIT STRING');
    expect(parsed).toContain('cont [ 7 ]');
    expect(parsed).not.toContain('error');
  });
});
