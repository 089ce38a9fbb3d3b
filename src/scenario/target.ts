import { UsageError } from '../errors.js';
import { isIPv6 } from '../ip.js';
import { DEFAULT_PORT, type ServerTarget, type Target } from './types.js';

const ASCII_HOST_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
/** Built on first use: a Unicode property class costs milliseconds to compile at start-up. */
let unicodeHostName: RegExp | undefined;

function isHostName(host: string): boolean {
  if (ASCII_HOST_NAME.test(host)) return true;
  if (/^[\x00-\x7f]*$/.test(host)) return false;
  unicodeHostName ??= new RegExp('^[\\p{L}\\p{N}_-][\\p{L}\\p{N}._-]*$', 'u');
  return unicodeHostName.test(host);
}

const PORT = /^[0-9]{1,5}$/;

/**
 * Reads `"host"`, `"host:port"`, `"[::1]:2525"`, `"[::1]"` or a bare IPv6 address such as `"::1"`.
 * The port must be 1..65535; undefined when the text is not such a target.
 */
export function parseTarget(text: string, defaultPort: number = DEFAULT_PORT): ServerTarget | undefined {
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    const [, host = '', port] = bracketed;
    return isIPv6(host) ? withPort(host, port, defaultPort) : undefined;
  }
  if (isIPv6(text)) return { host: text, port: defaultPort };
  const colon = text.indexOf(':');
  if (colon < 0) return withPort(text, undefined, defaultPort);
  return withPort(text.slice(0, colon), text.slice(colon + 1), defaultPort);
}

/** `--target host[:port]`: the server, or unusable input. */
export function targetOption(text: string): ServerTarget {
  const target = parseTarget(text);
  if (!target) throw new UsageError(`--target expects host[:port], got "${text}"`);
  return target;
}

/** True for a host name, an IPv4 address or an IPv6 address (without brackets). */
export function isValidHost(host: string): boolean {
  return isIPv6(host) || isHostName(host);
}

/** The port as a number when the text is one from 1 to 65535. */
export function parsePort(text: string): number | undefined {
  if (!PORT.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65_535 ? port : undefined;
}

function withPort(host: string, portText: string | undefined, defaultPort: number): ServerTarget | undefined {
  if (!isValidHost(host)) return undefined;
  if (portText === undefined) return { host, port: defaultPort };
  const port = parsePort(portText);
  return port === undefined ? undefined : { host, port };
}

/** Placeholders are for showing a plan: one that reaches the engine is a bug in smtpspec, not a network problem. */
export function assertServer(target: Target): asserts target is ServerTarget {
  if (target.kind === 'placeholder') {
    throw new Error(`smtpspec bug: a placeholder target (${target.label}) was to be run; placeholders only stand in plans that are shown`);
  }
}
