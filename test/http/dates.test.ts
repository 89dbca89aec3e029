import { describe, expect, it } from 'vitest';
import { formatHttpDate, lastModifiedFromMtime, parseHttpDate } from '../../src/http/dates.js';

const NOW_2025 = Date.UTC(2025, 5, 1);

describe('parseHttpDate accepts the three formats of RFC 9110 §5.6.7', () => {
  // [value, expected instant as ISO 8601]
  const valid: Array<[string, string]> = [
    ['Sun, 06 Nov 1994 08:49:37 GMT', '1994-11-06T08:49:37.000Z'], // IMF-fixdate
    ['Sunday, 06-Nov-94 08:49:37 GMT', '1994-11-06T08:49:37.000Z'], // rfc850-date
    ['Sun Nov  6 08:49:37 1994', '1994-11-06T08:49:37.000Z'], // asctime-date, SP DIGIT day
    ['Sun Nov 06 08:49:37 1994', '1994-11-06T08:49:37.000Z'], // asctime-date, 2DIGIT day
    ['Wed Nov 16 08:49:37 1994', '1994-11-16T08:49:37.000Z'],
    ['  Sun, 06 Nov 1994 08:49:37 GMT\t', '1994-11-06T08:49:37.000Z'], // OWS around the value
    ['Thu, 01 Jan 1970 00:00:00 GMT', '1970-01-01T00:00:00.000Z'],
    ['Wed, 31 Dec 1969 23:59:59 GMT', '1969-12-31T23:59:59.000Z'],
    ['Thu, 29 Feb 2024 00:00:00 GMT', '2024-02-29T00:00:00.000Z'], // leap year
    ['Tue, 29 Feb 2000 12:00:00 GMT', '2000-02-29T12:00:00.000Z'], // divisible by 400
    ['Sat, 31 Dec 2016 23:59:60 GMT', '2016-12-31T23:59:59.000Z'], // leap second, read as :59
    ['Mon, 06 Nov 1994 08:49:37 GMT', '1994-11-06T08:49:37.000Z'], // wrong weekday: accepted
    ['Sat, 01 Jan 0000 00:00:00 GMT', '0000-01-01T00:00:00.000Z'], // years 0-99 are not 1900-1999
    ['Fri, 31 Dec 0099 23:59:59 GMT', '0099-12-31T23:59:59.000Z'],
    ['Fri, 31 Dec 9999 23:59:59 GMT', '9999-12-31T23:59:59.000Z'],
    ['Wednesday, 09-Jun-21 10:18:14 GMT', '2021-06-09T10:18:14.000Z'], // longest day-name
  ];
  it.each(valid)('%j', (value, iso) => {
    expect(parseHttpDate(value, NOW_2025)).toBe(Date.parse(iso));
  });
});

describe('parseHttpDate rejects anything else', () => {
  const invalid: string[] = [
    '',
    '   ',
    'garbage',
    '1994-11-06T08:49:37Z', // ISO 8601 is not an HTTP-date
    'Sun, 06 Nov 1994 08:49:37 +0000',
    'Sun, 06 Nov 1994 08:49:37 UTC',
    'Sun, 06 Nov 1994 08:49:37 gmt', // case-sensitive
    'sun, 06 nov 1994 08:49:37 GMT',
    'Sun, 32 Nov 1994 08:49:37 GMT', // day out of range
    'Sun, 31 Nov 1994 08:49:37 GMT', // November has 30 days
    'Sun, 00 Nov 1994 08:49:37 GMT',
    'Wed, 29 Feb 2023 08:49:37 GMT', // not a leap year
    'Thu, 29 Feb 1900 08:49:37 GMT', // divisible by 100, not 400
    'Sun, 06 Nov 1994 24:00:00 GMT',
    'Sun, 06 Nov 1994 08:60:37 GMT',
    'Sun, 06 Nov 1994 08:49:61 GMT',
    'Sun, 06 Nov 1994 08:49:60 GMT', // a leap second only ends a day
    'Sun, 6 Nov 1994 08:49:37 GMT', // day is 2DIGIT
    'Sun, 06 Nov 94 08:49:37 GMT', // IMF-fixdate year is 4DIGIT
    'Sun,  06 Nov 1994 08:49:37 GMT', // exactly one SP
    'Sun, 06 Nov 1994 8:49:37 GMT',
    'Sun, 06 Nov 1994 08-49-37 GMT',
    'Sun, 06 Xyz 1994 08:49:37 GMT',
    'Fun, 06 Nov 1994 08:49:37 GMT',
    'Sun, +6 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 08:49:37 GMTx',
    'Sun, 06 Nov 1994 08:49:37 GMT x', // trailing garbage
    'Sun, 06 Nov 1994 08:49:37 GMT, Mon, 07 Nov 1994 08:49:37 GMT', // a list of dates
    'Sun, 06 Nov 1994 08:49:37 GMT\n', // only SP and HTAB are OWS
    'Sunday, 06-Nov-1994 08:49:37 GMT', // rfc850-date year is 2DIGIT
    'Sun, 06-Nov-94 08:49:37 GMT', // rfc850-date needs the long day-name
    'Sunday, 06 Nov 1994 08:49:37 GMT',
    'Someday, 06-Nov-94 08:49:37 GMT',
    'Sunday, 31-Jun-94 08:49:37 GMT',
    'Sun Nov 6 08:49:37 1994', // asctime needs SP SP DIGIT or 2DIGIT
    'Sun Nov  6 08:49:37 94',
    'Sun Nov  6 08:49:37 1994 GMT',
    'Sun Nov 31 08:49:37 1994',
    'Sun Nov  0 08:49:37 1994',
  ];
  it.each(invalid)('%j', (value) => {
    expect(parseHttpDate(value, NOW_2025)).toBeUndefined();
  });
});

