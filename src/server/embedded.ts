import { SMTPServer } from 'smtp-server';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-info.js';

/**
 * The embedded server: an in-process smtp-server acting as a local mail sink.
 * It accepts mail for one local domain and refuses everything else, so the bundled
 * scenarios (and anyone trying smtpspec out) have a well-behaved server to talk to.
 *
 * Recipients:  anything@<domain>        → 250 accepted
 *              nobody@<domain>,
 *              no-such-…@<domain>       → 550 5.1.1 mailbox unavailable
 *              any other domain         → 550 5.7.1 relaying denied
 * STARTTLS with a bundled self-signed certificate for localhost / 127.0.0.1 / ::1
 * (`EMBEDDED_CA_FILE`); AUTH PLAIN, LOGIN and CRAM-MD5 for one demo user, offered only after STARTTLS.
 */

export interface ReceivedMessage {
  /** The smtp-server session id. */
  sessionId: string;
  from: string;
  to: string[];
  subject?: string;
  sizeBytes: number;
  /** The message as received (dot-unstuffed, CRLF line endings). */
  body: string;
}

export type ServerEvent =
  | { type: 'listening'; host: string; port: number }
  | { type: 'connect'; sessionId: string; remote: string }
  | { type: 'message'; message: ReceivedMessage }
  | { type: 'close'; sessionId: string };

export interface EmbeddedServerOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The local domain whose recipients are accepted. */
  domain?: string;
  onEvent?: (event: ServerEvent) => void;
}

export interface EmbeddedServer {
  host: string;
  port: number;
  domain: string;
  /** Every message accepted so far, in order. */
  messages: ReceivedMessage[];
  close(): Promise<void>;
}

export const EMBEDDED_DOMAIN = 'example.test';
/** The one account the embedded server knows. Not a secret: it guards nothing. */
export const EMBEDDED_USER = { username: 'alice', password: 'wonderland' } as const;

/** The embedded server's certificate, which is also its own CA: trust this file to verify it. */
export function embeddedCaFile(): string {
  return join(packageRoot(), 'src', 'server', 'tls', 'embedded-cert.pem');
}

function embeddedKeyFile(): string {
  return join(packageRoot(), 'src', 'server', 'tls', 'embedded-key.pem');
}
/**
 * Connections the system may hold for the server before it accepts them. Node's default, 511, is
 * less than the sessions a run may open at once (`--concurrency`): when more arrive together, the
 * system drops the client's last handshake packet for the overflow, the client believes itself
 * connected, and waits for a greeting that never comes. The system caps this at its own limit
 * (net.core.somaxconn on Linux, 4096 by default).
 */
const LISTEN_BACKLOG = 65_535;
/** Larger messages are refused with 552 (and the limit is advertised with SIZE). */
const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
/**
 * Local parts that do not exist, for scenarios about refused recipients: nobody, and any that
 * starts with no-such- (the bundled scenarios' unknown user, which no real system has either).
 */
function isUnknownLocalPart(localPart: string): boolean {
  const lower = localPart.toLowerCase();
  return lower === 'nobody' || lower.startsWith('no-such-');
}

function rejection(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

function checkRecipient(address: string, domain: string): Error | undefined {
  const at = address.lastIndexOf('@');
  const localPart = at < 0 ? address : address.slice(0, at);
  const addressDomain = at < 0 ? '' : address.slice(at + 1).toLowerCase();
  // RFC 5321 §4.5.1: a server must accept mail for "Postmaster" without a domain.
  if (at < 0 && localPart.toLowerCase() === 'postmaster') return undefined;
  if (addressDomain !== domain) return rejection(550, `5.7.1 <${address}>: relaying denied`);
  if (isUnknownLocalPart(localPart)) return rejection(550, `5.1.1 <${address}>: mailbox unavailable`);
  return undefined;
}

/** The Subject header, unfolded, from the header section of a message. */
export function subjectOf(message: string): string | undefined {
  const headerEnd = message.search(/\r?\n\r?\n/);
  const headers = (headerEnd < 0 ? message : message.slice(0, headerEnd)).replace(/\r?\n[ \t]+/g, ' ');
  const match = /^subject:[ \t]*(.*)$/im.exec(headers);
  return match?.[1]?.trim();
}

function collect(stream: SMTPServerDataStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

function envelopeOf(session: SMTPServerSession): { from: string; to: string[] } {
  const { mailFrom, rcptTo } = session.envelope;
  return { from: mailFrom ? mailFrom.address : '', to: rcptTo.map((r: SMTPServerAddress) => r.address) };
}

export async function startEmbeddedServer(options: EmbeddedServerOptions = {}): Promise<EmbeddedServer> {
  const host = options.host ?? '127.0.0.1';
  const domain = (options.domain ?? EMBEDDED_DOMAIN).toLowerCase();
  const emit = options.onEvent ?? (() => {});
  const messages: ReceivedMessage[] = [];

  const server = new SMTPServer({
    name: `mx.${domain}`,
    banner: 'smtpspec embedded server',
    disableReverseLookup: true,
    logger: false,
    authOptional: true,
    authMethods: ['PLAIN', 'LOGIN', 'CRAM-MD5'],
    key: readFileSync(embeddedKeyFile()),
    cert: readFileSync(embeddedCaFile()),
    hideREQUIRETLS: true,
    maxAllowedUnauthenticatedCommands: false,
    // smtp-server would derive 5.1.1 from every 550; the replies below carry their own codes.
    hideENHANCEDSTATUSCODES: true,
    hideDSN: false,
    size: MAX_MESSAGE_BYTES,
    closeTimeout: 100,
    socketTimeout: 60_000,
    onConnect(session, callback) {
      emit({ type: 'connect', sessionId: session.id, remote: `${session.remoteAddress}` });
      // AUTH is neither offered nor accepted before STARTTLS, as on a well-configured server.
      session.disabledCommands = ['AUTH'];
      callback();
    },
    onSecure(_socket, session, callback) {
      session.disabledCommands = [];
      callback();
    },
    onAuth(auth, _session, callback) {
      const ok =
        auth.username === EMBEDDED_USER.username &&
        (auth.method === 'CRAM-MD5' ? auth.validatePassword(EMBEDDED_USER.password) : auth.password === EMBEDDED_USER.password);
      if (!ok) return callback(rejection(535, '5.7.8 authentication credentials invalid'));
      callback(null, { user: auth.username });
    },
    onRcptTo(address, _session, callback) {
      callback(checkRecipient(address.address, domain) ?? null);
    },
    onData(stream, session, callback) {
      collect(stream).then(
        (body) => {
          if (stream.sizeExceeded) {
            callback(rejection(552, `5.3.4 message exceeds the ${MAX_MESSAGE_BYTES} byte limit`));
            return;
          }
          const message: ReceivedMessage = {
            sessionId: session.id,
            ...envelopeOf(session),
            subject: subjectOf(body),
            sizeBytes: Buffer.byteLength(body),
            body,
          };
          messages.push(message);
          emit({ type: 'message', message });
          callback(null, `2.0.0 queued as ${session.id}`);
        },
        (error: Error) => callback(error),
      );
    },
    onClose(session) {
      emit({ type: 'close', sessionId: session.id });
    },
  });
  // Errors from misbehaving clients land here; the server keeps serving.
  server.on('error', () => {});

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen({ port: options.port ?? 0, host, backlog: LISTEN_BACKLOG }, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  emit({ type: 'listening', host, port });

  return {
    host,
    port,
    domain,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
