import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { PeerCertificate } from 'node:tls';
import { ReceivedLog } from './received-log.js';
import { ReplyParser, type ParserLimits } from './reply-parser.js';
import { ReplyQueue, type Ending, type Unread } from './reply-queue.js';
import type { SharedRecords } from './shared-records.js';
import { certificateMatchesName, describeTls, loadTlsFiles, upgradeToTls, type TlsClientOptions, type TlsUpgrade } from './tls.js';
import type { Transcript } from './transcript.js';
import { ignore, type OpenTransport } from './transport.js';
import { SmtpError, type Reply, type TlsFacts } from './types.js';
import { DEFAULT_WRITE_TIMEOUT_MS, SessionWriter } from './writer.js';
import { plural } from '../words.js';

export const DEFAULT_CLOSE_TIMEOUT_MS = 1000;
const SERVER_CLOSED = 'server closed the connection';
const CLIENT_CLOSED: Ending = { kind: 'closed', phase: 'close', message: 'connection closed by the client' };

export interface SessionOptions {
  transcript: Transcript;
  limits: ParserLimits | undefined;
  /** Set when the session starts inside TLS (implicit TLS). */
  upgrade: TlsUpgrade | undefined;
  /** Deadline for each write (a slice of at most 64 KiB) to be taken by the server; default DEFAULT_WRITE_TIMEOUT_MS. */
  writeTimeoutMs?: number;
  /** The run's replies, shared between its sessions. */
  shared?: SharedRecords;
  /** How many lines that are not replies may come before the greeting (see linesBeforeGreeting); default 0. */
  linesBeforeGreeting?: number;
}

/**
 * A plain SMTP client session: it sends only what it is told and reads one reply at a time.
 * Replies that arrive before anyone asks are queued in order, up to 1000 of them or 16 MiB;
 * a server that sends more ends the session, as does one that stops reading what is sent.
 * After a reply timeout the session stays usable: a late reply is returned by the next readReply.
 */