describe('rfc850-date two-digit years (RFC 9110 §5.6.7: more than 50 years ahead means the past century)', () => {
  // [two-digit year, current year, expected year]
  const years: Array<[string, number, number]> = [
    ['94', 2025, 1994],
    ['25', 2025, 2025],
    ['00', 2025, 2000],
    ['75', 2025, 2075], // exactly 50 years ahead: still the future
    ['76', 2025, 1976], // 51 years ahead: the past
    ['10', 2080, 2110], // 30 years ahead of 2080
    ['31', 2080, 2031], // 49 years back
    ['30', 2080, 2130], // 50 years ahead
  ];
  it.each(years)('"%s" in %i is %i', (twoDigits, currentYear, expectedYear) => {
    const now = Date.UTC(currentYear, 5, 1);
    const parsed = parseHttpDate(`Monday, 01-Jan-${twoDigits} 00:00:00 GMT`, now);
    expect(parsed).toBeDefined();
    expect(new Date(parsed!).getUTCFullYear()).toBe(expectedYear);
  });
});

describe('formatHttpDate writes IMF-fixdate', () => {
  const cases: Array<[number, string]> = [
    [0, 'Thu, 01 Jan 1970 00:00:00 GMT'],
    [784_111_777_000, 'Sun, 06 Nov 1994 08:49:37 GMT'],
    [784_111_777_999, 'Sun, 06 Nov 1994 08:49:37 GMT'], // milliseconds floored
    [-1, 'Wed, 31 Dec 1969 23:59:59 GMT'],
    [Date.UTC(2024, 1, 29, 23, 5, 9), 'Thu, 29 Feb 2024 23:05:09 GMT'],
    [Date.parse('0000-01-01T00:00:00Z'), 'Sat, 01 Jan 0000 00:00:00 GMT'],
    [Date.parse('0999-03-04T05:06:07Z'), 'Mon, 04 Mar 0999 05:06:07 GMT'],
    [Date.parse('9999-12-31T23:59:59.999Z'), 'Fri, 31 Dec 9999 23:59:59 GMT'],
  ];
  it.each(cases)('%i -> %s', (ms, expected) => {
    expect(formatHttpDate(ms)).toBe(expected);
  });

  it('stays correct when alternating between seconds (the cache never answers for another second)', () => {
    for (let i = 0; i < 4; i++) {
      expect(formatHttpDate(0)).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
      expect(formatHttpDate(1000)).toBe('Thu, 01 Jan 1970 00:00:01 GMT');
      expect(formatHttpDate(999)).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
    }
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Date.parse('-000001-12-31T23:59:59Z'), Date.parse('+010000-01-01T00:00:00Z')])(
    'throws RangeError for %d, which no 4DIGIT year can write',
    (ms) => {
      expect(() => formatHttpDate(ms)).toThrow(RangeError);
    },
  );

  it('round-trips through parseHttpDate for dates across the whole 4DIGIT range', () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const min = Date.parse('0000-01-01T00:00:00Z');
    const max = Date.parse('9999-12-31T23:59:59Z');
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor(min + random() * (max - min));
      expect(parseHttpDate(formatHttpDate(ms))).toBe(Math.floor(ms / 1000) * 1000);
    }
  });
});

describe('lastModifiedFromMtime (RFC 9110 §8.8.2.1)', () => {
  // [mtime ms, now ms, Last-Modified ms]
  const cases: Array<[number, number, number]> = [
    [1500.7, 10_000, 1000], // whole seconds
    [10_000, 10_000, 10_000],
    [20_000, 10_500, 10_000], // a file dated in the future is sent as "now"
    [-1500, 10_000, -2000],
  ];
  it.each(cases)('mtime %d at %d -> %d', (mtime, now, expected) => {
    expect(lastModifiedFromMtime(mtime, now)).toBe(expected);
  });
});

describe('parseHttpDate work is bounded', () => {
  it('answers 400 hostile values of 50,000 characters within 5 s', () => {
    const hostile = [' '.repeat(50_000), `Sunday,${' '.repeat(50_000)}`, ','.repeat(50_000), `${'9'.repeat(50_000)} GMT`];
    const started = performance.now();
    for (let i = 0; i < 100; i++) {
      for (const value of hostile) expect(parseHttpDate(value)).toBeUndefined();
    }
    expect(performance.now() - started).toBeLessThan(5000); // generous: a quadratic scan would take minutes
  });
});
