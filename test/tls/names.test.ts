import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/options.js';
import { defaultCertificateNames, ipOctets, parseCertificateName } from '../../src/tls/names.js';

describe('ipOctets', () => {
  // [address, expected octets as hex]
  const cases: Array<[string, string]> = [
    ['127.0.0.1', '7f000001'],
    ['192.168.1.20', 'c0a80114'],
    ['::1', '00000000000000000000000000000001'],
    ['::', '00000000000000000000000000000000'],
    ['fd00::2', 'fd000000000000000000000000000002'],
    ['2001:db8::8:800:200c:417a', '20010db80000000000080800200c417a'],
    ['2001:DB8:0:0:0:0:0:1', '20010db8000000000000000000000001'],
    ['1::', '00010000000000000000000000000000'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['64:ff9b::192.0.2.33', '0064ff9b0000000000000000c0000221'],
  ];
  it.each(cases)('%s', (address, expected) => {
    expect(ipOctets(address).toString('hex')).toBe(expected);
  });
});

describe('parseCertificateName', () => {
  // [input, what goes into the certificate]
  const cases: Array<[string, ReturnType<typeof parseCertificateName>['kind'], string]> = [
    ['localhost', 'dns', 'localhost'],
    ['My-Laptop.Local', 'dns', 'my-laptop.local'], // dNSName comparisons are case-insensitive; store lower case
    ['bücher.test', 'dns', 'xn--bcher-kva.test'], // IA5String: IDNs as A-labels (RFC 5280 §7.2)
    ['*.example.test', 'dns', '*.example.test'],
    ['127.0.0.1', 'ip', '127.0.0.1'],
    ['::1', 'ip', '::1'],
    ['0x7f.1', 'ip', '127.0.0.1'], // a browser reads this host as 127.0.0.1
  ];
  it.each(cases)('%s', (input, kind, value) => {
    const name = parseCertificateName(input);
    expect(name.kind).toBe(kind);
    expect(name.kind === 'dns' ? name.name : name.address).toBe(value);
  });

  const invalid = ['', 'a b', 'http://localhost', 'fe80::1%eth0', 'local host', 'a/b', '[::1]'];
  it.each(invalid)('refuses %j with a one-line UsageError', (input) => {
    expect(() => parseCertificateName(input)).toThrow(UsageError);
    expect(() => parseCertificateName(input)).toThrow(/^cannot issue a certificate for ".*": not a host name or an IP address$/);
  });
});

describe('defaultCertificateNames', () => {
  const address = (value: string, internal = false): NetworkInterfaceInfo =>
    value.includes(':')
      ? { address: value, family: 'IPv6', internal, netmask: 'ffff:ffff:ffff:ffff::', mac: '00:00:00:00:00:00', cidr: null, scopeid: 0 }
      : { address: value, family: 'IPv4', internal, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', cidr: null };

  it('names localhost, both loopbacks and the LAN addresses, without link-local or duplicates', () => {
    const names = defaultCertificateNames({
      lo: [address('127.0.0.1', true), address('::1', true)],
      eth0: [address('192.168.1.20'), address('fd00::2'), address('fe80::fc:ff:fe00:1')],
      wlan0: [address('10.0.0.5'), address('FE80::1')],
      docker0: [address('192.168.1.20')],
    });
    expect(names).toEqual(['localhost', '127.0.0.1', '::1', '192.168.1.20', 'fd00::2', '10.0.0.5']);
  });

  it('still names localhost and the loopbacks on a machine with no network', () => {
    expect(defaultCertificateNames({})).toEqual(['localhost', '127.0.0.1', '::1']);
  });
});
