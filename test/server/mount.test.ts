import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { mountOf, NO_MOUNT } from '../../src/stages/mount.js';

const req = (fields: { url: string; originalUrl?: string; baseUrl?: string }) => fields as unknown as IncomingMessage;

describe('mountOf', () => {
  // [url, originalUrl, baseUrl, prefix, shown, bare]
  it.each<[string, string | undefined, string | undefined, string, string, boolean]>([
    // Express names the mount in baseUrl.
    ['/a.txt', '/static/a.txt', '/static', '/static', '/static', false],
    ['/', '/static', '/static', '/static', '/static', true],
    ['/', '/static/', '/static', '/static', '/static', false],
    ['/?q=1', '/static?q=1', '/static', '/static', '/static', true],
    ['/x', '/caf%C3%A9/x', '/caf%C3%A9', '/caf%C3%A9', '/café', false],
    ['/x', '/x', '', '', '', false],
    // Connect: the mount is what was cut from the front of originalUrl.
    ['/a.txt', '/static/a.txt', undefined, '/static', '/static', false],
    ['/', '/static', undefined, '/static', '/static', true],
    ['/a.txt', '/a.txt', undefined, '', '', false],
    // Plain node:http: no originalUrl, no mount.
    ['/a.txt', undefined, undefined, '', '', false],
    // A prefix that could leave the server in a Location is never used.
    ['/', '//evil.example', '//evil.example', '', '', false],
    ['/', '/\\evil.example', '/\\evil.example', '', '', false],
    ['/', '/a\r\nSet-Cookie:x', '/a\r\nSet-Cookie:x', '', '', false],
    ['/', '/a%zz', '/a%zz', '/a%zz', '/a%zz', true],
  ])('url %s, originalUrl %s, baseUrl %s → %s', (url, originalUrl, baseUrl, prefix, shown, bare) => {
    const mount = mountOf(req({ url, ...(originalUrl === undefined ? {} : { originalUrl }), ...(baseUrl === undefined ? {} : { baseUrl }) }));
    if (prefix === '') expect(mount).toBe(NO_MOUNT);
    else expect(mount).toEqual({ prefix, shown, bare });
  });
});
