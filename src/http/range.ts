// Range requests (RFC 9110 §14):
//
//   Range            = ranges-specifier
//   ranges-specifier = range-unit "=" range-set
//   range-set        = 1#range-spec
//   range-spec       = int-range / suffix-range / other-range
//   int-range        = first-pos "-" [ last-pos ]
//   suffix-range     = "-" suffix-length
//
// Three answers, and the difference between the first two matters: a header that is malformed
// or abusive is ignored (200 with the whole file), one that is well-formed but selects nothing
// is a 416. Validity is decided before satisfiability: "bytes=9-5" is invalid for every file
// and gets the whole file, not a 416.

import { isOws, skipOws } from './whitespace.js';

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

export type RangeDecision =
  // Serve 200 with the whole representation: no header, ignored, or nothing to cut.
  | { kind: 'full' }
  // Serve 416 with the Content-Range of unsatisfiedContentRange.
  | { kind: 'unsatisfiable' }
  // Serve 206: one range as a single part, several as multipart/byteranges (§15.3.7.2:
  // "A server MUST NOT generate a multipart response to a request for a single range").
  | { kind: 'ranges'; ranges: ByteRange[] };

export interface RangeLimits {
  /** More range-specs than this and the header is ignored (200). */
  maxRanges: number;
}

/**
 * 100 range-specs. Real clients ask for one (media, resumed downloads) or a handful (PDF
 * viewers); the "Apache Killer" (CVE-2011-3192) sent hundreds of overlapping ones. Apache's
 * MaxRanges defaults to 200; this is stricter because our ranges are also coalesced.
 */
export const DEFAULT_MAX_RANGES = 100;

const FULL: RangeDecision = { kind: 'full' };
const UNSATISFIABLE: RangeDecision = { kind: 'unsatisfiable' };

/** A position written with more digits than a safe integer holds; compares above any file size. */
const VERY_LARGE = Number.POSITIVE_INFINITY;

/**
 * Decide what a Range header asks of a representation of `size` bytes.
 *
 * - No header, a unit other than "bytes" (units are case-insensitive, §14.1; "An origin server
 *   MUST ignore a Range header field that contains a range unit it does not understand", §14.2),
 *   or any invalid range-spec (§14.1.1: last-pos < first-pos, stray characters, no range-spec
 *   at all) -> full: "A server that supports range requests MAY ignore or reject a Range header
 *   field that contains an invalid ranges-specifier" (§14.2), and ignoring is the kinder choice.
 * - Range-specs that select nothing are dropped; if none is left -> unsatisfiable (§14.1.2:
 *   int-range with first-pos >= size, suffix-range of length 0, so "bytes=-0" is a 416).
 * - Last-pos past the end is clamped to the last byte; a suffix longer than the file is the
 *   whole file (§14.1.2). Digit strings too long for a safe integer are "very large" and obey
 *   the same rules, with no loss of precision leading to a wrong answer.
 * - Abuse (§14.2 allows ignoring "a ranges-specifier with more than two overlapping ranges, or a
 *   set of many small ranges"; §17.15): more than maxRanges specs -> full; satisfiable ranges
 *   whose lengths add up to more than the file -> full (Go does the same: only an attack or a
 *   broken client asks for more bytes than there are).
 * - Several ranges are coalesced when they overlap or touch (§15.3.7.2 allows it "regardless of
 *   the order"). The result keeps the client's order, a merged range taking the place of its
 *   earliest-requested member: "A server that generates a multipart response SHOULD send the
 *   parts in the same order that the corresponding range-spec appeared" (§15.3.7.2).
 * - An empty representation: every int-range is unsatisfiable (first-pos >= 0 = size), so e.g.
 *   "bytes=0-" is a 416. A non-zero suffix-range, though, is satisfiable (§14.1.2: "When a
 *   selected representation has zero length, the only satisfiable form of range-spec in a GET
 *   request is a suffix-range with a non-zero suffix-length"), yet selects no byte that a
 *   Content-Range could name; it gets the whole (empty) file, as §14.2 allows: a server "MAY
 *   ignore a Range header field when the selected representation has no content".
 *
 * One pass over the header; at most maxRanges specs are ever kept.
 */
export function parseRangeHeader(
  header: string | undefined,
  size: number,
  limits?: Partial<RangeLimits>,
): RangeDecision {
  if (header === undefined) return FULL;
  const maxRanges = limits?.maxRanges ?? DEFAULT_MAX_RANGES;

  const equals = header.indexOf('=');
  if (equals < 0) return FULL;
  const unitStart = skipOws(header, 0);
  if (equals - unitStart !== 5 || header.slice(unitStart, equals).toLowerCase() !== 'bytes') return FULL;

  const ranges: ByteRange[] = [];
  let specCount = 0;
  let selectsEmptyRepresentation = false;
  let i = equals + 1;
  while (i < header.length) {
    const code = header.charCodeAt(i);
    if (code === 0x2c /* , */ || isOws(code)) {
      i++; // OWS around commas, and empty list elements (RFC 9110 §5.6.1.2)
      continue;
    }
    const spec = scanRangeSpec(header, i);
    if (spec === undefined) return FULL;
    i = skipOws(header, spec.end);
    if (i < header.length && header.charCodeAt(i) !== 0x2c) return FULL;
    if (++specCount > maxRanges) return FULL;

    const range = spec.kind === 'suffix' ? suffixRange(spec.length, size) : intRange(spec.first, spec.last, size);
    if (range === 'empty') selectsEmptyRepresentation = true;
    else if (range !== undefined) ranges.push(range);
  }

  if (specCount === 0) return FULL; // "bytes=" or "bytes=,": range-set needs one range-spec
  if (ranges.length === 0) return selectsEmptyRepresentation ? FULL : UNSATISFIABLE;
  if (ranges.length === 1) return { kind: 'ranges', ranges };
  if (sumOfLengths(ranges) > size) return FULL;
  return { kind: 'ranges', ranges: coalesce(ranges) };
}

