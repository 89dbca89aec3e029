import { describe, expect, it } from 'vitest';
import {
  etagForEncoding,
  isEntityTag,
  listMatches,
  makeEtag,
  strongMatch,
  weakMatch,
} from '../../src/http/etag.js';

describe('makeEtag', () => {
  // [size, mtime ns, extra, expected tag]
  const cases: Array<[number, bigint, string | undefined, string]> = [
    [0, 0n, undefined, '"0-0"'],
    [0x1a2b, 0x3c4dn, undefined, '"1a2b-3c4d"'],
    [1234, 1_700_000_000_123_456_789n, undefined, '"4d2-17979cfe3d85cd15"'],
    [10, 1n, '', '"a-1"'],
    [10, 1n, 'sha1:AbC+/=', '"a-1.sha1:AbC+/="'],
    [10, -1n, undefined, '"a-ffffffffffffffff"'], // before 1970: no "-" sign inside the tag
    [10, 1n, 'a"b c', '"a-1.a%22b%20c"'], // the quote and SP are not etagc
    [10, 1n, 'x-y.z%', '"a-1.x%2Dy%2Ez%25"'], // separators and "%" escaped
    [10, 1n, 'é', '"a-1.%C3%A9"'],
  ];
  it.each(cases)('(%d, %d, %j) -> %s', (size, mtimeNs, extra, expected) => {
    const tag = makeEtag(size, mtimeNs, extra);
    expect(tag).toBe(expected);
    expect(isEntityTag(tag)).toBe(true);
    expect(tag).toMatch(/^"[\x21\x23-\x7e]*"$/);
  });

  it('changes with the size, the mtime and the extra discriminator', () => {
    const tags = [makeEtag(1, 2n), makeEtag(2, 2n), makeEtag(1, 3n), makeEtag(1, 2n, 'x'), makeEtag(1, 2n, 'y')];
    expect(new Set(tags).size).toBe(tags.length);
  });

  it.each([-1, 1.5, Number.NaN, 2 ** 53])('refuses the size %d', (size) => {
    expect(() => makeEtag(size, 0n)).toThrow(RangeError);
  });
});

describe('etagForEncoding', () => {
  const cases: Array<[string, string, string]> = [
    ['"abc"', 'br', '"abc-br"'],
    ['"abc"', 'gzip', '"abc-gzip"'],
    ['"abc"', 'GZIP', '"abc-gzip"'], // codings are case-insensitive; one tag per coding
    ['W/"abc"', 'gzip', 'W/"abc-gzip"'], // weak stays weak
    ['""', 'br', '"-br"'],
  ];
  it.each(cases)('%s + %s -> %s', (etag, encoding, expected) => {
    expect(etagForEncoding(etag, encoding)).toBe(expected);
  });

  it('never collides with the identity tag of another variant', () => {
    expect(etagForEncoding(makeEtag(1, 2n), 'br')).not.toBe(makeEtag(1, 2n, 'br'));
    expect(etagForEncoding(makeEtag(1, 2n, 'x'), 'br')).not.toBe(makeEtag(1, 2n, 'x-br'));
    expect(etagForEncoding(makeEtag(1, 2n), 'gzip')).not.toBe(etagForEncoding(makeEtag(1, 2n), 'br'));
  });

  it.each(['abc', '"abc', 'W/abc', ''])('refuses %j, which is not an entity-tag', (etag) => {
    expect(() => etagForEncoding(etag, 'br')).toThrow(TypeError);
  });
});

describe('strongMatch and weakMatch (the table of RFC 9110 §8.8.3.2, and malformed tags)', () => {
  // [a, b, strong, weak]
  const cases: Array<[string, string, boolean, boolean]> = [
    ['W/"1"', 'W/"1"', false, true],
    ['W/"1"', 'W/"2"', false, false],
    ['W/"1"', '"1"', false, true],
    ['"1"', '"1"', true, true],
    ['"1"', '"2"', false, false],
    ['"a"', '"A"', false, false], // opaque-tags compare character by character
    ['1', '1', false, false], // unquoted
    ['"1', '"1', false, false],
    ['', '', false, false],
    ['w/"1"', '"1"', false, false], // the weak prefix is case-sensitive
    ['"a b"', '"a b"', false, false], // SP is not etagc
  ];
  it.each(cases)('%s vs %s: strong %s, weak %s', (a, b, strong, weak) => {
    expect(strongMatch(a, b)).toBe(strong);
    expect(strongMatch(b, a)).toBe(strong);
    expect(weakMatch(a, b)).toBe(weak);
    expect(weakMatch(b, a)).toBe(weak);
  });
});

