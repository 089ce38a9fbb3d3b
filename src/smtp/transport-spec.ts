import type { Duplex } from 'node:stream';
import type { SmtpError, SmtpErrorPhase } from './types.js';
import type { IpFamily } from '../ip.js';

/** What a transport is: how a session reaches its server, and the byte stream it gets. */

export type TransportSpec =
  | TcpSpec
  | { kind: 'unix'; path: string }
  /** Run without a shell: spawn(argv[0], argv.slice(1)). */
  | { kind: 'exec'; argv: string[] };

export interface TcpSpec {
  kind: 'tcp';
  host: string;
  port: number;
  /** Where `host` was looked up already: tried instead of asking the system resolver. */
  addresses?: string[];
  /** The client's source address (a receiver judges a client by its IP). */
  localAddress?: string;
  /** Connect over IPv4 or IPv6 only; default: the family of localAddress, else either. */
  family?: IpFamily;
}

export interface OpenTransport {
  readonly spec: TransportSpec;
  /** The session's byte stream. */
  readonly stream: Duplex;
  /** Maps an error of the stream to an SmtpError with a named cause, struck in `phase`. */
  describeError(err: Error, phase: SmtpErrorPhase): SmtpError;
  /** How the other side ended the stream: `server closed the connection`, `process exited with code 1`. */
  closedMessage(): string;
  /** The IP address connected to, for TCP (undefined for a UNIX socket or a child process). */
  readonly remoteAddress?: string;
}

/** A listener that ignores what it is given: for 'error' events after a stream has been given up. */
export function ignore(): void {}
