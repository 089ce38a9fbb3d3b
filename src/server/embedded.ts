import { SMTPServer } from 'smtp-server';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../package-info.js';
import { JUNK_FOLDER, MaildirStore } from './maildir-store.js';
import { composeDsn, headerValue, rfc5322Date, type DsnRecipient } from './dsn-report.js';

/**
 * The embedded server: an in-process smtp-server acting as a local mail sink.
 * It accepts mail for one local domain and refuses everything else, so the bundled
 * scenarios (and anyone trying smtpspec out) have a well-behaved server to talk to.
 *
 * Recipients:  anything@<domain>        → 250 accepted
 *              nobody@<domain>,
 *              no-such-…@<domain>       → 550 5.1.1 mailbox unavailable
 *              bounce-…@<domain>        → 250 accepted, then fails at delivery (with mailRoot):
 *                                          nothing is stored, and a DSN says 5.1.1 (a bounce)
 *              any other domain         → 550 5.7.1 relaying denied
 * STARTTLS with a bundled self-signed certificate for localhost / 127.0.0.1 / ::1
 * (`EMBEDDED_CA_FILE`); AUTH PLAIN, LOGIN and CRAM-MD5 for one demo user, offered only after STARTTLS.
 *
 * With `mailRoot`, every accepted message is delivered before the 250: one copy per recipient in the
 * Maildir `<mailRoot>/<local part>/` (maildir-store.ts), with Return-Path and Received prepended
 * (RFC 5321 §4.4); a message whose Subject contains `[spam]` goes to its `.Junk` subfolder instead.
 * DSN is offered (RFC 3461): a recipient whose NOTIFY has SUCCESS gets a delivery report ("delivered",
 * 2.0.0) written into the sender's Maildir once its copy is stored; a bounce-… recipient gets a failure
 * report ("failed", 5.1.1) unless its NOTIFY leaves FAILURE out (NEVER, or SUCCESS/DELAY only).
 * Reports go only to a sender of the local domain: the server relays nothing, so a report for a
 * sender elsewhere is not written anywhere.
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
  /**
   * With mailRoot: a copy of a message stored for a recipient (`path`), a delivery report stored for
   * the sender (`report`: what it reports), or a delivery that failed (`failed`: the reason).
   */
  | ({ type: 'delivery'; sessionId: string } & Delivered)
  | { type: 'close'; sessionId: string };

export interface EmbeddedServerOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The local domain whose recipients are accepted. */
  domain?: string;
  /**
   * A folder (created if missing): every accepted message is delivered into Maildirs under it, one
   * per local part, before the server answers 250. Unset, nothing is written.
   */
  mailRoot?: string;
  /**
   * Without `mailRoot`: deliver into a fresh folder under the system's temp folder, made at start
   * and removed by close() (`run --embedded`).
   */
  temporaryMailRoot?: boolean;
  onEvent?: (event: ServerEvent) => void;
}

export interface EmbeddedServer {
  host: string;
  port: number;
  domain: string;
  /** Where accepted mail is delivered (`<mailRoot>/<local part>/`), when it is. */
  mailRoot: string | undefined;
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
  return headerValue(message, 'Subject');
}

function collect(stream: SMTPServerDataStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function envelopeOf(session: SMTPServerSession): { from: string; to: string[] } {
  const { mailFrom, rcptTo } = session.envelope;
  return { from: mailFrom ? mailFrom.address : '', to: rcptTo.map((r: SMTPServerAddress) => r.address) };
}

function localPartOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? address : address.slice(0, at);
}

/** The client's address as an RFC 5321 address literal: `[192.0.2.1]`, `[IPv6:2001:db8::1]`. */
function addressLiteral(address: string): string {
  return address.includes(':') ? `[IPv6:${address}]` : `[${address}]`;
}

/**
 * The trace fields a delivery prepends (RFC 5321 §4.4): Return-Path, and a Received line naming the
 * client as it said (EHLO) and as it connected, this server, the protocol (RFC 3848: ESMTP, S for
 * TLS, A for AUTH), the session, the recipient and the time.
 */
function traceFields(session: SMTPServerSession, serverName: string, recipient: string, at: Date): string {
  const literal = addressLiteral(session.remoteAddress);
  const helo = session.hostNameAppearsAs || literal;
  const protocol = session.openingCommand === 'EHLO' ? `ESMTP${session.secure ? 'S' : ''}${session.user ? 'A' : ''}` : 'SMTP';
  const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  return (
    `Return-Path: <${from}>\r\n` +
    `Received: from ${helo} (${literal})\r\n\tby ${serverName} with ${protocol} id ${session.id}\r\n\tfor <${recipient}>; ${rfc5322Date(at)}\r\n`
  );
}

/** The demo's spam check: a Subject that says `[spam]` sends the message to Junk. */
function isSpam(subject: string | undefined): boolean {
  return subject !== undefined && /\[spam\]/i.test(subject);
}

/** A recipient accepted at RCPT whose delivery fails: for scenarios about bounces and failure DSNs. */
function isBounceLocalPart(localPart: string): boolean {
  return localPart.toLowerCase().startsWith('bounce-');
}

/** What a delivery did, for the server's events. */
export type Delivered =
  | { recipient: string; path: string; report?: DsnRecipient['action'] }
  | { recipient: string; failed: string };

