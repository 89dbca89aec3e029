/**
 * The names a development certificate is for, and how each becomes a
 * subjectAltName entry (RFC 5280 §4.2.1.6): host names as dNSName, addresses
 * as iPAddress octets (4 for IPv4, 16 for IPv6).
 */
import { isIP, isIPv4 } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { domainToASCII } from 'node:url';
import { UsageError } from '../options.js';

/** Dot-separated labels of letters, digits, `-` and `_` (which browsers accept), optionally under `*.`. */
const HOST_NAME = /^(?:\*\.)?(?:[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;

export type CertificateName = { kind: 'dns'; name: string } | { kind: 'ip'; address: string; octets: Buffer };

/**
 * Where a browser may reach this machine's server: `localhost`, both loopback
 * addresses, and every non-internal address (a phone on the same network).
 * IPv6 link-local addresses are left out: a URL can only use them with a zone
 * (`[fe80::1%25eth0]`), which browsers refuse, and the banner does not list them.
 */
export function defaultCertificateNames(
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string[] {
  const names = new Set(['localhost', '127.0.0.1', '::1']);
  for (const addresses of Object.values(interfaces)) {
    for (const address of addresses ?? []) {
      if (address.internal || isIpv6LinkLocal(address.address)) continue;
      names.add(address.address);
    }
  }
  return [...names];
}

function isIpv6LinkLocal(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address);
}

/**
 * One name as it goes into the certificate. Host names are lowercased and
 * IDNs become A-labels, since dNSName is an IA5String (RFC 5280 §7.2); a name
 * that is neither a host name nor an address is the user's mistake.
 */
export function parseCertificateName(text: string): CertificateName {
  if (isIP(text) !== 0 && !text.includes('%')) return { kind: 'ip', address: text, octets: ipOctets(text) };
  // domainToASCII parses a URL's host, so it would read `a/b` as `a`: no URL syntax allowed.
  const ascii = /[/\\?#@:[\]%]/.test(text) ? '' : domainToASCII(text);
  if (!HOST_NAME.test(ascii)) {
    throw new UsageError(`cannot issue a certificate for "${text}": not a host name or an IP address`);
  }
  // The URL parser reads hosts such as 0x7f.1 as IPv4: so would a browser.
  if (isIPv4(ascii)) return { kind: 'ip', address: ascii, octets: ipOctets(ascii) };
  return { kind: 'dns', name: ascii };
}

/** Network-order octets of an address that `net.isIP` accepts and that has no zone. */
export function ipOctets(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  const halves = address.split('::');
  const groupsOf = (part: string | undefined): number[] =>
    part === undefined || part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!isIPv4(group)) return [parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  const groups = halves.length === 1 ? head : [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  const octets = Buffer.alloc(16);
  groups.forEach((group, index) => octets.writeUInt16BE(group, index * 2));
  return octets;
}