/** "bytes 0-99/1234" (RFC 9110 §14.4) */
export function contentRange(range: ByteRange, size: number): string {
  return `bytes ${range.start}-${range.end}/${size}`;
}

// `bytes */1234`: the Content-Range of a 416 (RFC 9110 §14.4, §15.5.17).
export function unsatisfiedContentRange(size: number): string {
  return `bytes */${size}`;
}

type RangeSpec =
  /** "first-last", or "first-" when last is undefined. */
  | { kind: 'int'; end: number; first: number; last: number | undefined }
  /** "-length" */
  | { kind: 'suffix'; end: number; length: number };

interface DigitRun {
  start: number;
  /** Index just past the last digit. */
  end: number;
  value: number;
}

/** Scans int-range or suffix-range at `at`; undefined if neither is there (an invalid spec). */
function scanRangeSpec(header: string, at: number): RangeSpec | undefined {
  if (header.charCodeAt(at) === 0x2d /* - */) {
    const length = scanDigits(header, at + 1);
    return length === undefined ? undefined : { kind: 'suffix', end: length.end, length: length.value };
  }
  const first = scanDigits(header, at);
  if (first === undefined || header.charCodeAt(first.end) !== 0x2d) return undefined;
  const last = scanDigits(header, first.end + 1);
  if (last !== undefined && compareDigitRuns(header, last, first) < 0) return undefined; // §14.1.1: invalid
  return { kind: 'int', end: last?.end ?? first.end + 1, first: first.value, last: last?.value };
}

/** 1*DIGIT at `at`, its value or VERY_LARGE beyond Number.MAX_SAFE_INTEGER; undefined if no digit. */
function scanDigits(header: string, at: number): DigitRun | undefined {
  let value = 0;
  let i = at;
  for (; i < header.length; i++) {
    const digit = header.charCodeAt(i) - 0x30;
    if (!(digit >= 0 && digit <= 9)) break;
    // Once past 2^53 the value only needs to stay "very large"; the digits themselves are
    // kept (start/end) for exact comparisons.
    if (value !== VERY_LARGE) value = value * 10 + digit > Number.MAX_SAFE_INTEGER ? VERY_LARGE : value * 10 + digit;
  }
  return i === at ? undefined : { start: at, end: i, value };
}

/** Exact comparison of two digit runs of any length: by significant length, then lexically. */
function compareDigitRuns(header: string, a: DigitRun, b: DigitRun): number {
  if (a.value !== VERY_LARGE && b.value !== VERY_LARGE) return a.value - b.value;
  const aStart = skipZeros(header, a.start, a.end);
  const bStart = skipZeros(header, b.start, b.end);
  const lengthDifference = a.end - aStart - (b.end - bStart);
  if (lengthDifference !== 0) return lengthDifference;
  for (let offset = 0; offset < a.end - aStart; offset++) {
    const difference = header.charCodeAt(aStart + offset) - header.charCodeAt(bStart + offset);
    if (difference !== 0) return difference;
  }
  return 0;
}

function skipZeros(header: string, start: number, end: number): number {
  let i = start;
  while (i < end && header.charCodeAt(i) === 0x30) i++;
  return i;
}

/** §14.1.2 "first-last" / "first-": undefined when it starts at or past the end. */
function intRange(first: number, last: number | undefined, size: number): ByteRange | undefined {
  if (first >= size) return undefined;
  return { start: first, end: last === undefined || last >= size ? size - 1 : last };
}

/** §14.1.2 "-N": the last N bytes, all of them if N >= size; 'empty' when the file has none. */
function suffixRange(length: number, size: number): ByteRange | 'empty' | undefined {
  if (length === 0) return undefined;
  if (size === 0) return 'empty';
  return { start: length >= size ? 0 : size - length, end: size - 1 };
}

function sumOfLengths(ranges: readonly ByteRange[]): number {
  let sum = 0;
  for (const range of ranges) sum += range.end - range.start + 1;
  return sum;
}

/** Merges overlapping and adjacent ranges; each result sits where its first-requested member was. */
function coalesce(ranges: readonly ByteRange[]): ByteRange[] {
  const byStart = ranges.map((range, order) => ({ ...range, order })).sort((a, b) => a.start - b.start);
  const merged: Array<ByteRange & { order: number }> = [];
  for (const range of byStart) {
    const previous = merged[merged.length - 1];
    if (previous !== undefined && range.start <= previous.end + 1) {
      previous.end = Math.max(previous.end, range.end);
      previous.order = Math.min(previous.order, range.order);
    } else {
      merged.push(range);
    }
  }
  return merged.sort((a, b) => a.order - b.order).map(({ start, end }) => ({ start, end }));
}
