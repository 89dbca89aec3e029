// HTTP-date (RFC 9110 §5.6.7): one format to send, three to accept.
//
//   IMF-fixdate  Sun, 06 Nov 1994 08:49:37 GMT   the only one a sender may generate
//   rfc850-date  Sunday, 06-Nov-94 08:49:37 GMT  obsolete, two-digit year
//   asctime-date Sun Nov  6 08:49:37 1994        obsolete, no zone (always GMT)
//
// "A recipient that parses a timestamp value in an HTTP field MUST accept all three
// HTTP-date formats." The grammar is case-sensitive (%s"Jan", %s"GMT") and has exactly one
// SP between fields, so each format is read at fixed offsets: no regular expression, no
// backtracking, constant work after trimming.
//
// Decisions a reader might look for:
// - The day-name is checked for spelling but not against the date. RFC 5322 §3.3, which
//   §5.6.7 borrows its semantics from, puts "MUST be the day implied by the date" on the
//   generator; the date itself is unambiguous, and Go and nginx read it the same way.
// - Day-of-month is checked against the month (no 31 Apr, 29 Feb only in leap years).
// - A leap second (23:59:60, which the grammar allows) is read as 23:59:59, the last second
//   POSIX time can name: rounding it into the next day would make a file modified at
//   00:00:00 look unmodified since.

import { isOws } from './whitespace.js';

const DAY_NAMES: readonly string[] = 'Sun Mon Tue Wed Thu Fri Sat'.split(' ');
const LONG_DAY_NAMES: readonly string[] = 'Sunday Monday Tuesday Wednesday Thursday Friday Saturday'.split(' ');
const MONTH_NAMES: readonly string[] = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split(' ');

const MS_PER_DAY = 86_400_000;
/** 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: the span a 4DIGIT year can write. */
const MIN_HTTP_DATE_MS = -62_167_219_200_000;
const MAX_HTTP_DATE_MS = 253_402_300_799_999;

/**
 * Parse an HTTP-date in any of the three formats of RFC 9110 §5.6.7.
 * Returns milliseconds since the epoch (a whole second), or undefined when the value is not
 * exactly one valid HTTP-date. Surrounding spaces and tabs (OWS) are ignored.
 * `now` only matters for the two-digit years of rfc850-date.
 */
export function parseHttpDate(value: string, now?: number): number | undefined {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  const text = start === 0 && end === value.length ? value : value.slice(start, end);

  if (text.charCodeAt(3) === 0x2c /* , */) return parseImfFixdate(text);
  if (text.charCodeAt(3) === 0x20 /* SP */) return parseAsctimeDate(text);
  return parseRfc850Date(text, now);
}

/** "Sun, 06 Nov 1994 08:49:37 GMT" */
function parseImfFixdate(text: string): number | undefined {
  if (text.length !== 29) return undefined;
  if (!DAY_NAMES.includes(text.slice(0, 3))) return undefined;
  if (text[4] !== ' ' || text[7] !== ' ' || text[11] !== ' ' || text[16] !== ' ' || text[25] !== ' ') return undefined;
  if (!text.endsWith('GMT')) return undefined;
  return toEpochMs(readDigits(text, 12, 4), monthIndex(text, 8), readDigits(text, 5, 2), text, 17);
}

/** "Sunday, 06-Nov-94 08:49:37 GMT" */
function parseRfc850Date(text: string, now: number | undefined): number | undefined {
  const comma = text.lastIndexOf(',', 9); // after "Sunday" (6) to "Wednesday" (9)
  if (comma < 6) return undefined;
  if (!LONG_DAY_NAMES.includes(text.slice(0, comma))) return undefined;
  const rest = comma + 2; // "06-Nov-94 08:49:37 GMT" is 22 characters
  if (text.length !== rest + 22 || text[comma + 1] !== ' ') return undefined;
  if (text[rest + 2] !== '-' || text[rest + 6] !== '-' || text[rest + 9] !== ' ' || text[rest + 18] !== ' ') {
    return undefined;
  }
  if (!text.endsWith('GMT')) return undefined;
  const twoDigitYear = readDigits(text, rest + 7, 2);
  if (twoDigitYear < 0) return undefined;
  const year = expandTwoDigitYear(twoDigitYear, now ?? Date.now());
  return toEpochMs(year, monthIndex(text, rest + 3), readDigits(text, rest, 2), text, rest + 10);
}

