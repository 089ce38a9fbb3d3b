import { isIPv4, isIPv6 } from '../ip.js';

/**
 * Reverse names of IP addresses: the labels under in-addr.arpa / ip6.arpa (RFC 1035 §3.5, RFC 3596 §2.5)
 * and, without the suffix, the labels a DNS block list is queried with (RFC 5782 §2.1, §2.4).
 */

/** The eight 16-bit groups of an IPv6 address (zone dropped, an IPv4 tail turned into two groups). */
export function ipv6Groups(address: string): number[] {
  const bare = address.split('%')[0] as string;
  const [head = '', tail] = bare.split('::');
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [parseInt(group, 16)];
          const [a, b, c, d] = group.split('.').map(Number) as [number, number, number, number];
          return [(a << 8) | b, (c << 8) | d];
        });
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const zeros = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<number>(zeros).fill(0), ...right];
}

/** The address with its octets (IPv4) or nibbles (IPv6) reversed, dot-separated; undefined for a non-address. */
export function reversedLabels(address: string): string | undefined {
  if (isIPv4(address)) return address.split('.').reverse().join('.');
  if (!isIPv6(address)) return undefined;
  const hex = ipv6Groups(address)
    .map((group) => group.toString(16).padStart(4, '0'))
    .join('');
  return [...hex].reverse().join('.');
}

/** The PTR name of an address: `4.3.2.1.in-addr.arpa` or the 32 nibbles under `ip6.arpa`. */
export function reverseName(address: string): string | undefined {
  const labels = reversedLabels(address);
  if (labels === undefined) return undefined;
  return `${labels}.${isIPv4(address) ? 'in-addr.arpa' : 'ip6.arpa'}`;
}

/** One spelling per address, so that two spellings of an IPv6 address compare equal. */
export function canonicalAddress(address: string): string {
  if (isIPv6(address)) return ipv6Groups(address).map((group) => group.toString(16)).join(':');
  return address;
}

/** A domain name compared without case or a trailing dot. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}
