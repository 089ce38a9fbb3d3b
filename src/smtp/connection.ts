import type { Duplex } from 'node:stream';
import type { PeerCertificate } from 'node:tls';
import { DotStuffEncoder, encodeMessage } from './dot-stuff.js';
import { ReplyParser, type ParserLimits } from './reply-parser.js';
import { DataLog, logRaw, plural } from './sent-log.js';
import { certificateMatchesName, describeTls, loadTlsFiles, upgradeToTls, type TlsClientOptions, type TlsUpgrade } from './tls.js';
import type { Transcript } from './transcript.js';
import type { OpenTransport } from './transport.js';
import { SmtpError, type Reply, type SmtpErrorKind, type TlsFacts } from './types.js';

export const DEFAULT_CLOSE_TIMEOUT_MS = 1000;
/** How long one write may wait for the server to take the bytes, unless the session says otherwise. */
export const DEFAULT_WRITE_TIMEOUT_MS = 30_000;
/** Payloads are written in slices of this size, each awaited, so memory stays flat. */
const WRITE_SLICE_BYTES = 64 * 1024;
const SERVER_CLOSED = 'server closed the connection';
/** Replies received and not read yet; more is a flood, and the session ends rather than hold it in memory. */
const MAX_UNREAD_REPLIES = 1000;
const MAX_UNREAD_BYTES = 16 * 1024 * 1024;
/** Longest server line kept in the transcript; the reply itself keeps every byte. */
const TRANSCRIPT_LINE_CHARS = 1000;

type Outcome = { reply: Reply } | { error: SmtpError };

/** How a session ended without anything going wrong: the server or the client closing. */
interface Ending {
  kind: SmtpErrorKind;
  message: string;
}

/** Something the server sent that no read has taken: a reply, a broken reply, or the start of a reply still arriving. */
export type Unread = Outcome | { partial: string };

interface Waiter {
  resolve(reply: Reply): void;
  reject(error: SmtpError): void;
  timer: NodeJS.Timeout;
  timeoutMs: number;
}

export interface SessionOptions {
  transcript: Transcript;
  limits: ParserLimits | undefined;
  /** Set when the session starts inside TLS (implicit TLS). */
  upgrade: TlsUpgrade | undefined;
  /** Deadline for each write (a slice of at most 64 KiB) to be taken by the server; default DEFAULT_WRITE_TIMEOUT_MS. */
  writeTimeoutMs?: number;
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
  private readonly queue: { outcome: Outcome; bytes: number }[] = [];
  /** Characters received of the replies in `queue`. */
  private queuedBytes = 0;
  private readonly writeTimeoutMs: number;
  private waiter: Waiter | undefined;
  /**
   * Set once the session is over; every later read (after the queue) and write fails with it.
   * An ordinary close is kept as its kind and message: the SmtpError is made only if something needs it.
   */
  private ending: SmtpError | Ending | undefined;
  /** Lines of the reply in progress already written to the transcript. */
  private loggedLines = 0;
  private closing: Promise<void> | undefined;
  /** The stream the session talks over: the transport's, or the TLS socket on top of it. */
  private stream: Duplex;
  private unwire: () => void;
  private upgrade: TlsUpgrade | undefined;

  constructor(
    private readonly transport: OpenTransport,
    options: SessionOptions,
  ) {
    this.transcript = options.transcript;
    this.parser = new ReplyParser(options.limits);
    this.writeTimeoutMs = options.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS;
    this.upgrade = options.upgrade;
    this.stream = options.upgrade?.socket ?? transport.stream;
    this.unwire = this.wire(this.stream);
    if (this.stream.destroyed || this.stream.readableEnded) this.peerClosed();
  }

  /** False once the server closed or reset the connection, a fatal protocol error struck, or close() was called. */
  get isOpen(): boolean {
    return this.ending === undefined;
  }

  private get ended(): SmtpError | undefined {
    const ending = this.ending;
    if (ending === undefined || ending instanceof SmtpError) return ending;
    return (this.ending = new SmtpError(ending.kind, ending.message));
  }

