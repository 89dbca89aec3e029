/**
 * The few ASN.1 DER encodings an X.509 certificate needs (ITU-T X.690 §8 and
 * §10), as pure functions from values to bytes. Each returns a complete TLV
 * (tag, length, value), so a structure is written as nested calls in the
 * order of its ASN.1 definition.
 */

/** X.690 §8.1.3: short form below 128, else 0x80 | count of big-endian length bytes. */
function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV with the given identifier octet. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

export function sequence(...items: Uint8Array[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

/** X.690 §11.6: DER orders the elements of a SET OF by their encodings. */
export function set(...items: Uint8Array[]): Buffer {
  return tlv(0x31, Buffer.concat([...items].sort(Buffer.compare)));
}

/** X.690 §11.1: DER writes TRUE as 0xff. */
export function boolean(value: boolean): Buffer {
  return tlv(0x01, Buffer.from([value ? 0xff : 0x00]));
}

/**
 * A non-negative INTEGER: a safe integer, or big-endian magnitude bytes (a
 * serial number). X.690 §8.3.2: no redundant leading zero octets, and one zero
 * octet first when the top bit is set, or the value would read as negative.
 */
export function integer(value: number | Uint8Array): Buffer {
  let bytes: Buffer;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a non-negative safe integer: ${value}`);
    const hex = value.toString(16);
    bytes = Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
  } else {
    bytes = Buffer.from(value);
  }
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  bytes = bytes.subarray(start);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

/** X.690 §8.19: the first two arcs share one subidentifier; each is base 128, high bit marks "more". */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((arc) => {
    if (!/^\d+$/.test(arc)) throw new RangeError(`not an object identifier: ${dotted}`);
    return BigInt(arc);
  });
  const [first, second, ...rest] = arcs;
  if (first === undefined || second === undefined || first > 2n || (first < 2n && second > 39n)) {
    throw new RangeError(`not an object identifier: ${dotted}`);
  }
  const bytes: number[] = [];
  for (const arc of [first * 40n + second, ...rest]) {
    const groups: number[] = [Number(arc & 0x7fn)];
    for (let more = arc >> 7n; more > 0n; more >>= 7n) groups.unshift(Number(more & 0x7fn) | 0x80);
    bytes.push(...groups);
  }
  return tlv(0x06, Buffer.from(bytes));
}

export function nullValue(): Buffer {
  return Buffer.from([0x05, 0x00]);
}

export function utf8String(text: string): Buffer {
  return tlv(0x0c, Buffer.from(text, 'utf8'));
}

/** The PrintableString alphabet of X.680 §41.4. */
export function printableString(text: string): Buffer {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) throw new RangeError(`not a PrintableString: ${JSON.stringify(text)}`);
  return tlv(0x13, Buffer.from(text, 'latin1'));
}

export function ia5String(text: string): Buffer {
  if (!/^[\x00-\x7f]*$/.test(text)) throw new RangeError(`not an IA5String: ${JSON.stringify(text)}`);
  return tlv(0x16, Buffer.from(text, 'latin1'));
}

/** BIT STRING of whole bytes, or with `unusedBits` low bits of the last byte unused (X.690 §8.6). */
export function bitString(bytes: Uint8Array, unusedBits = 0): Buffer {
  if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0)) {
    throw new RangeError(`invalid unused bit count: ${unusedBits}`);
  }
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

export function octetString(bytes: Uint8Array): Buffer {
  return tlv(0x04, bytes);
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** X.690 §11.8 / RFC 5280 §4.1.2.5.1: YYMMDDHHMMSSZ, in UTC, whole seconds. */
export function utcTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 2049) throw new RangeError(`UTCTime covers 1950 to 2049, not ${year}`);
  return tlv(0x17, Buffer.from(`${pad(year % 100)}${timeOfYear(date)}Z`, 'latin1'));
}

/** X.690 §11.7 / RFC 5280 §4.1.2.5.2: YYYYMMDDHHMMSSZ, in UTC, whole seconds. */
export function generalizedTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`GeneralizedTime covers years 0 to 9999, not ${year}`);
  return tlv(0x18, Buffer.from(`${pad(year, 4)}${timeOfYear(date)}Z`, 'latin1'));
}

function timeOfYear(date: Date): string {
  return `${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}`;
}

/** RFC 5280 §4.1.2.5: certificate validity dates MUST be UTCTime through 2049 and GeneralizedTime from 2050. */
export function x509Time(date: Date): Buffer {
  return date.getUTCFullYear() < 2050 ? utcTime(date) : generalizedTime(date);
}

/** [n] EXPLICIT: a constructed context-specific tag wrapping one complete encoding. */
export function explicit(tagNumber: number, inner: Uint8Array): Buffer {
  return tlv(0xa0 | contextTagNumber(tagNumber), inner);
}

/** [n] IMPLICIT over a primitive type: the context tag replaces the type's own (its content octets stay). */
export function implicitPrimitive(tagNumber: number, content: Uint8Array): Buffer {
  return tlv(0x80 | contextTagNumber(tagNumber), content);
}

function contextTagNumber(tagNumber: number): number {
  // Tag numbers above 30 need the multi-byte form, which no certificate field uses.
  if (!Number.isInteger(tagNumber) || tagNumber < 0 || tagNumber > 30) throw new RangeError(`unsupported tag number: ${tagNumber}`);
  return tagNumber;
}
