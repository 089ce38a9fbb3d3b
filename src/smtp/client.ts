import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { PeerCertificate } from 'node:tls';
import { DotStuffEncoder, encodeMessage } from './dot-stuff.js';
import { describeProxyHeader, proxyHeader, type ProxyHeaderSettings } from './proxy.js';
import { ReplyParser, type ParserLimits } from './reply-parser.js';
import { certificateMatchesName, describeTls, loadTlsFiles, upgradeToTls, type TlsClientOptions, type TlsUpgrade } from './tls.js';
import { Transcript } from './transcript.js';
import { openTransport, type OpenTransport, type TransportSpec } from './transport.js';
import { SmtpError, type Reply, type TlsFacts } from './types.js';

export { describeSocketError, type TransportSpec } from './transport.js';
export type { TlsClientOptions } from './tls.js';

/**
 * A plain SMTP client session: it sends only what it is told and reads one reply at a time.
 * Replies that arrive before anyone asks are queued in order.
 * After a reply timeout the session stays usable: a late reply is returned by the next readReply.
 */

export interface ConnectOptions {
  transport?: TransportSpec;
  /** Shorthand for a TCP transport, when `transport` is not given. */
  host?: string;
  port?: number;
  /** Deadline for connecting (name resolution included), and for the implicit TLS handshake. */
  timeoutMs: number;
  transcript?: Transcript;
  limits?: ParserLimits;
  /** With `implicit`, TLS starts right after connecting (RFC 8314), before the greeting. */
  tls?: TlsClientOptions & { implicit: boolean };
  /** A PROXY protocol header written right after the TCP connect (TCP only). */
  proxy?: ProxyHeaderSettings;
}

export const DEFAULT_CLOSE_TIMEOUT_MS = 1000;
/** Payloads are written in slices of this size, each awaited, so memory stays flat. */
const WRITE_SLICE_BYTES = 64 * 1024;
/** Message and raw lines shown in the transcript before the rest is summarised. */
const TRANSCRIPT_BODY_LINES = 50;
/** Longest message or raw line kept in the transcript, in bytes. */
const TRANSCRIPT_LINE_BYTES = 1000;
const SERVER_CLOSED = 'server closed the connection';

/** Resolves once connected (and through TLS, with implicit TLS); the greeting is left for the first readReply. */
export async function connect(options: ConnectOptions): Promise<SmtpConnection> {
  const transcript = options.transcript ?? new Transcript();
  let transport: OpenTransport | undefined;
  try {
    // Files first: between connecting and wiring the session nothing may wait on the disk.
    const spec = transportOf(options);
    if (options.proxy && spec.kind !== 'tcp') throw new SmtpError('network', `a PROXY header can only be sent over TCP, not over the ${spec.kind} transport`);
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
    return new SmtpConnection(transport, { transcript, limits: options.limits, upgrade });
  } catch (caught) {
    transport?.stream.on('error', ignore);
    transport?.stream.destroy();
    const error = caught instanceof SmtpError ? caught : new SmtpError('network', caught instanceof Error ? caught.message : String(caught));
    transcript.note(error.message);
    throw error;
  }
}

function transportOf(options: ConnectOptions): TransportSpec {
  if (options.transport) return options.transport;
  if (options.host === undefined || options.port === undefined) throw new SmtpError('network', 'no server to connect to');
  return { kind: 'tcp', host: options.host, port: options.port };
}

function tcpHost(transport: OpenTransport): string | undefined {
  return transport.spec.kind === 'tcp' ? transport.spec.host : undefined;
}

/** Writes the PROXY header before anything is read; the destination defaults to the address connected to. */
async function sendProxyHeader(transport: OpenTransport, settings: ProxyHeaderSettings, transcript: Transcript): Promise<void> {
  if (transport.spec.kind !== 'tcp') return;
  const socket = transport.stream as net.Socket;
  const header = proxyHeader(settings, { host: socket.remoteAddress ?? transport.spec.host, port: socket.remotePort ?? transport.spec.port });
  transcript.note(`sent ${describeProxyHeader(header)}`);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(transport.describeError(err));
    socket.once('error', onError);
    socket.write(header, (err) => {
      socket.off('error', onError);
      if (err) onError(err);
      else resolve();
    });
  });
}

