// Conditional requests (RFC 9110 §13). Each header is one small check answering "absent",
// "true" or "false"; evaluatePreconditions strings them together in the order of §13.2.2.
//
// These rules apply only when the response without the conditions would be a 2xx (§13.2.1:
// "A server MUST ignore all received preconditions if its response to the same request without
// those conditions, prior to processing the request content, would have been a status code
// other than a 2xx (Successful) or 412"), so the caller evaluates them after finding the file.
//
// A field whose value is empty (or only whitespace) counts as absent, as in Go's net/http: it
// names no validator, and a proxy that blanks a header should not turn a GET into a 412.

import { parseHttpDate } from './dates.js';
import { listMatches, strongMatch } from './etag.js';

export interface Validators {
  /** The entity-tag of the selected representation, quoted (e.g. "\"1a-2b\""). */
  etag: string;
  /**
   * Last-Modified in ms since the epoch; whole seconds (finer precision is ignored). NaN when
   * the representation has no modification date (a generated page): the date conditions are
   * then ignored, as §13.1.3 and §13.1.4 require, and If-Range dates never match.
   */
  lastModified: number;
}

export interface PreconditionHeaders {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

export type PreconditionOutcome = 'proceed' | 'not-modified' | 'precondition-failed';

/** The result of one precondition: the header was absent (or ignored), or it evaluated true/false. */
export type Condition = 'absent' | 'true' | 'false';

/**
 * RFC 9110 §13.2.2, in its order:
 *   1. If-Match false                                   -> 412
 *   2. else, without If-Match, If-Unmodified-Since false -> 412
 *   3. If-None-Match false                              -> 304 for GET/HEAD, else 412
 *   4. else, without If-None-Match, for GET/HEAD, If-Modified-Since false -> 304
 *   5. otherwise proceed (If-Range is the range stage's business, see ifRangeAllows)
 * `now` (default: the clock) bounds If-Modified-Since; see checkIfModifiedSince.
 * Methods are case-sensitive (§9.1): "get" is not GET.
 */
export function evaluatePreconditions(
  method: string,
  headers: PreconditionHeaders,
  validators: Validators,
  now?: number,
): PreconditionOutcome {
  const ifMatch = checkIfMatch(headers.ifMatch, validators.etag);
  if (ifMatch === 'false') return 'precondition-failed';
  if (ifMatch === 'absent' && checkIfUnmodifiedSince(headers.ifUnmodifiedSince, validators.lastModified) === 'false') {
    return 'precondition-failed';
  }

  const isRetrieval = method === 'GET' || method === 'HEAD';
  const ifNoneMatch = checkIfNoneMatch(headers.ifNoneMatch, validators.etag);
  if (ifNoneMatch === 'false') return isRetrieval ? 'not-modified' : 'precondition-failed';
  if (ifNoneMatch === 'absent' && isRetrieval) {
    const ifModifiedSince = checkIfModifiedSince(headers.ifModifiedSince, validators.lastModified, now ?? Date.now());
    if (ifModifiedSince === 'false') return 'not-modified';
  }
  return 'proceed';
}

/**
 * §13.1.1 If-Match: true if the value is "*" or lists a tag that strongly matches the current one
 * ("An origin server MUST use the strong comparison function when comparing entity tags for
 * If-Match"). A weak current tag therefore never matches a list.
 */
export function checkIfMatch(header: string | undefined, etag: string): Condition {
  const value = presentValue(header);
  if (value === undefined) return 'absent';
  return listMatches(value, etag, 'strong') ? 'true' : 'false';
}

/**
 * §13.1.2 If-None-Match: false if the value is "*" or lists a tag that weakly matches the current
 * one ("A recipient MUST use the weak comparison function when comparing entity tags for
 * If-None-Match").
 */
export function checkIfNoneMatch(header: string | undefined, etag: string): Condition {
  const value = presentValue(header);
  if (value === undefined) return 'absent';
  return listMatches(value, etag, 'weak') ? 'false' : 'true';
}

/**
 * §13.1.4 If-Unmodified-Since: false if the representation was modified after the date.
 * "A recipient MUST ignore the If-Unmodified-Since header field if the received field value is
 * not a valid HTTP-date (including when the field value appears to be a list of dates)."
 * It is also ignored without a modification date (NaN), and, as the same section requires,
 * when If-Match is present (evaluatePreconditions sees to that).
 */
export function checkIfUnmodifiedSince(header: string | undefined, lastModified: number): Condition {
  const value = presentValue(header);
  const date = value === undefined || Number.isNaN(lastModified) ? undefined : parseHttpDate(value);
  if (date === undefined) return 'absent';
  return wholeSeconds(lastModified) <= date ? 'true' : 'false';
}

/**
 * §13.1.3 If-Modified-Since: false (not modified) if Last-Modified is "earlier or equal to the
 * date provided". Invalid dates, lists of dates, and a representation without a modification
 * date (NaN) are ignored, as the section requires.
 *
 * A date later than `now` is also ignored. RFC 9110 no longer says so outright (RFC 2616 §14.25
 * called such a date invalid), but the evaluation is a SHOULD, and a 200 is always a correct
 * answer, whereas honouring the date is not: we never send a Last-Modified later than our clock
 * (§8.8.2.1), so a future date comes from a skewed client clock, and a 304 for it would keep
 * answering "not modified" for edits made before that date arrives, serving stale bytes.
 */
export function checkIfModifiedSince(header: string | undefined, lastModified: number, now: number): Condition {
  const value = presentValue(header);
  const date = value === undefined || Number.isNaN(lastModified) ? undefined : parseHttpDate(value);
  if (date === undefined || date > now) return 'absent';
  return wholeSeconds(lastModified) <= date ? 'false' : 'true';
}

/**
 * §13.1.5 If-Range: should the Range header be honoured? Absent (or empty) -> yes. Otherwise:
 * "A valid entity-tag can be distinguished from a valid HTTP-date by examining the first three
 * characters for a DQUOTE." An entity-tag must strongly match the current tag (so a weak tag
 * never does: "A client MUST NOT generate an If-Range header field containing an entity tag
 * that is marked as weak"); a date must equal Last-Modified exactly. Anything else -> no, and
 * the whole representation is sent.
 *
 * An exact date is only safe if Last-Modified is a strong validator (§8.8.2.2), i.e. the file
 * did not change twice within that second. That cannot be known from mtime alone; this
 * function treats it as usable, as Go's net/http does. Clients prefer the entity-tag when they
 * have one, and ours changes with every nanosecond of mtime.
 */
export function ifRangeAllows(ifRange: string | undefined, validators: Validators): boolean {
  const value = presentValue(ifRange);
  if (value === undefined) return true;
  if (value.slice(0, 3).includes('"')) return strongMatch(value, validators.etag);
  return parseHttpDate(value) === wholeSeconds(validators.lastModified);
}

/** HTTP-dates have one-second resolution; a sub-second mtime must not look newer than itself. */
function wholeSeconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/** The field value without surrounding whitespace, or undefined when there is none. */
function presentValue(header: string | undefined): string | undefined {
  const value = header?.trim();
  return value === '' ? undefined : value;
}
