import net from 'node:net';
import type { Duplex } from 'node:stream';
import { formatAddress } from './address.js';
import { openExec } from './exec-transport.js';
import type { Transcript } from './transcript.js';
import { ignore, type OpenTransport, type TcpSpec, type TransportSpec } from './transport-spec.js';
import { SmtpError, type SmtpErrorPhase } from './types.js';
import type { IpFamily } from '../ip.js';

/**
 * How a session reaches its server: TCP, a UNIX domain socket, or a child process
 * speaking SMTP on its stdin/stdout (`sendmail -bs`). Every transport ends up as one Duplex.
 */

export { ignore, type OpenTransport, type TcpSpec, type TransportSpec } from './transport-spec.js';

/** Lines a program may print before its greeting: `exim -bh` prints four (`**** SMTP testing session…`). */
const EXEC_LINES_BEFORE_GREETING = 100;

/**
 * How many lines that are not replies may come before the greeting. A server on a socket must greet
 * first (RFC 5321 §3.1, §4.2); a program run for a session may print a banner first, which is read
 * past as swaks' `--pipe` does, and shown in the transcript.
 */
export function linesBeforeGreeting(spec: TransportSpec): number {
  return spec.kind === 'exec' ? EXEC_LINES_BEFORE_GREETING : 0;
}


export function openTransport(spec: TransportSpec, timeoutMs: number, transcript: Transcript): Promise<OpenTransport> {
  switch (spec.kind) {
    case 'tcp':
      return openTcp(spec, timeoutMs, transcript);
    case 'unix':
      return openUnix(spec, timeoutMs, transcript);
    case 'exec':
      return openExec(spec, timeoutMs, transcript);
  }
}

/** Maps a socket error, by its code, to an SmtpError with a named cause and a one-line message. */
export function describeSocketError(err: Error, host: string, address: string, phase: SmtpErrorPhase): SmtpError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code?.startsWith('ERR_SSL_')) return new SmtpError('tls', phase, `TLS error: ${openSslReason(err)}`);
  switch (code) {
    case 'ECONNREFUSED':
      return new SmtpError('refused', phase, `connection refused by ${address}`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'ENODATA':
      return new SmtpError('dns', phase, `cannot resolve host "${host}"`);
    case 'ECONNRESET':
      return new SmtpError('reset', phase, 'connection reset by the server');
    case 'EPIPE':
      return new SmtpError('closed', phase, 'server closed the connection');
    case 'ERR_STREAM_DESTROYED':
    case 'ERR_STREAM_WRITE_AFTER_END':
      return new SmtpError('closed', phase, 'the connection is closed');
    default:
      return new SmtpError('network', phase, `network error with ${address}: ${code ?? err.message}`);
  }
}

/** OpenSSL's reason (`tlsv13 alert certificate required`) with its code, or the message. */
export function openSslReason(err: Error): string {
  const { reason, code } = err as Error & { reason?: string; code?: string };
  return reason ? `${reason}${code ? ` (${code})` : ''}` : err.message;
}

/**
 * Settles once `stream` emits `event`, or rejects with the SmtpError made for its first 'error'
 * (or 'close', when `onClose` is given) or for the deadline passing; on failure the stream is destroyed.
 */
export function untilEvent(
  stream: Duplex,
  event: string,
  timeoutMs: number,
  failures: { onError: (err: Error) => SmtpError; onTimeout: () => SmtpError; onClose?: () => SmtpError },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      stream.off(event, onEvent);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const fail = (error: SmtpError): void => {
      cleanup();
      stream.on('error', ignore);
      stream.destroy();
      reject(error);
    };
    const onEvent = (): void => {
      cleanup();
      resolve();
    };
    const onError = (err: Error): void => fail(failures.onError(err));
    const onClose = (): void => fail(failures.onClose!());
    const timer = setTimeout(() => fail(failures.onTimeout()), timeoutMs);
    // `on`, not `once`: cleanup removes every listener at the first of them.
    stream.on(event, onEvent);
    stream.on('error', onError);
    if (failures.onClose) stream.on('close', onClose);
  });
}

