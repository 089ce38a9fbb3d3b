import net from 'node:net';
import { encodeMessage } from './dot-stuff.js';
import { ReplyParser, type ParserLimits } from './reply-parser.js';
import { Transcript } from './transcript.js';
import { SmtpError, type Reply } from './types.js';
import { formatAddress } from './address.js';

/**
 * A plain SMTP client session: it sends only what it is told and reads one reply at a time.
 * Replies that arrive before anyone asks are queued in order.
 * After a reply timeout the session stays usable: a late reply is returned by the next readReply.
 */

export interface ConnectOptions {
  host: string;
  port: number;
  /** Deadline for the TCP connection (name resolution included). */
  timeoutMs: number;
  transcript?: Transcript;
  limits?: ParserLimits;
}

export const DEFAULT_CLOSE_TIMEOUT_MS = 1000;
/** DATA payloads are written in slices of this size, each awaited, so memory stays flat. */
const WRITE_SLICE_BYTES = 64 * 1024;
/** DATA body lines shown in the transcript before the rest is summarised. */
const TRANSCRIPT_BODY_LINES = 50;

/** Resolves once TCP is connected; the greeting is left for the first readReply. */
export function connect(options: ConnectOptions): Promise<SmtpConnection> {
  const address = formatAddress(options.host, options.port);
  const transcript = options.transcript ?? new Transcript();
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: options.host, port: options.port });
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('connect', onConnect);
    };
    const fail = (error: SmtpError): void => {
      cleanup();
      socket.on('error', ignore);
      socket.destroy();
      transcript.note(error.message);
      reject(error);
    };
    const onError = (err: Error): void => fail(describeSocketError(err, options.host, address));
    const onConnect = (): void => {
      cleanup();
      const remote = socket.remoteAddress;
      transcript.note(`connected to ${address}${remote && remote !== options.host ? ` (${remote})` : ''}`);
      resolve(new SmtpConnection(socket, { host: options.host, address, transcript, limits: options.limits }));
    };
    const timer = setTimeout(() => {
      fail(new SmtpError('connect-timeout', `no answer from ${address} within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    socket.once('error', onError);
    socket.once('connect', onConnect);
  });
}

/** Maps a socket error to an SmtpError with a named cause and a one-line message. */
export function describeSocketError(err: Error, host: string, address: string): SmtpError {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ECONNREFUSED':
      return new SmtpError('refused', `connection refused by ${address}`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'ENODATA':
      return new SmtpError('dns', `cannot resolve host "${host}"`);
    case 'ECONNRESET':
      return new SmtpError('reset', 'connection reset by the server');
    case 'EPIPE':
      return new SmtpError('closed', 'server closed the connection');
    case 'ERR_STREAM_DESTROYED':
    case 'ERR_STREAM_WRITE_AFTER_END':
      return new SmtpError('closed', 'the connection is closed');
    default:
      return new SmtpError('network', `network error with ${address}: ${code ?? err.message}`);
  }
}

type Outcome = { reply: Reply } | { error: SmtpError };

interface Waiter {
  resolve(reply: Reply): void;
  reject(error: SmtpError): void;
  timer: NodeJS.Timeout;
}

interface SessionOptions {
  host: string;
  /** `host:port`, for messages. */
  address: string;
  transcript: Transcript;
  limits: ParserLimits | undefined;
}

/** One connected session. Created by `connect()`. */
export class SmtpConnection {
  readonly transcript: Transcript;
  private readonly parser: ReplyParser;
  private readonly queue: Outcome[] = [];
  private waiter: Waiter | undefined;
  /** Set once the session is over; every later read (after the queue) and write fails with it. */
  private ended: SmtpError | undefined;
  /** Lines of the reply in progress already written to the transcript. */
  private loggedLines = 0;
  private closing: Promise<void> | undefined;
  private socket: net.Socket;

  constructor(
    socket: net.Socket,
    private readonly session: SessionOptions,
  ) {
    this.transcript = session.transcript;
    this.parser = new ReplyParser(session.limits);
    this.socket = socket;
    socket.setNoDelay(true);
    this.wire(socket);
  }

  /** False once the server closed or reset the connection, a fatal protocol error struck, or close() was called. */
  get isOpen(): boolean {
    return this.ended === undefined;
  }

  /** One complete reply, within one deadline for the whole reply. Rejects with SmtpError. */
  readReply(timeoutMs: number): Promise<Reply> {
    const next = this.queue.shift();
    if (next) return 'reply' in next ? Promise.resolve(next.reply) : Promise.reject(next.error);
    if (this.ended) return Promise.reject(this.ended);
    if (this.waiter) return Promise.reject(new Error('readReply called while another readReply is waiting'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.expire(timeoutMs), timeoutMs);
      this.waiter = { resolve, reject, timer };
    });
  }

  /** Sends one command line; CRLF is appended. A line containing CR or LF is refused and nothing is sent. */
  async sendLine(line: string): Promise<void> {
    if (/[\r\n]/.test(line)) {
      throw new SmtpError('protocol', 'refusing to send a command line that contains CR or LF');
    }
    this.assertWritable();
    this.transcript.client(line);
    await this.write(Buffer.from(`${line}\r\n`, 'utf8'));
  }

  /** Sends a message body after a 354: line endings to CRLF, dot-stuffing, then `.` CRLF. */
  async sendData(body: string): Promise<void> {
    this.assertWritable();
    const payload = encodeMessage(body);
    this.logData(payload);
    for (let offset = 0; offset < payload.length; offset += WRITE_SLICE_BYTES) {
      await this.write(payload.subarray(offset, offset + WRITE_SLICE_BYTES));
    }
  }

  /** Half-closes, waits up to timeoutMs for the server to close, then destroys. Never rejects. */
  close(timeoutMs = DEFAULT_CLOSE_TIMEOUT_MS): Promise<void> {
    this.closing ??= this.shutDown(timeoutMs);
    return this.closing;
  }

  private async shutDown(timeoutMs: number): Promise<void> {
    this.end(new SmtpError('closed', 'connection closed by the client'), 'client closed the connection');
    const socket = this.socket;
    if (socket.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => socket.destroy(), timeoutMs);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.end();
    });
  }

  /** All socket wiring lives here, so the transport can later be swapped (STARTTLS). Returns the unwiring. */
  private wire(socket: net.Socket): () => void {
    const onData = (chunk: Buffer): void => this.receive(chunk);
    const onEnd = (): void => this.peerClosed();
    const onClose = (): void => this.peerClosed();
    const onError = (err: Error): void => {
      this.end(describeSocketError(err, this.session.host, this.session.address));
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.on('error', onError);
    return () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onClose);
      socket.off('error', onError);
    };
  }

  private receive(chunk: Buffer): void {
    for (const event of this.parser.push(chunk)) {
      if (event.type === 'reply') {
        this.logLines(event.raw);
        for (const warning of event.warnings ?? []) this.transcript.note(`warning: ${warning}`);
        this.deliver({ reply: event.reply });
        continue;
      }
      this.logLines(event.error.partialLines);
      const error = this.masked(event.error);
      if (this.parser.failed === event.error) {
        this.end(error);
        this.socket.destroy();
      } else {
        this.transcript.note(error.message);
        this.deliver({ error });
      }
    }
    this.logPendingLines();
  }

  private peerClosed(): void {
    if (this.ended) return;
    const lines = this.parser.pendingLines.length;
    if (lines > 0) {
      this.end(new SmtpError('closed', `server closed the connection mid-reply after ${plural(lines, 'line')}`, this.parser.pendingLines));
    } else if (this.parser.hasBufferedBytes) {
      this.end(new SmtpError('closed', 'server closed the connection in the middle of a reply line'));
    } else {
      this.end(new SmtpError('closed', 'server closed the connection'), 'connection closed by server');
    }
  }

  private expire(timeoutMs: number): void {
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    const pending = this.parser.pendingLines;
    let message = `no reply within ${timeoutMs} ms`;
    if (pending.length > 0) message = `no complete reply within ${timeoutMs} ms (got ${plural(pending.length, 'line')} so far)`;
    else if (this.parser.hasBufferedBytes) message = `no complete reply within ${timeoutMs} ms (got part of a line so far)`;
    this.transcript.note(message);
    waiter.reject(new SmtpError('timeout', message, pending));
  }

  private deliver(outcome: Outcome): void {
    const waiter = this.waiter;
    if (!waiter) {
      this.queue.push(outcome);
      return;
    }
    this.waiter = undefined;
    clearTimeout(waiter.timer);
    if ('reply' in outcome) waiter.resolve(outcome.reply);
    else waiter.reject(outcome.error);
  }

  /** Ends the session once: later reads (after the queue) and writes fail with `error`. */
  private end(error: SmtpError, note = error.message): void {
    if (this.ended) return;
    this.ended = error;
    this.transcript.note(note);
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    clearTimeout(waiter.timer);
    waiter.reject(error);
  }

  private assertWritable(): void {
    if (this.ended) throw this.ended;
  }

  private write(data: Buffer): Promise<void> {
    const socket = this.socket;
    return new Promise((resolve, reject) => {
      const onClose = (): void => {
        socket.off('close', onClose);
        reject(this.ended ?? new SmtpError('closed', 'server closed the connection'));
      };
      socket.once('close', onClose);
      socket.write(data, (err) => {
        socket.off('close', onClose);
        if (err) reject(this.ended ?? describeSocketError(err, this.session.host, this.session.address));
        else resolve();
      });
    });
  }

  private logLines(raw: string[]): void {
    for (const line of raw.slice(this.loggedLines)) this.transcript.server(line);
    this.loggedLines = 0;
  }

  /** Lines of an unfinished multiline reply go to the transcript as they arrive, not when it ends. */
  private logPendingLines(): void {
    const pending = this.parser.pendingLines;
    for (const line of pending.slice(this.loggedLines)) this.transcript.server(line);
    this.loggedLines = pending.length;
  }

  private logData(payload: Buffer): void {
    // The payload ends with the terminator `.` CRLF; count the body lines before it.
    let start = 0;
    let count = 0;
    for (let end = payload.indexOf('\r\n', start); end !== -1; end = payload.indexOf('\r\n', start)) {
      const isTerminator = end + 2 === payload.length;
      if (!isTerminator) {
        if (count < TRANSCRIPT_BODY_LINES) this.transcript.client(payload.toString('utf8', start, end));
        count += 1;
      }
      start = end + 2;
    }
    if (count > TRANSCRIPT_BODY_LINES) this.transcript.client(`… ${plural(count - TRANSCRIPT_BODY_LINES, 'more line')}`);
    this.transcript.client('.');
  }

  private masked(error: SmtpError): SmtpError {
    const mask = (text: string): string => this.transcript.mask(text);
    return new SmtpError(error.kind, mask(error.message), error.partialLines.map(mask));
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function ignore(): void {}
