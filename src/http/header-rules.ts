// User-defined response headers: `-H "Name: value"` on every response, and path-scoped rules
// from the config file (`"headers": [{ "source": "/assets/**", "headers": { ... } }]`).
//
// Everything is checked at start-up, so a header that would be refused by Node (or, worse,
// split a response) is a one-line usage error instead of a 500 on every request.
//
// The glob dialect of `source`, matched against the decoded, normalised URL path (the path
// guard's `urlPath`: '/a/b.js', '/docs/' with its trailing slash, never the query):
//   - a pattern starting with "/" is anchored at the root: "/api/*", "/assets/**";
//   - a pattern without any "/" matches the last segment at any depth: "*.js", "robots.txt";
//     (a "/" elsewhere is refused, as ambiguous: write "/a/b" or "**"-style instead);
//   - "*" matches any run of characters inside one segment (including none), never "/";
//   - "**" as a whole segment matches any number of segments, including none, so
//     "/assets/**" matches "/assets", "/assets/" and everything below it;
//   - everything else is literal and case-sensitive ("?" included: in a URL it starts the
//     query, so it is no wildcard here).

import type { OutgoingHttpHeaders } from 'node:http';
import { UsageError } from '../options.js';

export interface HeaderField {
  /** As the user spelled it; compared without regard to case (RFC 9110 §5.1). */
  readonly name: string;
  readonly value: string;
}

