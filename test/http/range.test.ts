import { describe, expect, it } from 'vitest';
import {
  contentRange,
  DEFAULT_MAX_RANGES,
  parseRangeHeader,
  unsatisfiedContentRange,
  type RangeDecision,
} from '../../src/http/range.js';

type Expected = 'full' | 'unsatisfiable' | Array<[number, number]>;

function decision(expected: Expected): RangeDecision {
  if (expected === 'full' || expected === 'unsatisfiable') return { kind: expected };
  return { kind: 'ranges', ranges: expected.map(([start, end]) => ({ start, end })) };
}

const TWO_POW_63 = '9223372036854775808';
const TWO_POW_63_MINUS_1 = '9223372036854775807';
const TWO_POW_53_PLUS_1 = '9007199254740993'; // not representable as a double
const TWO_POW_53 = '9007199254740992';

// [Range header, size, expected]
type Row = [string | undefined, number, Expected];

describe('parseRangeHeader: forms of RFC 9110 §14.1.2', () => {
  const rows: Row[] = [
    [undefined, 10_000, 'full'],
    ['bytes=0-499', 10_000, [[0, 499]]],
    ['bytes=500-999', 10_000, [[500, 999]]],
    ['bytes=-500', 10_000, [[9500, 9999]]], // suffix
    ['bytes=9500-', 10_000, [[9500, 9999]]], // open-ended
    ['bytes=0-0', 10_000, [[0, 0]]],
    ['bytes=9999-', 10_000, [[9999, 9999]]],
    ['bytes=9999-9999', 10_000, [[9999, 9999]]],
    ['bytes=0-99999', 10_000, [[0, 9999]]], // last-pos clamped
    ['bytes=-99999', 10_000, [[0, 9999]]], // suffix longer than the file
    ['bytes=-10000', 10_000, [[0, 9999]]],
    ['bytes=0-', 1, [[0, 0]]],
    ['bytes=00005-0009', 10_000, [[5, 9]]], // leading zeros
  ];
  it.each(rows)('%j of %i bytes -> %j', (header, size, expected) => {
    expect(parseRangeHeader(header, size)).toEqual(decision(expected));
  });
});

describe('parseRangeHeader: syntax (invalid -> whole file)', () => {
  const rows: Row[] = [
    ['BYTES=0-1', 100, [[0, 1]]], // unit is case-insensitive (§14.1)
    ['Bytes=0-1', 100, [[0, 1]]],
    [' bytes=0-1 ', 100, [[0, 1]]],
    ['bytes= 0-1', 100, [[0, 1]]],
    ['bytes=0-1, 3-4', 100, [[0, 1], [3, 4]]],
    ['bytes=0-1 ,\t3-4 ', 100, [[0, 1], [3, 4]]],
    ['bytes=0-1,,3-4', 100, [[0, 1], [3, 4]]], // empty list element
    ['bytes=,0-1', 100, [[0, 1]]],
    ['items=0-1', 100, 'full'], // unknown unit
    ['bytesx=0-1', 100, 'full'],
    ['bytes =0-1', 100, 'full'],
    ['bytes 0-1', 100, 'full'],
    ['bytes:0-1', 100, 'full'],
    ['=0-1', 100, 'full'],
    ['', 100, 'full'],
    ['bytes=', 100, 'full'], // range-set needs a range-spec
    ['bytes=,', 100, 'full'],
    ['bytes= , ,', 100, 'full'],
    ['bytes=5-1', 100, 'full'], // last-pos < first-pos is invalid (§14.1.1)
    ['bytes=0-9,5-1', 100, 'full'], // one invalid spec voids the header
    ['bytes=0-9,x', 100, 'full'],
    ['bytes=0 -1', 100, 'full'],
    ['bytes=0- 1', 100, 'full'],
    ['bytes=0-1-2', 100, 'full'],
    ['bytes=0-1 2-3', 100, 'full'],
    ['bytes=a-b', 100, 'full'],
    ['bytes=1', 100, 'full'],
    ['bytes=-', 100, 'full'],
    ['bytes=--1', 100, 'full'],
    ['bytes=+1-2', 100, 'full'],
    ['bytes=0x10-20', 100, 'full'],
    ['bytes=0-1;', 100, 'full'],
    ['bytes=1.5-2', 100, 'full'],
    ['bytes=０-1', 100, 'full'], // a fullwidth digit is not DIGIT
  ];
  it.each(rows)('%j of %i bytes -> %j', (header, size, expected) => {
    expect(parseRangeHeader(header, size)).toEqual(decision(expected));
  });
});

