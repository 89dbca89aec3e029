import { describe, expect, it } from 'vitest';
import {
  evaluatePreconditions,
  ifRangeAllows,
  type PreconditionHeaders,
  type PreconditionOutcome,
  type Validators,
} from '../../src/http/preconditions.js';

const LAST_MODIFIED = Date.UTC(2024, 0, 1, 12, 0, 0);
const NOW = Date.UTC(2024, 5, 1);
const validators: Validators = { etag: '"abc"', lastModified: LAST_MODIFIED };

const AT = 'Mon, 01 Jan 2024 12:00:00 GMT'; // equal to Last-Modified
const AT_RFC850 = 'Monday, 01-Jan-24 12:00:00 GMT';
const AT_ASCTIME = 'Mon Jan  1 12:00:00 2024';
const BEFORE = 'Mon, 01 Jan 2024 11:59:59 GMT'; // the file changed after this
const AFTER = 'Mon, 01 Jan 2024 12:00:01 GMT';
const FUTURE = 'Sat, 01 Jun 2024 00:00:01 GMT'; // later than NOW

const OK: PreconditionOutcome = 'proceed';
const NOT_MODIFIED: PreconditionOutcome = 'not-modified';
const FAILED: PreconditionOutcome = 'precondition-failed';

// [what, method, headers, outcome]
type Row = [string, string, PreconditionHeaders, PreconditionOutcome];

describe('evaluatePreconditions: each header alone', () => {
  const rows: Row[] = [
    ['no conditions', 'GET', {}, OK],
    // If-Match (§13.1.1): strong comparison
    ['If-Match matching', 'GET', { ifMatch: '"abc"' }, OK],
    ['If-Match not matching', 'GET', { ifMatch: '"xyz"' }, FAILED],
    ['If-Match list containing the tag', 'GET', { ifMatch: '"xyz", "abc"' }, OK],
    ['If-Match list without the tag', 'GET', { ifMatch: '"xyz", "uvw"' }, FAILED],
    ['If-Match *', 'GET', { ifMatch: '*' }, OK],
    ['If-Match weak tag never matches', 'GET', { ifMatch: 'W/"abc"' }, FAILED],
    ['If-Match malformed (unquoted)', 'GET', { ifMatch: 'abc' }, FAILED],
    ['If-Match empty counts as absent', 'GET', { ifMatch: '' }, OK],
    ['If-Match on PUT not matching', 'PUT', { ifMatch: '"xyz"' }, FAILED],
    // If-Unmodified-Since (§13.1.4)
    ['If-Unmodified-Since equal', 'GET', { ifUnmodifiedSince: AT }, OK],
    ['If-Unmodified-Since later', 'GET', { ifUnmodifiedSince: AFTER }, OK],
    ['If-Unmodified-Since earlier', 'GET', { ifUnmodifiedSince: BEFORE }, FAILED],
    ['If-Unmodified-Since earlier, on DELETE', 'DELETE', { ifUnmodifiedSince: BEFORE }, FAILED],
    ['If-Unmodified-Since invalid date ignored', 'GET', { ifUnmodifiedSince: 'yesterday' }, OK],
    ['If-Unmodified-Since list of dates ignored', 'GET', { ifUnmodifiedSince: `${BEFORE}, ${BEFORE}` }, OK],
    ['If-Unmodified-Since rfc850-date earlier', 'GET', { ifUnmodifiedSince: 'Monday, 01-Jan-24 11:59:59 GMT' }, FAILED],
    // If-None-Match (§13.1.2): weak comparison, 304 for GET/HEAD, 412 otherwise
    ['If-None-Match matching, GET', 'GET', { ifNoneMatch: '"abc"' }, NOT_MODIFIED],
    ['If-None-Match matching, HEAD', 'HEAD', { ifNoneMatch: '"abc"' }, NOT_MODIFIED],
    ['If-None-Match matching, POST', 'POST', { ifNoneMatch: '"abc"' }, FAILED],
    ['If-None-Match matching, PUT', 'PUT', { ifNoneMatch: '"abc"' }, FAILED],
    ['If-None-Match matching, lowercase get is not GET', 'get', { ifNoneMatch: '"abc"' }, FAILED],
    ['If-None-Match not matching', 'GET', { ifNoneMatch: '"xyz"' }, OK],
    ['If-None-Match weak form matches weakly', 'GET', { ifNoneMatch: 'W/"abc"' }, NOT_MODIFIED],
    ['If-None-Match list with the weak form', 'GET', { ifNoneMatch: '"x", W/"abc", "y"' }, NOT_MODIFIED],
    ['If-None-Match list without the tag', 'GET', { ifNoneMatch: '"x", W/"y"' }, OK],
    ['If-None-Match *, GET', 'GET', { ifNoneMatch: '*' }, NOT_MODIFIED],
    ['If-None-Match *, DELETE', 'DELETE', { ifNoneMatch: '*' }, FAILED],
    ['If-None-Match malformed (unquoted)', 'GET', { ifNoneMatch: 'abc' }, OK],
    ['If-None-Match empty counts as absent', 'GET', { ifNoneMatch: ' ' }, OK],
    // If-Modified-Since (§13.1.3): GET/HEAD only
    ['If-Modified-Since equal', 'GET', { ifModifiedSince: AT }, NOT_MODIFIED],
    ['If-Modified-Since equal, rfc850-date', 'GET', { ifModifiedSince: AT_RFC850 }, NOT_MODIFIED],
    ['If-Modified-Since equal, asctime-date', 'HEAD', { ifModifiedSince: AT_ASCTIME }, NOT_MODIFIED],
    ['If-Modified-Since later', 'GET', { ifModifiedSince: AFTER }, NOT_MODIFIED],
    ['If-Modified-Since earlier: modified', 'GET', { ifModifiedSince: BEFORE }, OK],
    ['If-Modified-Since invalid date ignored', 'GET', { ifModifiedSince: 'Mon, 32 Jan 2024 12:00:00 GMT' }, OK],
    ['If-Modified-Since list of dates ignored', 'GET', { ifModifiedSince: `${AT}, ${AT}` }, OK],
    ['If-Modified-Since ignored for POST', 'POST', { ifModifiedSince: AT }, OK],
    ['If-Modified-Since in the future ignored', 'GET', { ifModifiedSince: FUTURE }, OK],
  ];
  it.each(rows)('%s', (_what, method, headers, outcome) => {
    expect(evaluatePreconditions(method, headers, validators, NOW)).toBe(outcome);
  });
});

