// Which IP addresses URL input may connect to by default: public unicast only. An image URL is
// chosen by the client, so without this check the server could be made to fetch from itself, its
// private network or a cloud metadata service (SSRF). The check runs on resolved addresses (see
// url-input.ts), so the tables here only ever see IP literals.
import { isIP } from 'node:net';

type Range = readonly [prefix: string, bits: number, reason: string];

// IPv4 ranges that are not public unicast (IANA special-purpose registry), the most specific first
// where they overlap so that the reason given is the precise one.
const V4_RANGES: readonly Range[] = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared address space (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.169.254', 32, 'link-local (cloud metadata service)'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['255.255.255.255', 32, 'broadcast'],
  ['240.0.0.0', 4, 'reserved'],
];

// IPv6 ranges that are not public unicast. Ranges that embed an IPv4 address (IPv4-mapped, NAT64,
// 6to4) are not here: they are judged by the address they embed. Anything outside 2000::/3 (global
// unicast) is refused as well, which covers what this list does not name.
const V6_RANGES: readonly Range[] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['::', 96, 'IPv4-compatible (deprecated)'],
  ['64:ff9b:1::', 48, 'NAT64 local-use'],
  ['100::', 64, 'discard-only'],
  ['2001:db8::', 32, 'documentation'],
  ['2001::', 23, 'IETF protocol assignments (Teredo, benchmarking, ORCHID)'],
  ['3fff::', 20, 'documentation'],
  ['fc00::', 7, 'unique local (private)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast'],
];

function v4ToBigInt(address: string): bigint {
  return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** The 128-bit value of a valid IPv6 address (net.isIPv6 has checked it), a dotted IPv4 tail included. */
function v6ToBigInt(address: string): bigint {
  let text = address;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = v4ToBigInt(dotted[1]!);
    text = `${text.slice(0, dotted.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].reduce((acc, group) => (acc << 16n) | BigInt(`0x${group}`), 0n);
}

function compile(ranges: readonly Range[], width: bigint, parse: (a: string) => bigint) {
  return ranges.map(([prefix, bits, reason]) => {
    const mask = ((1n << width) - 1n) ^ ((1n << (width - BigInt(bits))) - 1n);
    return { base: parse(prefix) & mask, mask, reason };
  });
}

const V4 = compile(V4_RANGES, 32n, v4ToBigInt);
const V6 = compile(V6_RANGES, 128n, v6ToBigInt);

function v4Refusal(value: bigint): string | null {
  return V4.find((r) => (value & r.mask) === r.base)?.reason ?? null;
}

function v6Refusal(value: bigint): string | null {
  // IPv4-mapped (::ffff:0:0/96) and NAT64 (64:ff9b::/96) reach the IPv4 address in their low 32 bits.
  const high96 = value >> 32n;
  const low32 = value & 0xffffffffn;
  if (high96 === 0xffffn) return prefixed('IPv4-mapped', v4Refusal(low32));
  if (high96 === 0x64ff9b0000000000000000n) return prefixed('NAT64', v4Refusal(low32));
  // 6to4 (2002::/16) carries an IPv4 address in bits 16..47, reached through a relay.
  if (value >> 112n === 0x2002n) return prefixed('6to4', v4Refusal((value >> 80n) & 0xffffffffn));
  const named = V6.find((r) => (value & r.mask) === r.base)?.reason;
  if (named) return named;
  return value >> 125n === 1n ? null : 'not global unicast';
}

function prefixed(kind: string, reason: string | null): string | null {
  return reason === null ? null : `${kind} ${reason}`;
}

/**
 * Why `address` is not a public unicast address ('loopback', 'private', 'IPv4-mapped loopback', …),
 * or null when it is one. The text decides the family; something that is not an IP address is refused.
 */
export function addressRefusal(address: string): string | null {
  // A zone index (fe80::1%eth0) only ever comes with link-local addresses; the address decides.
  const plain = address.replace(/%.*$/, '');
  switch (isIP(plain)) {
    case 4:
      return v4Refusal(v4ToBigInt(plain));
    case 6:
      return v6Refusal(v6ToBigInt(plain));
    default:
      return 'not an IP address';
  }
}

/**
 * UrlInputOptions' default `isAllowedAddress`: true for public unicast addresses only. `family` is
 * accepted for the predicate's signature; the address's own text decides how it is read.
 */
export function isPublicAddress(address: string, _family: 4 | 6): boolean {
  return addressRefusal(address) === null;
}