/** One connected session. Created by `connect()`. */
export class SmtpConnection {
  readonly transcript: Transcript;
  private readonly parser: ReplyParser;
  /** Replies not read yet, the read waiting, and how the session ended. */
  private readonly replies: ReplyQueue;
  private readonly writer: SessionWriter;
  private readonly received: ReceivedLog;
  private closing: Promise<void> | undefined;
  private upgrade: TlsUpgrade | undefined;
  /** The stream's listeners: made once, moved to the TLS socket at STARTTLS. */
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);
  private readonly onPeerClosed = (): void => this.peerClosed();
  private readonly onError = (err: Error): void => this.replies.end(this.transport.describeError(err, 'reply'));

  constructor(
    private readonly transport: OpenTransport,
    options: SessionOptions,
  ) {
    this.transcript = options.transcript;
    this.parser = new ReplyParser(options.limits, options.shared, options.linesBeforeGreeting, (text, maxChars) => this.transcript.secrets.maskCut(text, maxChars));
    this.received = new ReceivedLog(this.transcript);
    this.replies = new ReplyQueue(this.parser, this.transcript, () => this.stream.destroy());
    const stream = options.upgrade?.socket ?? transport.stream;
    const writeTimeoutMs = options.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS;
    this.writer = new SessionWriter(transport, this.replies, this.transcript, writeTimeoutMs, stream);
    this.upgrade = options.upgrade;
    this.wire(stream);
    if (stream.destroyed || stream.readableEnded) this.peerClosed();
  }

  /** False once the server closed or reset the connection, a fatal protocol error struck, or close() was called. */
  get isOpen(): boolean {
    return this.replies.isOpen;
  }

  /** The IP address connected to, for TCP. */
  get remoteAddress(): string | undefined {
    return this.transport.remoteAddress;
  }

  /** The TLS session, once there is one. */
  get tls(): TlsFacts | undefined {
    return this.upgrade?.facts;
  }

  /** The server's certificate as Node reports it, once TLS is up (for name checks). */
  get peerCertificate(): PeerCertificate | undefined {
    return this.upgrade?.peerCertificate;
  }

  /**
   * The DER bytes of the TLS session's certificate chain, the server's certificate first, as far as it
   * could be followed (see TlsFacts.chainLength); empty without TLS. Read once per handshake (for DANE).
   */
  peerChain(): Buffer[] {
    return this.upgrade?.chain ?? [];
  }

  /** Why the server's certificate is not valid for `name` (see certificateMatchesName), or undefined when it is. */
  certificateNameMismatch(name: string): string | undefined {
    const peer = this.upgrade?.peerCertificate;
    return peer ? certificateMatchesName(peer, name) : 'there is no TLS session';
  }

  /** One complete reply, within one deadline for the whole reply. Rejects with SmtpError. */
  readReply(timeoutMs: number): Promise<Reply> {
    return this.replies.read(timeoutMs);
  }

  /** Whether takeUnsolicited would find anything. */
  get hasUnread(): boolean {
    return this.replies.hasUnread;
  }

  /**
   * Takes everything the server sent that no read has taken yet, in order: queued replies and
   * broken replies, then the start of a reply still arriving (left in place). Only what has
   * arrived by now is seen: a reply still in transit is read as the answer to the next command.
   */
  takeUnsolicited(): Unread[] {
    return this.replies.takeUnsolicited();
  }

  /** Sends one command line; CRLF is appended. A line containing CR or LF is refused and nothing is sent. */
  sendLine(line: string): Promise<void> {
    return this.writer.sendLine(line);
  }

  /**
   * Sends several command lines in one write (RFC 2920 pipelining); CRLF is appended to each.
   * If any line contains CR or LF, nothing is sent.
   */
  sendLines(lines: string[]): Promise<void> {
    return this.writer.sendLines(lines);
  }

  /** Sends exactly these bytes, whatever they hold; the transcript shows them with CR, LF and controls escaped. */
  sendRaw(bytes: Uint8Array): Promise<void> {
    return this.writer.sendRaw(bytes);
  }

  /** Sends a message body after a 354: line endings to CRLF, dot-stuffing, then `.` CRLF. */
  sendData(body: string): Promise<void> {
    return this.writer.sendData(body);
  }

  /**
   * Streams a message body after a 354 with the same rules as sendData, one chunk at a time:
   * each chunk is written before the next but one is read, so memory stays flat. A small chunk
   * waits for the next, so that a short message and its terminator go out in one write.
   * Returns the bytes sent.
   */
  sendDataStream(source: NodeJS.ReadableStream | AsyncIterable<Uint8Array>): Promise<number> {
    return this.writer.sendDataStream(source);
  }

  /** Sends `BDAT <n>[ LAST]` CRLF and the chunk in one write (RFC 3030); the chunk is sent as is. */
  sendBdat(chunk: Uint8Array, last: boolean): Promise<void> {
    return this.writer.sendBdat(chunk, last);
  }

  /**
   * Upgrades the session to TLS after the server's 220 to STARTTLS (RFC 3207), which the caller has read.
   * Fails without a handshake if the server sent anything after that 220 (response injection,
   * as in CVE-2011-0411). Nothing is written between the 220 and the handshake. A failed handshake
   * ends the session. Replies are read inside TLS from then on.
   */
  async startTls(options: TlsClientOptions, timeoutMs: number): Promise<TlsFacts> {
    if (this.replies.ended) throw this.replies.ended;
    if (this.upgrade) throw new SmtpError('protocol', 'tls', 'TLS is already active on this connection');
    const files = await this.orEnd(loadTlsFiles(options));
    if (this.replies.ended) throw this.replies.ended;
    // The session is open here, so anything unread is data the server sent after its 220.
    if (this.replies.hasUnread) {
      const error = new SmtpError('protocol', 'tls', 'server sent data before the TLS handshake');
      this.replies.end(error, `${error.message} (response injection, as in CVE-2011-0411); no handshake attempted`);
      this.stream.destroy();
      throw error;
    }
    this.unwire(this.stream);
    // The TLS socket reports the plain stream's failures from now on.
    this.stream.on('error', ignore);
    const upgrade = await this.orEnd(upgradeToTls(this.stream, options, files, tcpHost(this.transport), timeoutMs));
    this.upgrade = upgrade;
    this.writer.stream = upgrade.socket;
    this.parser.reset();
    this.received.reset();
    this.wire(upgrade.socket);
    this.transcript.note(describeTls(upgrade.facts, options.verify));
    return upgrade.facts;
  }

  /**
   * Ends the session. A plain socket with nothing left to write is closed at once; otherwise it half-closes,
   * waits up to timeoutMs for the other side to close, then destroys. Never rejects.
   */
  close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    this.closing ??= this.shutDown(timeoutMs);
    return this.closing;
  }

  /** The stream the session talks over: the transport's, or the TLS socket on top of it. */
  private get stream(): Duplex {
    return this.writer.stream;
  }

  private async shutDown(timeoutMs: number): Promise<void> {
    this.replies.end(CLIENT_CLOSED, 'client closed the connection');
    const stream = this.stream;
    // A plain socket that has handed every byte to the system closes at once: the system still sends
    // them, then FIN. Waiting for the server's own close would tell nothing and hold the session a round trip
    // longer. TLS (close_notify) and child processes (their exit status) are closed in full.
    if (stream === this.transport.stream && stream instanceof net.Socket && stream.writableLength === 0) {
      stream.destroy();
      return;
    }
    const deadline = performance.now() + timeoutMs;
    await closeStream(this.stream, timeoutMs);
    if (this.stream !== this.transport.stream) await closeStream(this.transport.stream, Math.max(0, deadline - performance.now()));
  }

  /** Ends the session when `work` fails, and rethrows its failure. */
  private async orEnd<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (caught) {
      // Anything but an SmtpError is a fault in smtpspec, rethrown as it is; the client closes the session all the same.
      this.replies.end(caught instanceof SmtpError ? caught : CLIENT_CLOSED);
      this.stream.destroy();
      this.transport.stream.destroy();
      throw caught;
    }
  }

  /** All stream wiring lives here and in unwire, so the stream can be swapped (STARTTLS). */
  private wire(stream: Duplex): void {
    stream.on('data', this.onData);
    stream.on('end', this.onPeerClosed);
    stream.on('close', this.onPeerClosed);
    stream.on('error', this.onError);
  }

  private unwire(stream: Duplex): void {
    stream.off('data', this.onData);
    stream.off('end', this.onPeerClosed);
    stream.off('close', this.onPeerClosed);
    stream.off('error', this.onError);
  }

  private receive(chunk: Buffer): void {
    for (const event of this.parser.push(chunk)) {
      if (event.type === 'reply') {
        this.received.ended(event.raw);
        if (event.warnings) for (const warning of event.warnings) this.transcript.note(`warning: ${warning}`);
        this.replies.deliverReply(event.reply, event.raw);
        continue;
      }
      if (event.type === 'before-reply') {
        this.received.beforeGreeting(event.line);
        continue;
      }
      this.received.ended(event.error.partialLines);
      const error = this.received.masked(event.error);
      if (this.parser.failed === event.error) {
        this.replies.end(error);
        this.stream.destroy();
      } else {
        this.transcript.note(error.message);
        this.replies.deliverError(error);
      }
    }
    this.received.pending(this.parser.pendingRawLines);
  }

  private peerClosed(): void {
    if (!this.replies.isOpen) return;
    const closed = this.transport.closedMessage();
    const lines = this.parser.pendingLines.length;
    if (lines > 0) {
      this.replies.end(new SmtpError('closed', 'reply', `${closed} mid-reply after ${plural(lines, 'line')}`, this.parser.pendingLines));
    } else if (this.parser.hasBufferedBytes) {
      this.replies.end(new SmtpError('closed', 'reply', `${closed} in the middle of a reply line`));
    } else {
      this.replies.end({ kind: 'closed', phase: 'reply', message: closed }, closed === SERVER_CLOSED ? 'connection closed by server' : closed);
    }
  }
}

/** Ends a stream and waits up to timeoutMs for it to close, then destroys it. */
function closeStream(stream: Duplex, timeoutMs: number): Promise<void> {
  if (stream.closed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => stream.destroy(), timeoutMs);
    const onClose = (): void => {
      clearTimeout(timer);
      stream.off('close', onClose);
      resolve();
    };
    stream.on('close', onClose);
    if (stream.listenerCount('error') === 0) stream.on('error', ignore);
    if (stream.destroyed) return;
    stream.end();
  });
}

export function tcpHost(transport: OpenTransport): string | undefined {
  return transport.spec.kind === 'tcp' ? transport.spec.host : undefined;
}