describe('evaluatePreconditions: the order of RFC 9110 §13.2.2', () => {
  const rows: Row[] = [
    ['If-Match present makes If-Unmodified-Since ignored', 'GET', { ifMatch: '"abc"', ifUnmodifiedSince: BEFORE }, OK],
    ['If-Match failing wins over a passing If-Unmodified-Since', 'GET', { ifMatch: '"xyz"', ifUnmodifiedSince: AFTER }, FAILED],
    ['If-Match * makes If-Unmodified-Since ignored', 'PUT', { ifMatch: '*', ifUnmodifiedSince: BEFORE }, OK],
    ['empty If-Match leaves If-Unmodified-Since in force', 'GET', { ifMatch: '', ifUnmodifiedSince: BEFORE }, FAILED],
    ['If-Match failing comes before If-None-Match', 'GET', { ifMatch: '"xyz"', ifNoneMatch: '"abc"' }, FAILED],
    ['If-Match passing, then If-None-Match matching', 'GET', { ifMatch: '"abc"', ifNoneMatch: '"abc"' }, NOT_MODIFIED],
    ['If-Unmodified-Since failing comes before If-None-Match', 'GET', { ifUnmodifiedSince: BEFORE, ifNoneMatch: '"abc"' }, FAILED],
    ['If-None-Match present makes If-Modified-Since ignored (no match)', 'GET', { ifNoneMatch: '"xyz"', ifModifiedSince: AT }, OK],
    ['If-None-Match present makes If-Modified-Since ignored (match)', 'GET', { ifNoneMatch: '"abc"', ifModifiedSince: BEFORE }, NOT_MODIFIED],
    ['empty If-None-Match leaves If-Modified-Since in force', 'GET', { ifNoneMatch: '', ifModifiedSince: AT }, NOT_MODIFIED],
    ['all four, all passing: 304 from If-None-Match', 'GET', { ifMatch: '"abc"', ifUnmodifiedSince: AT, ifNoneMatch: '"abc"', ifModifiedSince: BEFORE }, NOT_MODIFIED],
    ['all four on POST: If-None-Match match is a 412', 'POST', { ifMatch: '*', ifNoneMatch: '*', ifModifiedSince: AT }, FAILED],
    ['If-Modified-Since alone on DELETE is ignored', 'DELETE', { ifModifiedSince: AFTER }, OK],
  ];
  it.each(rows)('%s', (_what, method, headers, outcome) => {
    expect(evaluatePreconditions(method, headers, validators, NOW)).toBe(outcome);
  });
});