interface Delivery {
  store: MaildirStore;
  serverName: string;
  domain: string;
}

/**
 * Delivers one copy per recipient into the store, then the delivery reports the recipients asked
 * for (RFC 3461 §4.1: no NOTIFY means FAILURE) into the sender's Maildir, one for the deliveries and
 * one for the failures, as Postfix sends them.
 */
async function deliver(delivery: Delivery, session: SMTPServerSession, body: Buffer, subject: string | undefined): Promise<Delivered[]> {
  const { store, serverName, domain } = delivery;
  const at = new Date();
  const done: Delivered[] = [];
  const reports: Record<DsnRecipient['action'], DsnRecipient[]> = { delivered: [], failed: [] };
  for (const { address, dsn } of session.envelope.rcptTo) {
    const notify = dsn?.notify ?? ['FAILURE'];
    const orcpt = dsn?.orcpt === undefined ? {} : { orcpt: dsn.orcpt };
    if (isBounceLocalPart(localPartOf(address))) {
      const diagnostic = `550 5.1.1 <${address}>: mailbox unavailable`;
      done.push({ recipient: address, failed: diagnostic });
      if (notify.includes('FAILURE')) reports.failed.push({ recipient: address, ...orcpt, action: 'failed', status: '5.1.1', diagnostic });
      continue;
    }
    const content = Buffer.concat([Buffer.from(traceFields(session, serverName, address, at)), body]);
    done.push({ recipient: address, path: await store.deliver(localPartOf(address), content, isSpam(subject) ? JUNK_FOLDER : undefined) });
    if (notify.includes('SUCCESS')) reports.delivered.push({ recipient: address, ...orcpt, action: 'delivered', status: '2.0.0' });
  }
  const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
  const senderAt = sender.lastIndexOf('@');
  const senderLocal = sender.slice(0, Math.max(senderAt, 0));
  // A null sender gets no report (RFC 5321 §4.5.5: no report about a report); nor does a sender
  // elsewhere (this server relays nothing), or one that has no mailbox here.
  const reportable = senderAt > 0 && sender.slice(senderAt + 1).toLowerCase() === domain && !isUnknownLocalPart(senderLocal) && !isBounceLocalPart(senderLocal);
  if (!reportable) return done;
  const { ret, envid } = session.envelope.dsn ?? { ret: null, envid: null };
  for (const recipients of [reports.delivered, reports.failed]) {
    if (recipients.length === 0) continue;
    const dsn = composeDsn({
      reportingMta: serverName,
      domain,
      sender,
      ...(envid ? { envid } : {}),
      ...(ret === 'FULL' || ret === 'HDRS' ? { ret } : {}),
      arrivalDate: at,
      recipients,
      original: body,
      date: new Date(),
    });
    done.push({ recipient: sender, path: await store.deliver(senderLocal, dsn), report: recipients[0]!.action });
  }
  return done;
}

export async function startEmbeddedServer(options: EmbeddedServerOptions = {}): Promise<EmbeddedServer> {
  const host = options.host ?? '127.0.0.1';
  const domain = (options.domain ?? EMBEDDED_DOMAIN).toLowerCase();
  const emit = options.onEvent ?? (() => {});
  const messages: ReceivedMessage[] = [];
  const serverName = `mx.${domain}`;
  const temporary = options.mailRoot === undefined && options.temporaryMailRoot === true;
  const mailRoot = temporary ? await mkdtemp(join(tmpdir(), 'smtpspec-mail-')) : options.mailRoot;
  if (mailRoot !== undefined && !temporary) await mkdir(mailRoot, { recursive: true });
  const delivery: Delivery | undefined = mailRoot === undefined ? undefined : { store: new MaildirStore(mailRoot), serverName, domain };

  const server = new SMTPServer({
    name: serverName,
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
      collect(stream)
        .then(async (raw) => {
          if (stream.sizeExceeded) {
            callback(rejection(552, `5.3.4 message exceeds the ${MAX_MESSAGE_BYTES} byte limit`));
            return;
          }
          const body = raw.toString('utf8');
          const subject = subjectOf(body);
          // What is accepted is in the mailboxes before the 250, so a check that starts after it finds it.
          const delivered = delivery ? await deliver(delivery, session, raw, subject) : [];
          const message: ReceivedMessage = { sessionId: session.id, ...envelopeOf(session), subject, sizeBytes: Buffer.byteLength(body), body };
          messages.push(message);
          emit({ type: 'message', message });
          for (const done of delivered) emit({ type: 'delivery', sessionId: session.id, ...done });
          callback(null, `2.0.0 queued as ${session.id}`);
        })
        .catch((error: unknown) => {
          // A store that cannot be written (a full disk, a folder made read-only): the client may try again later.
          const code = (error as NodeJS.ErrnoException).code;
          callback(code === undefined ? (error as Error) : rejection(451, `4.3.0 the message could not be stored (${code})`));
        });
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
  }).catch(async (error: unknown) => {
    if (temporary && mailRoot !== undefined) await rm(mailRoot, { recursive: true, force: true });
    throw error;
  });
  const port = (server.server.address() as AddressInfo).port;
  emit({ type: 'listening', host, port });

  return {
    host,
    port,
    domain,
    mailRoot,
    messages,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (temporary && mailRoot !== undefined) await rm(mailRoot, { recursive: true, force: true });
    },
  };
}
