import type net from 'node:net';
import { describeProxyHeader, proxyHeader, type ProxyHeaderSettings } from './proxy.js';
import type { ParserLimits } from './reply-parser.js';
import type { SharedRecords } from './shared-records.js';
import { describeTls, loadTlsFiles, upgradeToTls, type TlsClientOptions, type TlsUpgrade } from './tls.js';
import { SmtpConnection, tcpHost } from './connection.js';
import { Transcript } from './transcript.js';
import { ignore, linesBeforeGreeting, openTransport, type OpenTransport, type TransportSpec } from './transport.js';
import { SmtpError } from './types.js';

export { describeSocketError, type TransportSpec } from './transport.js';
export { SmtpConnection, DEFAULT_CLOSE_TIMEOUT_MS } from './connection.js';
export { escapeBytes } from './sent-log.js';
export type { TlsClientOptions } from './tls.js';

/** Opening a session: transport, optional PROXY header, optional implicit TLS. */

export interface ConnectOptions {
  transport?: TransportSpec;
  /** Shorthand for a TCP transport, when `transport` is not given. */
  host?: string;
  port?: number;
  /** Deadline for connecting (name resolution included), and for the implicit TLS handshake. */
  timeoutMs: number;
  /** Deadline for each write to be taken by the server (a server that stops reading); default: timeoutMs. */
  writeTimeoutMs?: number;
  transcript?: Transcript;
  limits?: ParserLimits;
  /** With `implicit`, TLS starts right after connecting (RFC 8314), before the greeting. */
  tls?: TlsClientOptions & { implicit: boolean };
  /** A PROXY protocol header written right after the TCP connect (TCP only). */
  proxy?: ProxyHeaderSettings;
  /** The run's replies, shared between its sessions. */
  shared?: SharedRecords;
}

/** Resolves once connected (and through TLS, with implicit TLS); the greeting is left for the first readReply. */
export async function connect(options: ConnectOptions): Promise<SmtpConnection> {
  const transcript = options.transcript ?? new Transcript();
  let transport: OpenTransport | undefined;
  try {
    // Files first: between connecting and wiring the session nothing may wait on the disk.
    const spec = transportOf(options);
    if (options.proxy && spec.kind !== 'tcp') throw new SmtpError('network', 'connect', `a PROXY header can only be sent over TCP, not over the ${spec.kind} transport`);
    const implicitTls = options.tls?.implicit ? { options: options.tls, files: await loadTlsFiles(options.tls) } : undefined;
    transport = await openTransport(spec, options.timeoutMs, transcript);
    if (options.proxy) await sendProxyHeader(transport, options.proxy, transcript);
    let upgrade: TlsUpgrade | undefined;
    if (implicitTls) {
      // The TLS socket reports the plain stream's failures.
      transport.stream.on('error', ignore);
      upgrade = await upgradeToTls(transport.stream, implicitTls.options, implicitTls.files, tcpHost(transport), options.timeoutMs);
      transcript.note(describeTls(upgrade.facts, implicitTls.options.verify));
    }
    const writeTimeoutMs = options.writeTimeoutMs ?? options.timeoutMs;
    return new SmtpConnection(transport, {
      transcript,
      limits: options.limits,
      upgrade,
      writeTimeoutMs,
      shared: options.shared,
      linesBeforeGreeting: linesBeforeGreeting(spec),
    });
  } catch (caught) {
    transport?.stream.on('error', ignore);
    transport?.stream.destroy();
    // Anything else is a fault in smtpspec, not in the connection: it goes up as it is.
    if (caught instanceof SmtpError) transcript.note(caught.message);
    throw caught;
  }
}

function transportOf(options: ConnectOptions): TransportSpec {
  if (options.transport) return options.transport;
  if (options.host === undefined || options.port === undefined) throw new SmtpError('network', 'connect', 'no server to connect to');
  return { kind: 'tcp', host: options.host, port: options.port };
}

/** Writes the PROXY header before anything is read; the destination defaults to the address connected to. */
async function sendProxyHeader(transport: OpenTransport, settings: ProxyHeaderSettings, transcript: Transcript): Promise<void> {
  if (transport.spec.kind !== 'tcp') return;
  const socket = transport.stream as net.Socket;
  const header = proxyHeader(settings, { host: socket.remoteAddress ?? transport.spec.host, port: socket.remotePort ?? transport.spec.port });
  transcript.note(`sent ${describeProxyHeader(header)}`);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(transport.describeError(err, 'connect'));
    socket.once('error', onError);
    socket.write(header, (err) => {
      socket.off('error', onError);
      if (err) onError(err);
      else resolve();
    });
  });
}
