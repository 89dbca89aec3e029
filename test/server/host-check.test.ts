// The Host check decides from where the server actually listens: which addresses are
// loopback however they are written, and which Host names count as loopback ones.
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { RequestContext } from '../../src/context.js';
import { resolveOptions } from '../../src/options.js';
import { createHostCheck, isLoopbackAddress, isLoopbackName } from '../../src/stages/host.js';

describe('isLoopbackAddress', () => {
  it.each([
    // what server.address() reports
    ['127.0.0.1', true],
    ['127.255.255.254', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:127.1.2.3', true],
    // the spellings a listen() accepts for them
    ['127.1', true],
    ['0177.0.0.1', true],
    ['2130706433', true],
    ['0x7f.1', true],
    ['0x7f000001', true],
    ['0:0::1', true],
    ['::0:1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['[::1]', true],
    ['::FFFF:7F00:1', true],
    ['::ffff:7fff:ffff', true],
    // not loopback
    ['0.0.0.0', false],
    ['::', false],
    ['0', false],
    ['128.0.0.1', false],
    ['126.255.255.255', false],
    ['10.0.0.1', false],
    ['192.168.1.10', false],
    ['::2', false],
    ['::ffff:128.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['::127.0.0.1', false], // IPv4-compatible, not mapped: a different address
    ['fe80::1', false],
    ['fe80::1%lo', false],
    ['::1%lo', false],
    ['localhost', false], // a name, not an address
    ['127.0.0.1.evil.example', false],
    ['', false],
  ])('%j → %s', (address, loopback) => {
    expect(isLoopbackAddress(address)).toBe(loopback);
  });
});

describe('isLoopbackName (a Host name)', () => {
  it.each([
    ['localhost', true],
    ['foo.localhost', true],
    ['127.0.0.1', true],
    ['127.1', true],
    ['::1', true],
    ['0:0::1', true],
    ['::ffff:7f00:1', true], // how a browser writes [::ffff:127.0.0.1]
    ['::ffff:127.0.0.1', true],
    ['evil.example', false],
    ['127.0.0.1.evil.example', false],
    ['localhost.evil.example', false],
    ['face.b00c', false],
    ['0.0.0.0', false],
    ['', false],
  ])('%j → %s', (name, loopback) => {
    expect(isLoopbackName(name)).toBe(loopback);
  });
});

describe('createHostCheck follows the addresses it is told', () => {
  /** The status the check settles for `host` (200: passed on to the next stage). */
  function statusFor(check: ReturnType<typeof createHostCheck>, host: string): number {
    const req = { headers: { host }, rawHeaders: ['Host', host] } as unknown as IncomingMessage;
    const ctx = { req, headers: {}, status: 200, mount: { prefix: '', shown: '' } } as unknown as RequestContext;
    check(ctx);
    return ctx.status;
  }

  it.each([
    ['0.0.0.0', ['127.0.0.1'], 403],
    ['127.1', ['127.0.0.1'], 403],
    ['::ffff:127.0.0.1', ['::ffff:127.0.0.1'], 403],
    ['localhost', ['127.0.0.1', '::1'], 403],
    ['localhost', ['127.0.0.1', '10.0.0.1'], 200],
    ['localhost', ['0.0.0.0'], 200],
    ['127.0.0.1', ['::'], 200],
  ])('bind %j, listening on %j: Host evil.example → %i', (bind, addresses, status) => {
    const check = createHostCheck({ ...resolveOptions({ checkHost: true, log: () => {} }), bind });
    check.listeningOn(addresses);
    expect(statusFor(check, 'evil.example')).toBe(status);
    expect(statusFor(check, 'localhost')).toBe(200);
  });
});