describe('parseRangeHeader: satisfiability (§14.1.2, 416 when nothing is left)', () => {
  const rows: Row[] = [
    ['bytes=-0', 10_000, 'unsatisfiable'], // suffix of zero bytes
    ['bytes=10000-', 10_000, 'unsatisfiable'], // first-pos at the end
    ['bytes=10000-20000', 10_000, 'unsatisfiable'],
    ['bytes=20000-, -0', 10_000, 'unsatisfiable'],
    ['bytes=20000-30000,0-9', 10_000, [[0, 9]]], // unsatisfiable members dropped
    ['bytes=-0,0-9', 10_000, [[0, 9]]],
    ['bytes=0-9,-0,10000-', 10_000, [[0, 9]]],
    // An empty representation: int-ranges select nothing; a non-zero suffix is satisfiable
    // but names no byte, so the (empty) file is sent whole (§14.2 allows ignoring Range).
    ['bytes=0-', 0, 'unsatisfiable'],
    ['bytes=0-0', 0, 'unsatisfiable'],
    ['bytes=-0', 0, 'unsatisfiable'],
    ['bytes=-1', 0, 'full'],
    ['bytes=0-,-5', 0, 'full'],
    ['bytes=5-1', 0, 'full'], // invalid beats unsatisfiable
  ];
  it.each(rows)('%j of %i bytes -> %j', (header, size, expected) => {
    expect(parseRangeHeader(header, size)).toEqual(decision(expected));
  });
});

describe('parseRangeHeader: several ranges (coalescing, order, abuse)', () => {
  const rows: Row[] = [
    ['bytes=0-0,-1', 10_000, [[0, 0], [9999, 9999]]],
    ['bytes=0-0,-1', 1, 'full'], // both name the only byte: more bytes than the file
    ['bytes=0-0,-1', 2, [[0, 1]]], // adjacent: coalesced
    ['bytes=0-499,200-799', 10_000, [[0, 799]]], // overlapping
    ['bytes=0-4,5-9', 10_000, [[0, 9]]], // adjacent
    ['bytes=0-4,6-9', 10_000, [[0, 4], [6, 9]]], // a gap: two parts
    ['bytes=500-599,0-99', 10_000, [[500, 599], [0, 99]]], // the client's order is kept (§15.3.7.2)
    ['bytes=500-599,0-99,50-150', 10_000, [[500, 599], [0, 150]]],
    ['bytes=0-99,500-599,50-150', 10_000, [[0, 150], [500, 599]]],
    ['bytes=500-599,0-99,90-550', 10_000, [[0, 599]]], // a bridge merges all three
    ['bytes=900-999,0-9,-50', 1000, [[900, 999], [0, 9]]], // the suffix falls inside the first
    ['bytes=0-,0-', 10_000, 'full'], // sum of ranges exceeds the file
    ['bytes=0-5999,4000-9999', 10_000, 'full'],
    ['bytes=0-4999,4000-8999', 10_000, [[0, 8999]]], // sum equals the size: allowed
    ['bytes=1-1,1-1,1-1', 10_000, [[1, 1]]],
  ];
  it.each(rows)('%j of %i bytes -> %j', (header, size, expected) => {
    expect(parseRangeHeader(header, size)).toEqual(decision(expected));
  });

  const smallRanges = (count: number) => `bytes=${Array.from({ length: count }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(',')}`;

  it(`accepts ${DEFAULT_MAX_RANGES} ranges by default and keeps them apart`, () => {
    const result = parseRangeHeader(smallRanges(DEFAULT_MAX_RANGES), 10_000);
    expect(result.kind === 'ranges' && result.ranges.length).toBe(DEFAULT_MAX_RANGES);
  });

  // [count, maxRanges option, expected kind]
  const limits: Array<[number, number | undefined, RangeDecision['kind']]> = [
    [DEFAULT_MAX_RANGES + 1, undefined, 'full'],
    [300, undefined, 'full'], // CVE-2011-3192 style
    [300, 300, 'ranges'],
    [3, 2, 'full'],
    [2, 2, 'ranges'],
  ];
  it.each(limits)('%i small ranges with maxRanges %s -> %s', (count, maxRanges, kind) => {
    const limit = maxRanges === undefined ? undefined : { maxRanges };
    expect(parseRangeHeader(smallRanges(count), 10_000, limit).kind).toBe(kind);
  });

  it('counts unsatisfiable members against the limit too', () => {
    const header = `bytes=0-1,${Array.from({ length: DEFAULT_MAX_RANGES }, () => '99999-').join(',')}`;
    expect(parseRangeHeader(header, 10_000).kind).toBe('full');
  });

  it('ignores a header of 300 overlapping ranges of the whole file', () => {
    expect(parseRangeHeader(`bytes=${'0-,'.repeat(300)}`, 10_000, { maxRanges: 1000 })).toEqual({ kind: 'full' });
  });
});