async function openTcp(spec: TcpSpec, timeoutMs: number, transcript: Transcript): Promise<OpenTransport> {
  const label = formatAddress(spec.host, spec.port);
  const family = spec.family ?? (spec.localAddress === undefined ? undefined : (net.isIP(spec.localAddress) as IpFamily));
  // An address is connected to as written, whatever family is asked for: it has to be refused here.
  const literal = net.isIP(spec.host);
  if (family && literal !== 0 && literal !== family) {
    throw new SmtpError('network', 'connect', `cannot connect to ${spec.host}, an IPv${literal} address, over IPv${family}${spec.localAddress ? ` (from ${spec.localAddress})` : ''}`);
  }
  const socket = net.connect({
    host: spec.host,
    port: spec.port,
    noDelay: true,
    ...(spec.addresses ? { lookup: knownAddresses(spec.addresses) } : {}),
    ...(spec.localAddress !== undefined ? { localAddress: spec.localAddress } : {}),
    ...(family ? { family } : {}),
  });
  await untilEvent(socket, 'connect', timeoutMs, {
    onError: (err) => describeTcpError(err, spec, family, label),
    onTimeout: () => new SmtpError('connect-timeout', 'connect', `no answer from ${label} within ${timeoutMs} ms`),
  });
  // An IPv4 address is the address connected to, as written: no need to ask the system.
  const remote = net.isIPv4(spec.host) ? spec.host : socket.remoteAddress;
  transcript.note(`connected to ${label}${remote && remote !== spec.host ? ` (${remote})` : ''}`);
  return new TcpTransport(spec.host, spec.port, label, socket, remote);
}

/** A connect failure, with what only the TCP options explain: the family asked for, the source address. */
function describeTcpError(err: Error, spec: TcpSpec, family: IpFamily | undefined, label: string): SmtpError {
  const error = describeSocketError(err, spec.host, label, 'connect');
  const code = (err as NodeJS.ErrnoException).code;
  if (error.kind === 'dns' && family) return new SmtpError('dns', 'connect', `cannot resolve host "${spec.host}" to an IPv${family} address`);
  if (spec.localAddress !== undefined && (code === 'EADDRNOTAVAIL' || code === 'EINVAL')) {
    return new SmtpError('network', 'connect', `cannot connect from ${spec.localAddress}: it is not an address of this machine, or cannot reach ${label}`);
  }
  return error;
}

/** A name lookup that answers with addresses looked up earlier (on a configured DNS server), in their order. */
function knownAddresses(addresses: string[]): net.LookupFunction {
  return (_hostname, options, callback) => {
    const wanted = addresses.filter((address) => !options.family || net.isIP(address) === options.family);
    const found = wanted.map((address) => ({ address, family: net.isIP(address) }));
    if (found.length === 0) {
      callback(Object.assign(new Error(`no ${options.family === 6 ? 'IPv6' : 'IPv4'} address`), { code: 'ENODATA' }), '', 0);
    } else if (options.all) {
      (callback as unknown as (err: null, addresses: { address: string; family: number }[]) => void)(null, found);
    } else {
      callback(null, found[0]!.address, found[0]!.family);
    }
  };
}

/** A class rather than an object of closures: one is alive for every session in flight. */
class TcpTransport implements OpenTransport {
  readonly spec: { kind: 'tcp'; host: string; port: number };

  constructor(
    host: string,
    port: number,
    private readonly label: string,
    readonly stream: net.Socket,
    readonly remoteAddress: string | undefined,
  ) {
    this.spec = { kind: 'tcp', host, port };
  }

  describeError(err: Error, phase: SmtpErrorPhase): SmtpError {
    return describeSocketError(err, this.spec.host, this.label, phase);
  }

  closedMessage(): string {
    return 'server closed the connection';
  }
}

async function openUnix(spec: { path: string }, timeoutMs: number, transcript: Transcript): Promise<OpenTransport> {
  const label = `socket ${spec.path}`;
  const socket = net.connect({ path: spec.path });
  await untilEvent(socket, 'connect', timeoutMs, {
    onError: (err) => describeUnixError(err, spec.path),
    onTimeout: () => new SmtpError('connect-timeout', 'connect', `no answer from ${label} within ${timeoutMs} ms`),
  });
  transcript.note(`connected to ${label}`);
  return {
    spec: { kind: 'unix', ...spec },
    stream: socket,
    describeError: (err, phase) => describeSocketError(err, spec.path, label, phase),
    closedMessage: () => 'server closed the connection',
  };
}

function describeUnixError(err: Error, path: string): SmtpError {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new SmtpError('refused', 'connect', `no server listening on socket ${path}`);
    case 'EACCES':
    case 'EPERM':
      return new SmtpError('network', 'connect', `permission denied for socket ${path}`);
    case 'ENOTSOCK':
      return new SmtpError('network', 'connect', `${path} is not a socket`);
    default:
      return describeSocketError(err, path, `socket ${path}`, 'connect');
  }
}

