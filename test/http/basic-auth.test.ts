import { describe, expect, it } from 'vitest';
import {
  authSetting,
  basicChallenge,
  createBasicAuth,
  parseAuthorization,
  parseCredentials,
  type Credentials,
} from '../../src/http/basic-auth.js';
import { UsageError } from '../../src/options.js';

const basic = (userPass: string) => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;

describe('parseCredentials: --auth user:password', () => {
  const valid: Array<[string, Credentials]> = [
    ['alice:secret', { user: 'alice', password: 'secret' }],
    ['alice:se:cr:et', { user: 'alice', password: 'se:cr:et' }], // the user ends at the first colon
    ['al ice:pass word', { user: 'al ice', password: 'pass word' }],
    ['jos\u00e9:m\u00fcnchen', { user: 'jos\u00e9', password: 'm\u00fcnchen' }],
  ];
  it.each(valid)('%j', (text, expected) => {
    expect(parseCredentials(text)).toEqual(expected);
  });

  const invalid: Array<[string, RegExp]> = [
    ['alice', /expected user:password/],
    [':secret', /expected user:password/],
    ['alice:', /expected user:password/],
    ['', /expected user:password/],
    ['alice:sec\nret', /control characters/],
    ['al\tice:secret', /control characters/],
  ];
  it.each(invalid)('%j is a usage error that does not repeat the password', (text, message) => {
    let error: unknown;
    try {
      parseCredentials(text, 'SERVE_DIR_AUTH');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toMatch(/^invalid SERVE_DIR_AUTH: /);
    if (text.includes(':') && text.length > 6) expect((error as Error).message).not.toContain(text.slice(text.indexOf(':') + 1));
  });
});

describe('authSetting: the flag, else SERVE_DIR_AUTH', () => {
  const rows: Array<[string | undefined, Record<string, string | undefined>, string | undefined]> = [
    ['a:b', { SERVE_DIR_AUTH: 'c:d' }, 'a:b'],
    [undefined, { SERVE_DIR_AUTH: 'c:d' }, 'c:d'],
    [undefined, { SERVE_DIR_AUTH: '' }, undefined],
    [undefined, {}, undefined],
  ];
  it.each(rows)('flag %j, env %j -> %j', (flag, env, expected) => {
    expect(authSetting(flag, env)).toBe(expected);
  });
});

describe('parseAuthorization: RFC 7617 §2', () => {
  const rows: Array<[string | undefined, Credentials | undefined]> = [
    [undefined, undefined],
    ['', undefined],
    [basic('alice:secret'), { user: 'alice', password: 'secret' }],
    ['Basic YWxpY2U6c2VjcmV0', { user: 'alice', password: 'secret' }],
    ['basic YWxpY2U6c2VjcmV0', { user: 'alice', password: 'secret' }], // scheme is case-insensitive
    ['BASIC YWxpY2U6c2VjcmV0', { user: 'alice', password: 'secret' }],
    ['Basic  YWxpY2U6c2VjcmV0 ', { user: 'alice', password: 'secret' }],
    [basic('alice:se:cret'), { user: 'alice', password: 'se:cret' }],
    [basic('alice:'), { user: 'alice', password: '' }],
    [basic('jos\u00e9:p\u00e4ss'), { user: 'jos\u00e9', password: 'p\u00e4ss' }], // UTF-8
    [`Basic ${Buffer.from('jos\u00e9:x', 'latin1').toString('base64')}`, undefined], // not UTF-8
    [basic('nocolon'), undefined],
    ['Bearer YWxpY2U6c2VjcmV0', undefined],
    ['BasicYWxpY2U6c2VjcmV0', undefined],
    ['Basic', undefined],
    ['Basic not*base64', undefined],
    ['Basic YWxpY2U6c2VjcmV0 extra', undefined],
  ];
  it.each(rows)('%j -> %j', (header, expected) => {
    expect(parseAuthorization(header)).toEqual(expected);
  });
});

describe('createBasicAuth: check and challenge', () => {
  const auth = createBasicAuth({ user: 'alice', password: 'p\u00e4ss:word' });
  const rows: Array<[string | undefined, boolean]> = [
    [basic('alice:p\u00e4ss:word'), true],
    [basic('alice:pa\u0308ss:word'), true], // the same password, decomposed (NFD): RFC 7617 §2.1 normalises
    [basic('alice:p\u00e4ss:wor'), false],
    [basic('alice:p\u00e4ss:wordx'), false],
    [basic('Alice:p\u00e4ss:word'), false], // the user is case-sensitive
    [basic('alice:'), false],
    [basic(':'), false],
    [undefined, false],
    ['Basic garbage!', false],
  ];
  it.each(rows)('%j -> %s', (header, expected) => {
    expect(auth.check(header)).toBe(expected);
  });

  it('challenges with the realm and charset of RFC 7617 §2.1', () => {
    expect(auth.challenge).toBe('Basic realm="serve-dir", charset="UTF-8"');
    expect(basicChallenge('a "quoted" \\ realm')).toBe('Basic realm="a \\"quoted\\" \\\\ realm", charset="UTF-8"');
  });

  it('an empty configured password is never matched by a missing header', () => {
    // parseCredentials refuses it, but the check must not depend on that.
    const empty = createBasicAuth({ user: '', password: '' });
    expect(empty.check(undefined)).toBe(false);
  });
});
