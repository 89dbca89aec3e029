import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  exchange,
  FIXTURE_SITE,
  headersExceptDate,
  parseResponse,
  request,
  serveDirectory,
  type RawResponse,
} from '../helpers/server.js';

let port: number;

beforeAll(async () => {
  ({ port } = await serveDirectory(FIXTURE_SITE));
});
afterAll(cleanup);

const ALLOW = 'GET, HEAD, OPTIONS';

describe('methods', () => {
  // [target, what it is]: HEAD must describe exactly what GET would send.
  it.each([
    ['/', 'index page'],
    ['/css/site.css', 'small file'],
    ['/hello%20world.txt', 'encoded name'],
    ['/docs/', 'listing'],
    ['/docs', 'slash redirect'],
    ['/missing', 'custom 404'],
    ['/%zz', 'bad request'],
  ])('HEAD %s (%s) has exactly the headers of GET and no body', async (target) => {
    const get = await request(port, target);
    const head = await request(port, target, { method: 'HEAD' });
    expect(head.status).toBe(get.status);
    expect(headersExceptDate(head)).toEqual(headersExceptDate(get));
    // Same names in the same order, not only the same values.
    const names = (response: RawResponse) => response.headerNames.filter((name) => name.toLowerCase() !== 'date');
    expect(names(head)).toEqual(names(get));
    expect(head.body.length).toBe(0);
    expect(get.body.length).toBe(Number(get.headers['content-length']));
  });

  it.each(['/', '/css/site.css', '/docs/', '/missing', '*'])('OPTIONS %s → 204 with Allow and no body', async (target) => {
    const response = await request(port, target, { method: 'OPTIONS' });
    expect(response.status).toBe(204);
    expect(response.headers['allow']).toBe(ALLOW);
    expect(response.body.length).toBe(0);
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'TRACE', 'PROPFIND', 'MKCOL'])('%s → 405 with Allow, nothing echoed', async (method) => {
    const response = await request(port, '/index.html', {
      method,
      headers: { 'X-Echo-Me': 'secret-request-header', 'Content-Length': '0' },
    });
    expect(response.status).toBe(405);
    expect(response.headers['allow']).toBe(ALLOW);
    expect(response.text).not.toContain('secret-request-header');
    expect(response.text).not.toContain('serve-dir demo'); // the file itself
  });

  it.each([
    ['CONNECT localhost:22 HTTP/1.1\r\nHost: localhost:22\r\n\r\n', 'authority form'],
    ['CONNECT /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n', 'path form'],
    // An HTTP/1 connection whose request line claims HTTP/2.0 still has a bare socket.
    ['CONNECT //client.js HTTP/2.0\r\nHost: localhost\r\n\r\n', 'HTTP/2.0 claimed over HTTP/1'],
  ])('CONNECT (%#, %s) → 405 with Allow, nothing tunnelled', async (bytes) => {
    const response = parseResponse(await exchange(port, bytes));
    expect(response.status).toBe(405);
    expect(response.headers['allow']).toBe(ALLOW);
  });

  it('an unknown method token is refused by the parser (400), never served', async () => {
    const response = await request(port, '/index.html', { method: 'BREW' });
    expect(response.status).toBe(400);
    expect(response.text).not.toContain('serve-dir demo');
  });
});
