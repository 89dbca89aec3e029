// HTTP Basic authentication (RFC 7617) for `--auth user:password` / SERVE_DIR_AUTH.
//
// Basic sends the password in every request, readable by anyone on the path: it keeps a
// server bound to a network away from passers-by, it is no substitute for TLS.

import { createHash, timingSafeEqual } from 'node:crypto';
import { UsageError } from '../options.js';

/** The environment variable read when `--auth` is not given: keeps the password out of shell history. */
export const AUTH_ENVIRONMENT_VARIABLE = 'SERVE_DIR_AUTH';

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

/** Built once per server from the configured credentials. */
export interface BasicAuth {
  /** Does this `Authorization` header carry the configured credentials? Constant time. */
  check(authorization: string | undefined): boolean;
  /** The `WWW-Authenticate` value of a 401. */
  readonly challenge: string;
}

/** RFC 7617 §2: "The user-id and password MUST NOT contain any control characters". */
const CONTROL = /[\x00-\x1f\x7f]/;

/**
 * The setting in force: the flag (or config key) if given, else the environment variable;
 * undefined when neither is set or the variable is empty.
 */
export function authSetting(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (flag !== undefined) return flag;
  const fromEnvironment = env[AUTH_ENVIRONMENT_VARIABLE];
  return fromEnvironment === undefined || fromEnvironment === '' ? undefined : fromEnvironment;
}

/**
 * Parse `user:password`. The user ends at the first colon (RFC 7617 §2: a user-id containing
 * a colon cannot be sent), so the password may contain colons. The error never repeats the
 * value: it holds a password and may end up in a log.
 */
export function parseCredentials(text: string, source = '--auth'): Credentials {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) {
    throw new UsageError(`invalid ${source}: expected user:password, both non-empty`);
  }
  if (CONTROL.test(text)) throw new UsageError(`invalid ${source}: the user and password must not contain control characters`);
  return { user: text.slice(0, colon), password: text.slice(colon + 1) };
}

/**
 * The credentials of an `Authorization: Basic <base64>` header, or undefined when it is
 * absent, another scheme, not base64, not UTF-8, or without a colon. The scheme is
 * case-insensitive (RFC 9110 §11.1); the user-pass is UTF-8, as the challenge's
 * `charset="UTF-8"` asks (RFC 7617 §2.1).
 */
export function parseAuthorization(header: string | undefined): Credentials | undefined {
  if (header === undefined) return undefined;
  const match = /^[ \t]*basic[ ]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  if (match === null) return undefined;
  let userPass: string;
  try {
    userPass = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(match[1] as string, 'base64'));
  } catch {
    return undefined;
  }
  const colon = userPass.indexOf(':');
  if (colon === -1) return undefined;
  return { user: userPass.slice(0, colon), password: userPass.slice(colon + 1) };
}

/**
 * The challenge of a 401 (RFC 7617 §2, §2.1). The realm is a quoted-string (RFC 9110 §5.6.4),
 * so '"' and '\' are escaped.
 */
export function basicChallenge(realm = 'serve-dir'): string {
  return `Basic realm="${realm.replace(/["\\]/g, '\\$&')}", charset="UTF-8"`;
}

/**
 * Both sides are normalised to NFC, as RFC 7617 §2.1 asks through the profiles of RFC 8265,
 * so "é" typed as one code point or as e + accent is the same password. Then they are
 * compared as SHA-256 digests with timingSafeEqual: the digests always have the same length,
 * so neither the length of the password nor the position of the first wrong character shows
 * in the response time.
 */
export function createBasicAuth(credentials: Credentials, realm = 'serve-dir'): BasicAuth {
  const expected = digest(credentials);
  return {
    challenge: basicChallenge(realm),
    check(authorization) {
      const given = parseAuthorization(authorization);
      // Hash something even without credentials, so "no header" and "wrong password" cost the same.
      return timingSafeEqual(digest(given ?? { user: '', password: '' }), expected) && given !== undefined;
    },
  };
}

function digest(credentials: Credentials): Buffer {
  // The user cannot contain ':', so "user:password" is unambiguous.
  return createHash('sha256').update(`${credentials.user.normalize('NFC')}:${credentials.password.normalize('NFC')}`).digest();
}