  /** The TLS session, once there is one. */
  get tls(): TlsFacts | undefined {
    return this.upgrade?.facts;
  }

  /** The server's certificate as Node reports it, once TLS is up (for name checks). */
  get peerCertificate(): PeerCertificate | undefined {
    return this.upgrade?.peerCertificate;
  }

  /** Why the server's certificate is not valid for `name` (see certificateMatchesName), or undefined when it is. */
  certificateNameMismatch(name: string): string | undefined {
    const peer = this.upgrade?.peerCertificate;
    return peer ? certificateMatchesName(peer, name) : 'there is no TLS session';
  }

  /** One complete reply, within one deadline for the whole reply. Rejects with SmtpError. */
  readReply(timeoutMs: number): Promise<Reply> {
    const next = this.queue.shift();
    if (next) {
      this.queuedBytes -= next.bytes;
      return 'reply' in next.outcome ? Promise.resolve(next.outcome.reply) : Promise.reject(next.outcome.error);
    }
    if (this.ended) return Promise.reject(this.ended);
    if (this.waiter) return Promise.reject(new Error('readReply called while another readReply is waiting'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject, timer: setTimeout(this.expire, timeoutMs), timeoutMs };
    });
  }

  /** Whether takeUnsolicited would find anything. */
  get hasUnread(): boolean {
    return this.queue.length > 0 || (!this.ending && this.parser.hasBufferedBytes);
  }

  /**
   * Takes everything the server sent that no read has taken yet, in order: queued replies and
   * broken replies, then the start of a reply still arriving (left in place). Only what has
   * arrived by now is seen: a reply still in transit is read as the answer to the next command.
   */
  takeUnsolicited(): Unread[] {
    if (!this.hasUnread) return [];
    const unread: Unread[] = this.queue.splice(0).map((entry) => entry.outcome);
    this.queuedBytes = 0;
    if (!this.ending && this.parser.hasBufferedBytes) unread.push({ partial: this.parser.pendingLines[0] ?? this.parser.partialLine() });
    return unread;
  }

  /** Sends one command line; CRLF is appended. A line containing CR or LF is refused and nothing is sent. */
  sendLine(line: string): Promise<void> {
    if (hasLineBreak(line)) return Promise.reject(lineBreakRefused());
    if (this.ending) return Promise.reject(this.ended);
    this.transcript.client(line);
    return this.write(`${line}\r\n`);
  }

  /**
   * Sends several command lines in one write (RFC 2920 pipelining); CRLF is appended to each.
   * If any line contains CR or LF, nothing is sent.
   */
  async sendLines(lines: string[]): Promise<void> {
    if (lines.some(hasLineBreak)) throw lineBreakRefused();
    this.assertWritable();
    if (lines.length === 0) return;
    for (const line of lines) this.transcript.client(line);
    await this.write(lines.map((line) => `${line}\r\n`).join(''));
  }

  /** Sends exactly these bytes, whatever they hold; the transcript shows them with CR, LF and controls escaped. */
  async sendRaw(bytes: Uint8Array): Promise<void> {
    this.assertWritable();
    logRaw(this.transcript, bytes);
    await this.writeSliced(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  /** Sends a message body after a 354: line endings to CRLF, dot-stuffing, then `.` CRLF. */
  async sendData(body: string): Promise<void> {
    this.assertWritable();
    const payload = encodeMessage(body);
    const log = new DataLog(this.transcript);
    log.push(payload.subarray(0, payload.length - 3));
    log.finish();
    await this.writeSliced(payload);
  }

  /**
   * Streams a message body after a 354 with the same rules as sendData, one chunk at a time:
   * each chunk is written before the next but one is read, so memory stays flat. A small chunk
   * waits for the next, so that a short message and its terminator go out in one write.
   * Returns the bytes sent.
   */
  async sendDataStream(source: NodeJS.ReadableStream | AsyncIterable<Uint8Array>): Promise<number> {
    this.assertWritable();
    const encoder = new DotStuffEncoder();
    const log = new DataLog(this.transcript);
    let held: Buffer | undefined;
    let sent = 0;
    const send = async (out: Buffer): Promise<void> => {
      await this.writeSliced(out);
      sent += out.length;
    };
    const release = (): Promise<void> | undefined => {
      const out = held;
      held = undefined;
      return out && send(out);
    };
    try {
      for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
        const out = encoder.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
        if (out.length === 0) continue;
        log.push(out);
        await release();
        // A copy: the encoder's output may share memory with a chunk the source reuses.
        if (out.length < WRITE_SLICE_BYTES) held = Buffer.from(out);
        else await send(out);
      }
    } catch (error) {
      // What was read before the failure is sent, as it would have been without the wait.
      if (held && this.isOpen) await release()?.catch(ignore);
      log.finish(false);
      this.transcript.note(`message stopped after ${sent} bytes: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
    const tail = encoder.finish();
    log.push(tail.subarray(0, tail.length - 3));
    log.finish();
    await this.writeSliced(held ? Buffer.concat([held, tail]) : tail);
    return sent + (held?.length ?? 0) + tail.length;
  }

  /** Sends `BDAT <n>[ LAST]` CRLF and the chunk in one write (RFC 3030); the chunk is sent as is. */
  async sendBdat(chunk: Uint8Array, last: boolean): Promise<void> {
    this.assertWritable();
    const command = `BDAT ${chunk.length}${last ? ' LAST' : ''}`;
    this.transcript.client(command);
    if (chunk.length > 0) this.transcript.client(`<${plural(chunk.length, 'byte')}>`);
    await this.writeSliced(Buffer.concat([Buffer.from(`${command}\r\n`, 'latin1'), chunk]));
  }

  /**
   * Upgrades the session to TLS after the server's 220 to STARTTLS (RFC 3207), which the caller has read.
   * Fails without a handshake if the server sent anything after that 220 (response injection,
   * as in CVE-2011-0411). Nothing is written between the 220 and the handshake. A failed handshake
   * ends the session. Replies are read inside TLS from then on.
   */
  async startTls(options: TlsClientOptions, timeoutMs: number): Promise<TlsFacts> {
    this.assertWritable();
    if (this.upgrade) throw new SmtpError('protocol', 'TLS is already active on this connection');
    const files = await this.orEnd(loadTlsFiles(options));
    if (this.ended) throw this.ended;
    if (this.queue.length > 0 || this.parser.hasBufferedBytes) {
      const error = new SmtpError('protocol', 'server sent data before the TLS handshake');
      this.end(error, `${error.message} (response injection, as in CVE-2011-0411); no handshake attempted`);
      this.stream.destroy();
      throw error;
    }
    this.unwire();
    // The TLS socket reports the plain stream's failures from now on.
    this.stream.on('error', ignore);
    const upgrade = await this.orEnd(upgradeToTls(this.stream, options, files, tcpHost(this.transport), timeoutMs));
    this.upgrade = upgrade;
    this.stream = upgrade.socket;
    this.parser.reset();
    this.loggedLines = 0;
    this.unwire = this.wire(upgrade.socket);
    this.transcript.note(describeTls(upgrade.facts, options.verify));
    return upgrade.facts;
  }

  /** Half-closes, waits up to timeoutMs for the server to close, then destroys. Never rejects. */
  close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    this.closing ??= this.shutDown(timeoutMs);
    return this.closing;
  }

  private async shutDown(timeoutMs: number): Promise<void> {
    this.end({ kind: 'closed', message: 'connection closed by the client' }, 'client closed the connection');
    const deadline = performance.now() + timeoutMs;
    await closeStream(this.stream, timeoutMs);
    if (this.stream !== this.transport.stream) await closeStream(this.transport.stream, Math.max(0, deadline - performance.now()));
  }

  /** Ends the session when `work` fails, and rethrows its failure as an SmtpError. */
  private async orEnd<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (caught) {
      const error = caught instanceof SmtpError ? caught : new SmtpError('tls', caught instanceof Error ? caught.message : String(caught));
      this.end(error);
      this.stream.destroy();
      this.transport.stream.destroy();
      throw error;
    }
  }

  /** All stream wiring lives here, so the stream can be swapped (STARTTLS). Returns the unwiring. */
  private wire(stream: Duplex): () => void {
    const onData = (chunk: Buffer): void => this.receive(chunk);
    const onEnd = (): void => this.peerClosed();
    const onClose = (): void => this.peerClosed();
    const onError = (err: Error): void => this.end(this.transport.describeError(err));
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('close', onClose);
    stream.on('error', onError);
    return () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onClose);
      stream.off('error', onError);
    };
  }

  private receive(chunk: Buffer): void {
    for (const event of this.parser.push(chunk)) {
      if (event.type === 'reply') {
        this.logLines(event.raw);
        if (event.warnings) for (const warning of event.warnings) this.transcript.note(`warning: ${warning}`);
        this.deliverReply(event.reply, event.raw);
        continue;
      }
      this.logLines(event.error.partialLines);
      const error = this.masked(event.error);
      if (this.parser.failed === event.error) {
        this.end(error);
        this.stream.destroy();
      } else {
        this.transcript.note(error.message);
        this.deliver({ error });
      }
    }
    this.logPendingLines();
  }

  private peerClosed(): void {
    if (this.ending) return;
    const closed = this.transport.closedMessage();
    const lines = this.parser.pendingLines.length;
    if (lines > 0) {
      this.end(new SmtpError('closed', `${closed} mid-reply after ${plural(lines, 'line')}`, this.parser.pendingLines));
    } else if (this.parser.hasBufferedBytes) {
      this.end(new SmtpError('closed', `${closed} in the middle of a reply line`));
    } else {
      this.end({ kind: 'closed', message: closed }, closed === SERVER_CLOSED ? 'connection closed by server' : closed);
    }
  }

  /** The deadline of the read in progress passed (one function per session, for every read's timer). */
  private readonly expire = (): void => {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    const timeoutMs = waiter.timeoutMs;
    const pending = this.parser.pendingLines;
    let message = `no reply within ${timeoutMs} ms`;
    if (pending.length > 0) message = `no complete reply within ${timeoutMs} ms (got ${plural(pending.length, 'line')} so far)`;
    else if (this.parser.hasBufferedBytes) message = `no complete reply within ${timeoutMs} ms (got part of a line so far)`;
    this.transcript.note(message);
    waiter.reject(new SmtpError('timeout', message, pending));
  };

  private deliverReply(reply: Reply, raw: string[]): void {
    const waiter = this.waiter;
    if (!waiter) {
      this.enqueue({ reply }, rawBytes(raw));
      return;
    }
    this.waiter = undefined;
    clearTimeout(waiter.timer);
    waiter.resolve(reply);
  }

  private deliver(outcome: Outcome, bytes = 0): void {
    const waiter = this.waiter;
    if (!waiter) {
      this.enqueue(outcome, bytes);
      return;
    }
    this.waiter = undefined;
    clearTimeout(waiter.timer);
    if ('reply' in outcome) waiter.resolve(outcome.reply);
    else waiter.reject(outcome.error);
  }

  /** Keeps a reply for a later read; once the session is over nobody will read it, and a flood ends the session. */
  private enqueue(outcome: Outcome, bytes: number): void {
    if (this.ending) return;
    this.queue.push({ outcome, bytes });
    this.queuedBytes += bytes;
    const tooMany = this.queue.length > MAX_UNREAD_REPLIES ? `more than ${MAX_UNREAD_REPLIES} replies` : undefined;
    const tooBig = this.queuedBytes > MAX_UNREAD_BYTES ? `more than ${MAX_UNREAD_BYTES / 1024 / 1024} MiB of replies` : undefined;
    if (!tooMany && !tooBig) return;
    const error = new SmtpError('limit', `server sent ${tooMany ?? tooBig} that nobody read`);
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.end(error);
    this.stream.destroy();
  }

  /** Ends the session once: later reads (after the queue) and writes fail with `error`. */
  private end(error: SmtpError | Ending, note = error.message): void {
    if (this.ending) return;
    this.ending = error;
    this.transcript.note(note);
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    clearTimeout(waiter.timer);
    waiter.reject(this.ended!);
  }

  private assertWritable(): void {
    if (this.ended) throw this.ended;
  }

  private writeSliced(data: Buffer): Promise<void> {
    if (data.length > WRITE_SLICE_BYTES) return this.writeSlices(data);
    return data.length > 0 ? this.write(data) : RESOLVED;
  }

  private async writeSlices(data: Buffer): Promise<void> {
    for (let offset = 0; offset < data.length; offset += WRITE_SLICE_BYTES) {
      await this.write(data.subarray(offset, offset + WRITE_SLICE_BYTES));
    }
  }

  /** Resolves once the bytes are handed to the system; a server that stops reading ends the session at the deadline. */
  private write(data: Buffer | string): Promise<void> {
    const stream = this.stream;
    // Write callbacks always come after write() returns, so `settle` is set by then when it is needed.
    let settle: ((error?: SmtpError) => void) | undefined;
    stream.write(data, (err) => settle?.(err ? (this.ended ?? this.transport.describeError(err)) : undefined));
    // Nothing left in the stream's buffer: the system took every byte at once, and no deadline is needed.
    if (!stream.destroyed && stream.writableLength === 0) return RESOLVED;
    return new Promise((resolve, reject) => {
      settle = (error?: SmtpError): void => {
        clearTimeout(timer);
        stream.off('close', onClose);
        if (error) reject(error);
        else resolve();
      };
      const onClose = (): void => settle!(this.ended ?? new SmtpError('closed', this.transport.closedMessage()));
      const onStall = (): void => {
        const ms = this.writeTimeoutMs;
        this.end(new SmtpError('timeout', `the server stopped reading: no data could be sent for ${ms} ms`));
        this.stream.destroy();
        settle!(this.ended);
      };
      const timer = setTimeout(onStall, this.writeTimeoutMs);
      stream.once('close', onClose);
    });
  }

  private logLines(raw: readonly string[]): void {
    for (let i = this.loggedLines; i < raw.length; i++) this.logServerLine(raw[i]!);
    this.loggedLines = 0;
  }

  /** Lines of an unfinished multiline reply go to the transcript as they arrive, not when it ends. */
  private logPendingLines(): void {
    const pending = this.parser.pendingRawLines;
    for (let i = this.loggedLines; i < pending.length; i++) this.logServerLine(pending[i]!);
    this.loggedLines = pending.length;
  }

  /** Masked before it is cut, so no part of a secret survives the cut. */
  private logServerLine(line: string): void {
    const masked = this.transcript.mask(line);
    this.transcript.server(masked.length > TRANSCRIPT_LINE_CHARS ? `${masked.slice(0, TRANSCRIPT_LINE_CHARS)}…` : masked);
  }

  private masked(error: SmtpError): SmtpError {
    const mask = (text: string): string => this.transcript.mask(text);
    return new SmtpError(error.kind, mask(error.message), error.partialLines.map(mask));
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

/** Whether `error` is a reply's deadline passing (rather than a connect, handshake or write deadline). */
export function isReplyTimeout(error: SmtpError): boolean {
  return error.kind === 'timeout' && /^no (complete )?reply within /.test(error.message);
}

/** A reply's size as received (characters and line endings), for the flood limit. */
function rawBytes(raw: string[]): number {
  let sum = 0;
  for (const line of raw) sum += line.length + 2;
  return sum;
}

export function ignore(): void {}

const hasLineBreak = (line: string): boolean => line.includes('\r') || line.includes('\n');
const lineBreakRefused = (): SmtpError => new SmtpError('protocol', 'refusing to send a command line that contains CR or LF');

const RESOLVED: Promise<void> = Promise.resolve();

export function tcpHost(transport: OpenTransport): string | undefined {
  return transport.spec.kind === 'tcp' ? transport.spec.host : undefined;
}