/** A rule from the config file, as written there. */
export interface ScopedHeadersConfig {
  readonly source: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** The user headers that apply to a response, decided once per URL path. */
export interface HeaderRules {
  /** Headers for `urlPath`: the global ones, then matching rules in order; later wins per name. */
  forPath(urlPath: string): readonly HeaderField[];
  /** No headers at all: the pipeline can skip the stage. */
  readonly empty: boolean;
}

/** tchar, RFC 9110 §5.6.2: a field name is a token (§5.1). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A field value (RFC 9110 §5.5) is visible characters, spaces, tabs and obs-text. This is
 * exactly what Node's setHeader accepts; anything else (CR, LF and NUL above all, which would
 * split or truncate the response, RFC 9112 §2.2) it would throw for, on every response.
 */
const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Headers that frame the message or belong to one connection (RFC 9110 §7.6.1, RFC 9113
 * §8.2.2): serve-dir sets them from the bytes it sends, and a user value would corrupt the
 * response (a wrong Content-Length) or break HTTP/2, which forbids connection-specific fields.
 */
const RESERVED = new Set([
  'connection',
  'content-encoding',
  'content-length',
  'content-range',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Is `name` a valid field name (a token)? */
export function isFieldName(name: string): boolean {
  return TOKEN.test(name);
}

/** Would `value` (already trimmed) be a valid field value? */
export function isFieldValue(value: string): boolean {
  return !INVALID_VALUE_CHAR.test(value);
}

/**
 * Check one header and return it with its value trimmed (leading and trailing whitespace
 * are not part of a field value, RFC 9110 §5.5). `source` names where it came from in the
 * error, e.g. `--header "X Y: 1"`.
 */
export function checkHeaderField(name: string, value: string, source: string): HeaderField {
  if (!isFieldName(name)) {
    throw new UsageError(`invalid ${source}: the name ${JSON.stringify(name)} must be a token (letters, digits and !#$%&'*+-.^_\`|~, no spaces)`);
  }
  if (RESERVED.has(name.toLowerCase())) {
    throw new UsageError(`invalid ${source}: ${name} is set by serve-dir from the bytes it sends and cannot be overridden`);
  }
  const trimmed = value.replace(/^[ \t]+|[ \t]+$/g, '');
  const bad = INVALID_VALUE_CHAR.exec(trimmed);
  if (bad !== null) {
    const code = bad[0].codePointAt(0) ?? 0;
    const what = code === 0x0d ? 'CR' : code === 0x0a ? 'LF' : code === 0 ? 'NUL' : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new UsageError(`invalid ${source}: the value of ${name} contains ${what}; only visible characters, spaces and tabs are allowed`);
  }
  return { name, value: trimmed };
}

/** Parse `-H "Name: value"` (curl's form: the first colon separates; the value may be empty). */
export function parseHeaderLine(line: string, flag = '--header'): HeaderField {
  const source = `${flag} ${JSON.stringify(line)}`;
  const colon = line.indexOf(':');
  if (colon === -1) throw new UsageError(`invalid ${source}: expected "Name: value"`);
  // No whitespace is allowed between a field name and the colon (RFC 9112 §5.1).
  return checkHeaderField(line.slice(0, colon), line.slice(colon + 1), source);
}

/**
 * Compile a `source` glob (the dialect is described at the top of this file) into a
 * predicate over URL paths. Throws a UsageError naming the pattern when it is malformed.
 */
export function compilePathGlob(pattern: string, label = `headers source ${JSON.stringify(pattern)}`): (urlPath: string) => boolean {
  if (pattern === '') throw new UsageError(`invalid ${label}: empty pattern`);
  if (!pattern.startsWith('/')) {
    if (pattern.includes('/')) throw new UsageError(`invalid ${label}: start it with "/" to anchor it at the root, or use a bare name such as "*.js"`);
    if (pattern === '**') return () => true;
    const last = new RegExp(`^${segmentRegex(pattern, label)}$`);
    return (urlPath) => last.test(urlPath.slice(urlPath.lastIndexOf('/') + 1));
  }
  const segments = pattern.slice(1).split('/');
  let source = '';
  segments.forEach((segment, i) => {
    if (segment === '**') {
      // Zero or more whole segments, with their slashes; at the end also the bare folder.
      source += i === segments.length - 1 ? '(?:/.*)?' : '(?:/[^/]*)*';
    } else {
      source += `/${segmentRegex(segment, label)}`;
    }
  });
  const anchored = new RegExp(`^${source}$`);
  return (urlPath) => anchored.test(urlPath);
}

function segmentRegex(segment: string, label: string): string {
  if (segment.includes('**')) throw new UsageError(`invalid ${label}: "**" must be a whole segment, as in "/assets/**"`);
  return segment
    .split('*')
    .map((literal) => literal.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&'))
    .join('[^/]*');
}

/**
 * Build the rules once at start-up: `global` from `-H` (already parsed), `scoped` from the
 * config file (checked here). Throws a UsageError naming the bad rule.
 */
export function createHeaderRules(global: readonly HeaderField[], scoped: readonly ScopedHeadersConfig[] = []): HeaderRules {
  const rules = scoped.map((rule, i) => ({
    matches: compilePathGlob(rule.source, `headers[${i}].source ${JSON.stringify(rule.source)}`),
    fields: Object.entries(rule.headers).map(([name, value]) => checkHeaderField(name, value, `headers[${i}] header ${JSON.stringify(name)}`)),
  }));
  const globalOnly = dedupe(global);
  return {
    empty: globalOnly.length === 0 && rules.every((rule) => rule.fields.length === 0),
    forPath(urlPath) {
      let fields: HeaderField[] | undefined;
      for (const rule of rules) {
        if (rule.matches(urlPath)) (fields ??= [...globalOnly]).push(...rule.fields);
      }
      return fields === undefined ? globalOnly : dedupe(fields);
    },
  };
}

/** Keep the last field of each name (case-insensitively), in the order of their first use. */
function dedupe(fields: readonly HeaderField[]): HeaderField[] {
  const byName = new Map<string, HeaderField>();
  for (const field of fields) {
    const key = field.name.toLowerCase();
    byName.delete(key);
    byName.set(key, field);
  }
  return [...byName.values()];
}

/**
 * Put user headers over the built-in ones: one value per name, the user's (so `-H
 * "Cache-Control: no-store"` replaces serve-dir's `no-cache` instead of adding a second
 * field). Returns a new object; keys of `builtIn` are matched without regard to case.
 *
 * Vary is the exception: it is joined, not replaced. Dropping serve-dir's `Accept-Encoding`
 * would let a cache hand a gzip body to a client that cannot decode it (RFC 9110 §12.5.5).
 */
export function applyUserHeaders(builtIn: OutgoingHttpHeaders, user: readonly HeaderField[]): OutgoingHttpHeaders {
  if (user.length === 0) return builtIn;
  const merged: OutgoingHttpHeaders = {};
  const overridden = new Set(user.map((field) => field.name.toLowerCase()));
  let builtInVary = '';
  for (const [name, value] of Object.entries(builtIn)) {
    const lower = name.toLowerCase();
    if (lower === 'vary' && value !== undefined) builtInVary = String(value);
    if (!overridden.has(lower)) merged[name] = value;
  }
  for (const field of user) {
    const name = field.name.toLowerCase();
    merged[name] = name === 'vary' ? joinVary(builtInVary, field.value) : field.value;
  }
  return merged;
}

/** The union of two Vary lists, without duplicates (names compared without case); "*" absorbs all. */
function joinVary(builtIn: string, user: string): string {
  const names = new Map<string, string>();
  for (const member of `${builtIn},${user}`.split(',')) {
    const name = member.trim();
    if (name !== '') names.set(name.toLowerCase(), name);
  }
  return names.has('*') ? '*' : [...names.values()].join(', ');
}
