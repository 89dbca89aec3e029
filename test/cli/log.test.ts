// The lines the terminal shows for requests, changes and our own bugs: every field that
// came from a request, a file name or an error message is shown, and shown inert.
import { createColors } from 'picocolors';
import { describe, expect, it } from 'vitest';
import { describeBatch, describeError, formatInternalError, formatRequestLine } from '../../src/log.js';

const plain = createColors(false);
const AT = new Date(2026, 0, 2, 12, 3, 4);

describe('formatRequestLine', () => {
  it.each([
    ['/css/site.css', '/css/site.css'],
    ['/a%1B%5B2J', '/a%1B%5B2J'],
    ['/a\x1b]0;title\x07', '/a\\x1b]0;title\\x07'],
    ['/a\x1b[2J', '/a\\x1b[2J'],
    ['/a\u009b2J', '/a\\x9b2J'],
    ['/a\r\n12:00:00 GET /admin 200', '/a\\r\\n12:00:00 GET /admin 200'],
    ['/\u202eevil', '/\\u202eevil'],
    [`/${'x'.repeat(400)}`, `/${'x'.repeat(299)}…`],
    [`/${'x'.repeat(299)}\x1b`, `/${'x'.repeat(299)}…`],
  ])('shows the target %j as %j', (target, shown) => {
    expect(formatRequestLine(plain, AT, 'GET', target, 200, 1024, 0.4)).toBe(`12:03:04 GET ${shown} 200 1.0 KiB 0.4 ms`);
  });

  it('shows the method inert too', () => {
    expect(formatRequestLine(plain, AT, 'GE\x1bT', '/', 400, 0, 1)).toBe('12:03:04 GE\\x1bT / 400 0 B 1.0 ms');
    expect(formatRequestLine(plain, AT, 'GET', '/big.bin', 'aborted', 65536, 12)).toBe('12:03:04 GET /big.bin aborted 64.0 KiB 12.0 ms');
  });
});

describe('describeBatch (the change line)', () => {
  it.each([
    [['/css/site.css'], 1, '↻ css/site.css → 1 page'],
    [['/a\x1b]0;pwned\x07.txt', '/b.txt'], 2, '↻ a\\x1b]0;pwned\\x07.txt (+1 more) → 2 pages'],
    [['/x\n12:00:00 GET /forged 200'], 0, '↻ x\\n12:00:00 GET /forged 200 → 0 pages'],
    [['/\u009b2J\u202e'], 0, '↻ \\x9b2J\\u202e → 0 pages'],
  ])('%j → %j', (paths, told, line) => {
    // picocolors follows the environment here; only the text matters.
    // eslint-disable-next-line no-control-regex
    expect(describeBatch(paths, told).replace(/\x1b\[\d+m/g, '')).toBe(line);
  });
});

describe('internal-error lines', () => {
  function hostileError(): Error {
    return Object.assign(new Error("EIO: i/o error, stat '/srv/a\x1b[2J\r\nserve-dir: all good'"), { code: 'EIO' });
  }

  it('keep the message on its line, made inert, followed by the stack frames', () => {
    const lines = describeError(hostileError()).split('\n');
    expect(lines[0]).toBe("Error: EIO: i/o error, stat '/srv/a\\x1b[2J\\r\\nserve-dir: all good'");
    expect(lines.length).toBeGreaterThan(1);
    for (const frame of lines.slice(1)) expect(frame).toMatch(/^\s+at /);
  });

  it('name the request, inert', () => {
    const text = formatInternalError('GET', '/a%1B\u009b', hostileError());
    expect(text.split('\n')[0]).toBe(
      "serve-dir: internal error while serving a request (GET /a%1B\\x9b): Error: EIO: i/o error, stat '/srv/a\\x1b[2J\\r\\nserve-dir: all good'",
    );
  });

  it.each([
    ['a string', 'boom\x1b[2J', "'boom\\x1B[2J'"],
    ['an error renamed after it was made', Object.assign(new Error('m\u202e\nx'), { name: 'Custom' }), 'Custom: m\\u202e\\nx'],
  ])('describe %s', (_what, error, head) => {
    const text = describeError(error);
    expect(text.split('\n')[0]).toBe(head);
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
  });
});