type Outcome = { reply: Reply } | { error: SmtpError };

interface Waiter {
  resolve(reply: Reply): void;
  reject(error: SmtpError): void;
  timer: NodeJS.Timeout;
}

interface SessionOptions {
  transcript: Transcript;
  limits: ParserLimits | undefined;
  /** Set when the session starts inside TLS (implicit TLS). */
  upgrade: TlsUpgrade | undefined;
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
    this.upgrade = options.upgrade;
    this.stream = options.upgrade?.socket ?? transport.stream;
    this.unwire = this.wire(this.stream);
    if (this.stream.destroyed || this.stream.readableEnded) this.peerClosed();
  }

  /** False once the server closed or reset the connection, a fatal protocol error struck, or close() was called. */
  get isOpen(): boolean {
    return this.ended === undefined;
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
    await this.sendLines([line]);
  }

  /**
   * Sends several command lines in one write (RFC 2920 pipelining); CRLF is appended to each.
   * If any line contains CR or LF, nothing is sent.
   */
  async sendLines(lines: string[]): Promise<void> {
    if (lines.some((line) => /[\r\n]/.test(line))) {
      throw new SmtpError('protocol', 'refusing to send a command line that contains CR or LF');
    }
    this.assertWritable();
    if (lines.length === 0) return;
    for (const line of lines) this.transcript.client(line);
    await this.write(Buffer.from(lines.map((line) => `${line}\r\n`).join(''), 'utf8'));
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
   * each chunk is written before the next is read, so memory stays flat. Returns the bytes sent.
   */
  async sendDataStream(source: NodeJS.ReadableStream | AsyncIterable<Uint8Array>): Promise<number> {
    this.assertWritable();
    const encoder = new DotStuffEncoder();
    const log = new DataLog(this.transcript);
    let sent = 0;
    try {
      for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
        const out = encoder.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
        if (out.length === 0) continue;
        log.push(out);
        await this.writeSliced(out);
        sent += out.length;
      }
    } catch (error) {
      log.finish(false);
      this.transcript.note(`message stopped after ${sent} bytes: ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
    const tail = encoder.finish();
    log.push(tail.subarray(0, tail.length - 3));
    log.finish();
    await this.write(tail);
    return sent + tail.length;
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
    this.end(new SmtpError('closed', 'connection closed by the client'), 'client closed the connection');
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
        for (const warning of event.warnings ?? []) this.transcript.note(`warning: ${warning}`);
        this.deliver({ reply: event.reply });
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
    if (this.ended) return;
    const closed = this.transport.closedMessage();
    const lines = this.parser.pendingLines.length;
    if (lines > 0) {
      this.end(new SmtpError('closed', `${closed} mid-reply after ${plural(lines, 'line')}`, this.parser.pendingLines));
    } else if (this.parser.hasBufferedBytes) {
      this.end(new SmtpError('closed', `${closed} in the middle of a reply line`));
    } else {
      this.end(new SmtpError('closed', closed), closed === SERVER_CLOSED ? 'connection closed by server' : closed);
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

  private async writeSliced(data: Buffer): Promise<void> {
    for (let offset = 0; offset < data.length; offset += WRITE_SLICE_BYTES) {
      await this.write(data.subarray(offset, offset + WRITE_SLICE_BYTES));
    }
  }

  private write(data: Buffer): Promise<void> {
    const stream = this.stream;
    return new Promise((resolve, reject) => {
      const onClose = (): void => {
        stream.off('close', onClose);
        reject(this.ended ?? new SmtpError('closed', this.transport.closedMessage()));
      };
      stream.once('close', onClose);
      stream.write(data, (err) => {
        stream.off('close', onClose);
        if (err) reject(this.ended ?? this.transport.describeError(err));
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
    stream.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    stream.on('error', ignore);
    if (stream.destroyed) return;
    stream.end();
  });
}

/**
 * The lines of a dot-stuffed message for the transcript, fed as it is sent:
 * the first lines in full, then only a count, then the terminating `.`.
 * The encoder always emits CR and LF together, so a line ending never spans two pushes.
 */
class DataLog {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private count = 0;

  constructor(private readonly transcript: Transcript) {}

  push(bytes: Buffer): void {
    let start = 0;
    for (let lf = bytes.indexOf(0x0a, start); lf !== -1; lf = bytes.indexOf(0x0a, start)) {
      const end = lf > start && bytes[lf - 1] === 0x0d ? lf - 1 : lf;
      this.keep(bytes.subarray(start, end));
      this.line();
      start = lf + 1;
    }
    this.keep(bytes.subarray(start));
  }

  /** Logs what is left; `terminated` adds the final `.` line. */
  finish(terminated = true): void {
    if (this.partialBytes > 0) this.line();
    if (this.count > TRANSCRIPT_BODY_LINES) this.transcript.client(`… ${plural(this.count - TRANSCRIPT_BODY_LINES, 'more line')}`);
    if (terminated) this.transcript.client('.');
  }

  /** Holds the start of a line while it may still be shown, at most TRANSCRIPT_LINE_BYTES of it. */
  private keep(piece: Buffer): void {
    if (this.count < TRANSCRIPT_BODY_LINES && this.partialBytes < TRANSCRIPT_LINE_BYTES) this.partial.push(piece);
    this.partialBytes += piece.length;
  }

  private line(): void {
    if (this.count < TRANSCRIPT_BODY_LINES) {
      const text = Buffer.concat(this.partial).subarray(0, TRANSCRIPT_LINE_BYTES).toString('utf8');
      this.transcript.client(this.partialBytes > TRANSCRIPT_LINE_BYTES ? `${text}…` : text);
    }
    this.count += 1;
    this.partial = [];
    this.partialBytes = 0;
  }
}

/** Raw bytes as transcript lines, one per LF, with `\r`, `\n`, `\t`, `\\` and `\xNN` escapes. */
function logRaw(transcript: Transcript, bytes: Uint8Array): void {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start = 0;
  let count = 0;
  while (start < buffer.length) {
    const lf = buffer.indexOf(0x0a, start);
    const end = lf === -1 ? buffer.length : lf + 1;
    if (count < TRANSCRIPT_BODY_LINES) {
      const piece = buffer.subarray(start, Math.min(end, start + TRANSCRIPT_LINE_BYTES));
      transcript.client(`${escapeBytes(piece)}${end - start > TRANSCRIPT_LINE_BYTES ? '…' : ''}`);
    }
    count += 1;
    start = end;
  }
  if (count > TRANSCRIPT_BODY_LINES) transcript.client(`… ${plural(count - TRANSCRIPT_BODY_LINES, 'more line')}`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Readable text for bytes: valid UTF-8 stays text, controls and invalid bytes become escapes. */
export function escapeBytes(bytes: Uint8Array): string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return Array.from(bytes, (byte) => (byte >= 0x80 ? hexEscape(byte) : escapeChar(String.fromCharCode(byte)))).join('');
  }
  return Array.from(text, escapeChar).join('');
}

function escapeChar(char: string): string {
  switch (char) {
    case '\r':
      return '\\r';
    case '\n':
      return '\\n';
    case '\t':
      return '\\t';
    case '\\':
      return '\\\\';
  }
  const code = char.codePointAt(0)!;
  if (code < 0x20 || code === 0x7f) return hexEscape(code);
  if (code >= 0x80 && code < 0xa0) return `\\u${code.toString(16).padStart(4, '0')}`;
  return char;
}

function hexEscape(byte: number): string {
  return `\\x${byte.toString(16).padStart(2, '0')}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function ignore(): void {}
