import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { CORS_RESPONSE_HEADERS, isPreflight, preflightHeaders, requestedHeaderNames } from '../../src/http/cors.js';

const ORIGIN = 'https://app.example';

describe('isPreflight: OPTIONS with Origin and Access-Control-Request-Method', () => {
  const rows: Array<[string, IncomingHttpHeaders, boolean]> = [
    ['OPTIONS', { origin: ORIGIN, 'access-control-request-method': 'GET' }, true],
    ['OPTIONS', { origin: 'null', 'access-control-request-method': 'PUT' }, true], // opaque origins send "null"
    ['OPTIONS', { origin: ORIGIN }, false], // a plain OPTIONS: the server's usual 204 with Allow
    ['OPTIONS', { 'access-control-request-method': 'GET' }, false],
    ['OPTIONS', { origin: ORIGIN, 'access-control-request-method': '' }, false],
    ['OPTIONS', { origin: ORIGIN, 'access-control-request-method': 'GE T' }, false],
    ['GET', { origin: ORIGIN, 'access-control-request-method': 'GET' }, false],
    ['options', { origin: ORIGIN, 'access-control-request-method': 'GET' }, false], // methods are case-sensitive (RFC 9110 §9.1)
  ];
  it.each(rows)('%s %j -> %s', (method, headers, expected) => {
    expect(isPreflight(method, headers)).toBe(expected);
  });
});

describe('preflightHeaders: the 204', () => {
  it('allows GET and HEAD from any origin, with a max age and Vary', () => {
    expect(preflightHeaders('OPTIONS', { origin: ORIGIN, 'access-control-request-method': 'GET' })).toEqual({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, HEAD',
      'access-control-max-age': '600',
      vary: 'Access-Control-Request-Headers',
    });
  });

  // [Access-Control-Request-Headers, expected Access-Control-Allow-Headers]
  const rows: Array<[string | undefined, string | undefined]> = [
    [undefined, undefined],
    ['', undefined],
    ['x-requested-with', 'x-requested-with'],
    ['Authorization, X-Custom', 'authorization, x-custom'], // echoed: "*" never covers Authorization
    ['range', 'range'],
    [' a ,, b ,a', 'a, b'], // empty members and duplicates dropped
    ['good, bad name, also(bad), fine', 'good, fine'], // malformed names left out, not the list
    [',,,', undefined],
  ];
  it.each(rows)('requested %j -> allowed %j', (requested, allowed) => {
    const headers: IncomingHttpHeaders = { origin: ORIGIN, 'access-control-request-method': 'GET' };
    if (requested !== undefined) headers['access-control-request-headers'] = requested;
    expect(preflightHeaders('OPTIONS', headers)?.['access-control-allow-headers']).toBe(allowed);
  });

  it('answers a POST preflight the same way: the browser decides it is refused', () => {
    expect(preflightHeaders('OPTIONS', { origin: ORIGIN, 'access-control-request-method': 'POST' })?.['access-control-allow-methods']).toBe('GET, HEAD');
  });

  it('takes the max age from the caller', () => {
    expect(preflightHeaders('OPTIONS', { origin: ORIGIN, 'access-control-request-method': 'GET' }, 60)?.['access-control-max-age']).toBe('60');
  });

  it('is undefined for anything that is not a preflight', () => {
    expect(preflightHeaders('OPTIONS', {})).toBeUndefined();
    expect(preflightHeaders('GET', { origin: ORIGIN })).toBeUndefined();
  });
});

describe('requestedHeaderNames', () => {
  it('lower-cases and keeps the order of first appearance', () => {
    expect(requestedHeaderNames('X-B, x-a, X-b')).toEqual(['x-b', 'x-a']);
  });
});

describe('CORS_RESPONSE_HEADERS: every other response', () => {
  it('allows any origin and exposes what range and revalidation scripts read', () => {
    expect(CORS_RESPONSE_HEADERS).toEqual({
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'Accept-Ranges, Content-Encoding, Content-Range, ETag',
    });
    expect(Object.isFrozen(CORS_RESPONSE_HEADERS)).toBe(true);
  });
});