describe('evaluatePreconditions: validators', () => {
  it('ignores sub-second precision of Last-Modified (HTTP-dates have whole seconds)', () => {
    const subSecond = { etag: '"abc"', lastModified: LAST_MODIFIED + 700 };
    expect(evaluatePreconditions('GET', { ifModifiedSince: AT }, subSecond, NOW)).toBe(NOT_MODIFIED);
    expect(evaluatePreconditions('GET', { ifUnmodifiedSince: AT }, subSecond, NOW)).toBe(OK);
  });

  // [headers, outcome] against a weak current tag
  const weakRows: Array<[PreconditionHeaders, PreconditionOutcome]> = [
    [{ ifMatch: '"abc"' }, FAILED],
    [{ ifMatch: 'W/"abc"' }, FAILED],
    [{ ifMatch: '*' }, OK],
    [{ ifNoneMatch: '"abc"' }, NOT_MODIFIED],
    [{ ifNoneMatch: 'W/"abc"' }, NOT_MODIFIED],
  ];
  it.each(weakRows)('current tag W/"abc", %j -> %s', (headers, outcome) => {
    expect(evaluatePreconditions('GET', headers, { etag: 'W/"abc"', lastModified: LAST_MODIFIED }, NOW)).toBe(outcome);
  });

  // [headers, outcome] for a generated page: a tag but no modification date (NaN)
  const undatedRows: Array<[PreconditionHeaders, PreconditionOutcome]> = [
    [{ ifUnmodifiedSince: BEFORE }, OK],
    [{ ifUnmodifiedSince: AFTER }, OK],
    [{ ifModifiedSince: AFTER }, OK],
    [{ ifModifiedSince: BEFORE }, OK],
    [{ ifNoneMatch: '"abc"', ifModifiedSince: BEFORE }, NOT_MODIFIED],
    [{ ifMatch: '"xyz"' }, FAILED],
  ];
  it.each(undatedRows)('without a modification date, %j -> %s', (headers, outcome) => {
    expect(evaluatePreconditions('GET', headers, { etag: '"abc"', lastModified: Number.NaN }, NOW)).toBe(outcome);
  });

  it('uses the clock when no `now` is given (a date after it is ignored)', () => {
    const inAYear = new Date(Date.now() + 366 * 86_400_000).toUTCString();
    const current = { etag: '"abc"', lastModified: Math.floor(Date.now() / 1000) * 1000 - 5000 };
    expect(evaluatePreconditions('GET', { ifModifiedSince: inAYear }, current)).toBe(OK);
    expect(evaluatePreconditions('GET', { ifModifiedSince: new Date(current.lastModified).toUTCString() }, current)).toBe(NOT_MODIFIED);
  });
});

describe('ifRangeAllows (RFC 9110 §13.1.5)', () => {
  // [If-Range, honour the Range?]
  const rows: Array<[string | undefined, boolean]> = [
    [undefined, true],
    ['', true],
    ['"abc"', true],
    [' "abc" ', true],
    ['"xyz"', false],
    ['W/"abc"', false], // a weak tag never matches
    ['"abc", "xyz"', false], // one entity-tag, not a list
    ['"abc', false],
    [AT, true],
    [AT_RFC850, true],
    [AT_ASCTIME, true],
    [BEFORE, false], // must be exactly equal
    [AFTER, false],
    ['Mon, 01 Jan 2024 12:00:00 GMT junk', false],
    ['garbage', false],
    ['*', false],
  ];
  it.each(rows)('%j -> %s', (ifRange, expected) => {
    expect(ifRangeAllows(ifRange, validators)).toBe(expected);
  });

  it('never honours an If-Range date without a modification date', () => {
    expect(ifRangeAllows(AT, { etag: '"abc"', lastModified: Number.NaN })).toBe(false);
    expect(ifRangeAllows('"abc"', { etag: '"abc"', lastModified: Number.NaN })).toBe(true);
  });

  it('never honours a Range against a weak current tag', () => {
    expect(ifRangeAllows('W/"abc"', { etag: 'W/"abc"', lastModified: LAST_MODIFIED })).toBe(false);
    expect(ifRangeAllows('"abc"', { etag: 'W/"abc"', lastModified: LAST_MODIFIED })).toBe(false);
  });
});

describe('evaluatePreconditions work is bounded', () => {
  it('evaluates a 1,500-tag If-None-Match and a 50,000-space If-Match 1,000 times within 5 s', () => {
    const manyTags = Array.from({ length: 1500 }, (_, i) => `W/"${i.toString(16)}-17f0c3e9"`).join(', ');
    const spaces = ' '.repeat(50_000);
    const started = performance.now();
    let outcomes = '';
    for (let i = 0; i < 500; i++) {
      outcomes += evaluatePreconditions('GET', { ifNoneMatch: manyTags, ifModifiedSince: spaces }, validators, NOW)[0];
      outcomes += evaluatePreconditions('GET', { ifMatch: spaces, ifUnmodifiedSince: spaces }, validators, NOW)[0];
    }
    expect(performance.now() - started).toBeLessThan(5000); // generous: a quadratic scan would take minutes
    expect(outcomes).toBe('p'.repeat(1000));
  });
});