describe('listMatches (If-Match / If-None-Match field values)', () => {
  // [field value, current etag, comparison, expected]
  const cases: Array<[string, string, 'strong' | 'weak', boolean]> = [
    ['*', '"a"', 'strong', true],
    [' * ', '"a"', 'weak', true],
    ['*', 'W/"a"', 'strong', true], // "*" is about existence, not comparison
    ['*, "b"', '"a"', 'weak', false], // "*" inside a list is not a member
    ['*, "a"', '"a"', 'weak', true],
    ['"a"', '"a"', 'strong', true],
    ['"b", "a"', '"a"', 'strong', true],
    ['"b","a"', '"a"', 'strong', true],
    [' "b" ,\t"a" ', '"a"', 'strong', true],
    ['"b", "c"', '"a"', 'weak', false],
    ['W/"a"', '"a"', 'strong', false],
    ['W/"a"', '"a"', 'weak', true],
    ['"a"', 'W/"a"', 'strong', false],
    ['"a"', 'W/"a"', 'weak', true],
    ['W/"a"', 'W/"a"', 'strong', false],
    ['W/"a"', 'W/"a"', 'weak', true],
    ['"a,b"', '"a,b"', 'strong', true], // an opaque-tag may contain commas
    ['"a,b"', '"b"', 'strong', false],
    ['"a,b"', '"a"', 'strong', false],
    ['"ab"', '"a"', 'strong', false],
    ['"a"', '"ab"', 'strong', false],
    ['"A"', '"a"', 'weak', false],
    ['a', '"a"', 'weak', false], // unquoted member
    ['a, "a"', '"a"', 'weak', true], // malformed member skipped
    ['"a" junk, "b"', '"a"', 'weak', false], // a tag followed by junk is malformed
    ['"a" junk, "b"', '"b"', 'weak', true],
    ['"a b", "c"', '"c"', 'weak', true],
    ['"a b"', '"a b"', 'weak', false],
    ['"unterminated', '"unterminated"', 'weak', false],
    ['"x", "unterminated', '"x"', 'weak', true],
    [',,, "a" ,,', '"a"', 'strong', true], // empty list elements
    ['', '"a"', 'weak', false],
    ['w/"a"', '"a"', 'weak', false],
    ['W/ "a"', '"a"', 'weak', false],
    ['"a"\t', '"a"', 'strong', true],
  ];
  it.each(cases)('%j against %s (%s) -> %s', (header, etag, comparison, expected) => {
    expect(listMatches(header, etag, comparison)).toBe(expected);
  });
});

describe('listMatches work is bounded (guards against quadratic scans)', () => {
  const etag = '"5f3a-17f0c3e9a1b2c3d4"';
  const manyTags = Array.from({ length: 1500 }, (_, i) => `"${i.toString(16)}-17f0c3e9a1b2c3d4"`).join(', ');
  const manyWeakTags = Array.from({ length: 1500 }, (_, i) => `W/"${i.toString(16)}-17f0c3e9a1b2c3d4"`).join(',');
  // [shape, evaluations, field value]: the 1,500-tag list and the 50,000 spaces run 1,000 times,
  // the other hostile shapes 100 times; a quadratic scan of 50,000 characters misses either bound
  // by orders of magnitude.
  const hostile: Array<[string, number, string]> = [
    ['1,500 tags, none matching', 1000, manyTags],
    ['1,500 weak tags, none matching', 1000, manyWeakTags],
    ['50,000 spaces', 1000, ' '.repeat(50_000)],
    ['50,000 commas', 100, ','.repeat(50_000)],
    ['an unterminated tag full of commas', 100, `"${'a,'.repeat(25_000)}`],
    ['many quoted commas', 100, '",'.repeat(25_000)],
    ['tags followed by junk', 100, '"a" x,'.repeat(8_000)],
    ['W/ prefixes without tags', 100, 'W/'.repeat(25_000)],
  ];
  it.each(hostile)('%s: %i evaluations within 5 s', (_name, evaluations, header) => {
    let matches = 0;
    const started = performance.now();
    for (let i = 0; i < evaluations / 2; i++) {
      if (listMatches(header, etag, 'weak')) matches++;
      if (listMatches(header, etag, 'strong')) matches++;
    }
    expect(performance.now() - started).toBeLessThan(5000); // generous: a quadratic scan would take minutes
    expect(matches).toBe(0);
  });

  it('finds the last of 1,500 tags', () => {
    expect(listMatches(`${manyTags}, ${etag}`, etag, 'strong')).toBe(true);
  });
});
