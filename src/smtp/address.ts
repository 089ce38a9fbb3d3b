import { isIPv6 } from '../ip.js';

/** `host:port`, with IPv6 literals in brackets so the port stays readable: `[::1]:25`. */
export function formatAddress(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