describe('parseRangeHeader: numbers past 2^53 keep their meaning', () => {
  const rows: Row[] = [
    [`bytes=${TWO_POW_63}-`, 10_000, 'unsatisfiable'],
    [`bytes=${TWO_POW_63_MINUS_1}-${TWO_POW_63}`, 10_000, 'unsatisfiable'],
    [`bytes=0-${TWO_POW_63}`, 10_000, [[0, 9999]]],
    [`bytes=5-${TWO_POW_53_PLUS_1}`, 10_000, [[5, 9999]]],
    [`bytes=-${TWO_POW_63}`, 10_000, [[0, 9999]]],
    [`bytes=-${'9'.repeat(400)}`, 10_000, [[0, 9999]]],
    [`bytes=${TWO_POW_63}-${TWO_POW_63_MINUS_1}`, 10_000, 'full'], // last < first, exactly
    [`bytes=${TWO_POW_53_PLUS_1}-${TWO_POW_53}`, 10_000, 'full'], // differ only past double precision
    [`bytes=${TWO_POW_53}-${TWO_POW_53_PLUS_1}`, 10_000, 'unsatisfiable'],
    [`bytes=${TWO_POW_53_PLUS_1}-5`, 10_000, 'full'],
    [`bytes=000000000000000000000000005-${TWO_POW_63}`, 10_000, [[5, 9999]]],
    [`bytes=${'0'.repeat(30)}-${'0'.repeat(25)}`, 10, [[0, 0]]], // long but small
    [`bytes=${'9'.repeat(40)}-${'9'.repeat(39)}`, 10, 'full'],
    ['bytes=9007199254740990-', 9_007_199_254_740_991, [[9_007_199_254_740_990, 9_007_199_254_740_990]]],
    ['bytes=-1', 9_007_199_254_740_991, [[9_007_199_254_740_990, 9_007_199_254_740_990]]],
  ];
  it.each(rows)('%j of %i bytes -> %j', (header, size, expected) => {
    expect(parseRangeHeader(header, size)).toEqual(decision(expected));
  });
});

describe('parseRangeHeader: any satisfiable result is well-formed', () => {
  it('returns in-bounds ranges that neither overlap nor touch, for 2,000 random headers', () => {
    let seed = 42;
    const random = (below: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) % below;
    for (let round = 0; round < 2000; round++) {
      const size = random(200);
      const specs = Array.from({ length: 1 + random(6) }, () => {
        const form = random(3);
        if (form === 0) return `-${random(250)}`;
        const first = random(250);
        return form === 1 ? `${first}-` : `${first}-${first + random(100)}`;
      });
      const result = parseRangeHeader(`bytes=${specs.join(',')}`, size);
      if (result.kind !== 'ranges') continue;
      const sorted = [...result.ranges].sort((a, b) => a.start - b.start);
      for (const [index, range] of sorted.entries()) {
        expect(range.start).toBeGreaterThanOrEqual(0);
        expect(range.end).toBeGreaterThanOrEqual(range.start);
        expect(range.end).toBeLessThan(size);
        const next = sorted[index + 1];
        if (next !== undefined) expect(next.start).toBeGreaterThan(range.end + 1);
      }
    }
  });
});

describe('contentRange and unsatisfiedContentRange (§14.4)', () => {
  it('writes "bytes first-last/complete"', () => {
    expect(contentRange({ start: 0, end: 99 }, 1234)).toBe('bytes 0-99/1234');
    expect(contentRange({ start: 1233, end: 1233 }, 1234)).toBe('bytes 1233-1233/1234');
  });
  it('writes "bytes */complete" for a 416', () => {
    expect(unsatisfiedContentRange(1234)).toBe('bytes */1234');
    expect(unsatisfiedContentRange(0)).toBe('bytes */0');
  });
});

describe('parseRangeHeader work is bounded (100 KB headers)', () => {
  const hostile: Array<[string, string, RangeDecision['kind']]> = [
    ['25,000 tiny ranges', `bytes=${'0-0,'.repeat(25_000)}`, 'full'],
    ['100,000 spaces, then a range', `bytes=${' '.repeat(100_000)}0-1`, 'ranges'],
    ['100,000 commas', `bytes=${','.repeat(100_000)}`, 'full'],
    ['two 50,000-digit positions', `bytes=${'9'.repeat(50_000)}-${'9'.repeat(50_000)}`, 'unsatisfiable'],
    ['a last-pos of 100,000 zeros', `bytes=1-${'0'.repeat(100_000)}`, 'full'],
    ['100,000 dashes', `bytes=${'-'.repeat(100_000)}`, 'full'],
    ['an unknown unit of 100,000 characters', `${'x'.repeat(100_000)}=0-1`, 'full'],
  ];
  it.each(hostile)('%s: 100 evaluations within 5 s', (_name, header, kind) => {
    const kinds = new Set<string>();
    const started = performance.now();
    for (let i = 0; i < 100; i++) kinds.add(parseRangeHeader(header, 10_000).kind);
    expect(performance.now() - started).toBeLessThan(5000); // generous: a quadratic scan would take minutes
    expect([...kinds]).toEqual([kind]);
  });
});
