/**
 * IP address syntax, as node:net's isIP answers it, without loading node:net: the commands
 * that only read files (validate, list) should not pay for the socket layer at start-up.
 */

const IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const ZONE = /^[0-9a-zA-Z\-.:]+$/;

export function isIPv4(text: string): boolean {
  return IPV4.test(text);
}

/** Eight hex groups, `::` standing for one or more zero groups, an IPv4 tail, a `%zone`. */
export function isIPv6(text: string): boolean {
  if (!text.includes(':')) return false;
  const percent = text.indexOf('%');
  const address = percent < 0 ? text : text.slice(0, percent);
  if (percent >= 0 && !ZONE.test(text.slice(percent + 1))) return false;
  const halves = address.split('::');
  if (halves.length > 2) return false;
  const groups = halves.map((half) => (half === '' ? [] : half.split(':')));
  const all = groups.flat();
  const last = all[all.length - 1];
  const ipv4Tail = last !== undefined && last.includes('.');
  if (ipv4Tail && (!isIPv4(last) || halves[halves.length - 1] === '')) return false;
  const hex = ipv4Tail ? all.slice(0, -1) : all;
  if (!hex.every((group) => HEX_GROUP.test(group))) return false;
  const size = hex.length + (ipv4Tail ? 2 : 0);
  return halves.length === 2 ? size <= 7 : size === 8;
}

/** IPv4 or IPv6: the address family a connection is held to. */
export type IpFamily = 4 | 6;

/** 4, 6, or 0 when the text is not an IP address. */
export function isIP(text: string): 0 | 4 | 6 {
  if (isIPv4(text)) return 4;
  return isIPv6(text) ? 6 : 0;
}
