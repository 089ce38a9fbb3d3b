import { isIP, isIPv4, SocketAddress } from 'node:net';

/**
 * PROXY protocol headers (HAProxy's proxy-protocol.txt, versions 1 and 2), sent first on a TCP
 * connection so a server behind a load balancer sees the original client's address.
 */

export interface Endpoint {
  host: string;
  port: number;
}

export interface ProxyHeaderSettings {
  version: 1 | 2;
  source: Endpoint;
  /** Default: the address and port actually connected to. */
  destination?: Endpoint;
}

/** The 12-byte signature that starts every v2 header. */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** Version 2, command PROXY. */
const V2_VERSION_COMMAND = 0x21;
const V2_TCP_OVER_IPV4 = 0x11;
const V2_TCP_OVER_IPV6 = 0x21;

interface Addresses {
  family: 4 | 6;
  source: Endpoint;
  destination: Endpoint;
}

/**
 * The header for a connection to `actualDestination`. Both addresses must be IP literals; when one is
 * IPv4 and the other IPv6, the IPv4 one is written in its IPv4-mapped IPv6 form (`::ffff:192.0.2.1`).
 * Throws a RangeError for an address that is not an IP literal or a port out of range.
 */
export function proxyHeader(settings: ProxyHeaderSettings, actualDestination: Endpoint): Buffer {
  const addresses = pairAddresses(settings.source, settings.destination ?? actualDestination);
  return settings.version === 1 ? headerV1(addresses) : headerV2(addresses);
}

/**
 * A one-line description of a header for the transcript:
 * `PROXY v1 header: PROXY TCP4 192.0.2.1 127.0.0.1 4000 25`,
 * `PROXY v2 header (28 bytes): TCP4 192.0.2.1 port 4000 to 127.0.0.1 port 25`.
 */
export function describeProxyHeader(header: Buffer): string {
  if (!header.subarray(0, PROXY_V2_SIGNATURE.length).equals(PROXY_V2_SIGNATURE)) {
    return `PROXY v1 header: ${header.toString('latin1').replace(/\r\n$/, '')}`;
  }
  const v4 = header[13] === V2_TCP_OVER_IPV4;
  const size = v4 ? 4 : 16;
  const at = 16;
  const address = (offset: number): string =>
    v4 ? [...header.subarray(offset, offset + 4)].join('.') : ipv6Text(header.subarray(offset, offset + 16));
  const ports = at + 2 * size;
  return (
    `PROXY v2 header (${header.length} bytes): TCP${v4 ? 4 : 6} ` +
    `${address(at)} port ${header.readUInt16BE(ports)} to ${address(at + size)} port ${header.readUInt16BE(ports + 2)}`
  );
}

function ipv6Text(bytes: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16));
  return new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

function pairAddresses(source: Endpoint, destination: Endpoint): Addresses {
  const src = checkedEndpoint(source, 'source');
  const dst = checkedEndpoint(destination, 'destination');
  const srcV4 = asIPv4(src.host);
  const dstV4 = asIPv4(dst.host);
  if (srcV4 !== undefined && dstV4 !== undefined) {
    return { family: 4, source: { host: srcV4, port: src.port }, destination: { host: dstV4, port: dst.port } };
  }
  return {
    family: 6,
    source: { host: srcV4 === undefined ? src.host : `::ffff:${srcV4}`, port: src.port },
    destination: { host: dstV4 === undefined ? dst.host : `::ffff:${dstV4}`, port: dst.port },
  };
}

function checkedEndpoint(endpoint: Endpoint, role: string): Endpoint {
  const host = endpoint.host.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (isIP(host) === 0) throw new RangeError(`the PROXY ${role} address must be an IP address, not "${endpoint.host}"`);
  if (!Number.isInteger(endpoint.port) || endpoint.port < 0 || endpoint.port > 65535) {
    throw new RangeError(`the PROXY ${role} port must be 0 to 65535, not ${endpoint.port}`);
  }
  return { host, port: endpoint.port };
}

/** The IPv4 form of an IPv4 or IPv4-mapped IPv6 address; undefined for any other IPv6 address. */
function asIPv4(host: string): string | undefined {
  if (isIPv4(host)) return host;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  return mapped && isIPv4(mapped[1]!) ? mapped[1] : undefined;
}

function headerV1({ family, source, destination }: Addresses): Buffer {
  const line = `PROXY TCP${family} ${source.host} ${destination.host} ${source.port} ${destination.port}\r\n`;
  return Buffer.from(line, 'latin1');
}

function headerV2({ family, source, destination }: Addresses): Buffer {
  const toBytes = family === 4 ? ipv4Bytes : ipv6Bytes;
  const body = Buffer.concat([toBytes(source.host), toBytes(destination.host), port(source.port), port(destination.port)]);
  const fixed = Buffer.alloc(4);
  fixed[0] = V2_VERSION_COMMAND;
  fixed[1] = family === 4 ? V2_TCP_OVER_IPV4 : V2_TCP_OVER_IPV6;
  fixed.writeUInt16BE(body.length, 2);
  return Buffer.concat([PROXY_V2_SIGNATURE, fixed, body]);
}

function port(value: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(value);
  return bytes;
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

/** The 16 bytes of an IPv6 literal (`::` and a trailing dotted IPv4 part allowed). */
export function ipv6Bytes(address: string): Buffer {
  // A trailing dotted IPv4 part becomes the two hex groups it stands for.
  const text = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_all, a: string, b: string, c: string, d: string) =>
    `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`,
  );
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const [head, tail] = text.split('::') as [string, string | undefined];
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? front : [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(group, i * 2));
  return bytes;
}