/** "Sun Nov  6 08:49:37 1994": the day is 2DIGIT or SP DIGIT. */
function parseAsctimeDate(text: string): number | undefined {
  if (text.length !== 24) return undefined;
  if (!DAY_NAMES.includes(text.slice(0, 3))) return undefined;
  if (text[7] !== ' ' || text[10] !== ' ' || text[19] !== ' ') return undefined;
  const day = text[8] === ' ' ? readDigits(text, 9, 1) : readDigits(text, 8, 2);
  return toEpochMs(readDigits(text, 20, 4), monthIndex(text, 4), day, text, 11);
}

/**
 * RFC 9110 §5.6.7: a two-digit year that "appears to be more than 50 years in the future" is
 * "the most recent year in the past that had the same last two digits". So the year is the
 * one ending in those digits within [current year - 49, current year + 50].
 */
function expandTwoDigitYear(twoDigits: number, now: number): number {
  const earliest = new Date(now).getUTCFullYear() - 49;
  return earliest + ((((twoDigits - earliest) % 100) + 100) % 100);
}

/** Reads "HH:MM:SS" at `at` and combines it with the date; undefined if any field is out of range. */
function toEpochMs(year: number, month: number, day: number, text: string, at: number): number | undefined {
  if (year < 0 || month < 0 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (text[at + 2] !== ':' || text[at + 5] !== ':') return undefined;
  const hour = readDigits(text, at, 2);
  const minute = readDigits(text, at + 3, 2);
  let second = readDigits(text, at + 6, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 60) return undefined;
  if (second === 60) {
    // Leap seconds are inserted only as 23:59:60.
    if (hour !== 23 || minute !== 59) return undefined;
    second = 59;
  }
  return daysFromCivil(year, month, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000;
}

function monthIndex(text: string, at: number): number {
  return MONTH_NAMES.indexOf(text.slice(at, at + 3));
}

/** The non-negative integer written by exactly `count` ASCII digits at `at`, or -1. */
function readDigits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 1) return isLeapYear(year) ? 29 : 28;
  return month === 3 || month === 5 || month === 8 || month === 10 ? 30 : 31;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * Days from 1970-01-01 to the proleptic Gregorian date (month 0-based), for any year >= 0.
 * Date.UTC cannot be used: it maps years 0-99 to 1900-1999.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  // Count years from March so that the leap day is the last day of the counted year.
  const y = month < 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const monthFromMarch = (month + 10) % 12;
  const dayOfYear = Math.floor((153 * monthFromMarch + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

let cachedSecond = Number.NaN;
let cachedDate = '';

/**
 * IMF-fixdate (RFC 9110 §5.6.7), e.g. "Sun, 06 Nov 1994 08:49:37 GMT". Sub-second precision is
 * dropped (floored). The string of the last second asked for is cached, since the Date header
 * asks for the same second many times over.
 * Throws RangeError for values that no 4DIGIT year can write (NaN, before year 0, after 9999).
 */
export function formatHttpDate(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second === cachedSecond) return cachedDate;
  if (!(ms >= MIN_HTTP_DATE_MS && ms <= MAX_HTTP_DATE_MS)) {
    throw new RangeError(`Cannot write ${ms} as an HTTP-date`);
  }
  // ECMAScript (since ES2018) defines toUTCString as "Www, DD Mmm YYYY HH:mm:ss GMT" with the
  // year padded to four digits: exactly IMF-fixdate for years 0000-9999.
  cachedDate = new Date(second * 1000).toUTCString();
  cachedSecond = second;
  return cachedDate;
}

/**
 * The Last-Modified value to send for a file: whole seconds (HTTP-date has no finer
 * resolution, and comparisons against If-Modified-Since are per second), and never later than
 * `now`: RFC 9110 §8.8.2.1 says an origin server "MUST NOT generate a Last-Modified date that
 * is later than the server's time of message origination" and must use that time instead.
 */
export function lastModifiedFromMtime(mtimeMs: number, now: number): number {
  return Math.floor(Math.min(mtimeMs, now) / 1000) * 1000;
}
