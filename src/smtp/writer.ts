import type { Duplex } from 'node:stream';
import { DotStuffEncoder, encodeMessage } from './dot-stuff.js';
import { DataLog, logRaw } from './sent-log.js';
import type { Transcript } from './transcript.js';
import { ignore, type OpenTransport } from './transport.js';
import { SmtpError } from './types.js';
import { plural } from '../words.js';

/** How long one write may wait for the server to take the bytes, unless the session says otherwise. */
export const DEFAULT_WRITE_TIMEOUT_MS = 30_000;
/** Payloads are written in slices of this size, each awaited, so memory stays flat. */
const WRITE_SLICE_BYTES = 64 * 1024;

/** The session's end, as the writer sees it (a ReplyQueue). */
export interface SessionEnd {
  readonly isOpen: boolean;
  /** Why the session is over, once it is. */
  readonly ended: SmtpError | undefined;
  end(error: SmtpError): void;
}

/**
 * The write side of a session: each write is logged to the transcript, then handed to the stream
 * within a deadline; a server that stops reading ends the session at that deadline.
 */
export class SessionWriter {
  /** The stream the session talks over: the transport's, or the TLS socket on top of it. */
  stream: Duplex;

  constructor(
    private readonly transport: OpenTransport,
    private readonly session: SessionEnd,
    private readonly transcript: Transcript,
    private readonly timeoutMs: number,
    stream: Duplex,
  ) {
    this.stream = stream;
  }

  sendLine(line: string): Promise<void> {
    if (hasLineBreak(line)) return Promise.reject(lineBreakRefused());
    if (!this.session.isOpen) return Promise.reject(this.session.ended);
    this.transcript.client(line);
    return this.write(`${line}\r\n`);
  }

  /** Every line in one write (RFC 2920 pipelining); nothing is sent if any line holds CR or LF. */
  async sendLines(lines: string[]): Promise<void> {
    if (lines.some(hasLineBreak)) throw lineBreakRefused();
    this.assertWritable();
    if (lines.length === 0) return;
    for (const line of lines) this.transcript.client(line);
    await this.write(lines.map((line) => `${line}\r\n`).join(''));
  }

  async sendRaw(bytes: Uint8Array): Promise<void> {
    this.assertWritable();
    logRaw(this.transcript, bytes);
    await this.writeSliced(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  sendData(body: string): Promise<void> {
    if (this.session.ended) return Promise.reject(this.session.ended);
    const payload = encodeMessage(body);
    const log = new DataLog(this.transcript);
    log.push(payload.subarray(0, payload.length - 3));
    log.finish();
    return this.writeSliced(payload);
  }

  /** Each chunk is written before the next but one is read; a small chunk waits for the next. Returns the bytes sent. */
  async sendDataStream(source: NodeJS.ReadableStream | AsyncIterable<Uint8Array>): Promise<number> {
    this.assertWritable();
    // Each output is written (or copied) before the next chunk is encoded, so the encoder may reuse its buffer.
    const encoder = new DotStuffEncoder({ reuseOutput: true });
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
      if (held && this.session.isOpen) await release()?.catch(ignore);
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

  async sendBdat(chunk: Uint8Array, last: boolean): Promise<void> {
    this.assertWritable();
    const command = `BDAT ${chunk.length}${last ? ' LAST' : ''}`;
    this.transcript.client(command);
    if (chunk.length > 0) this.transcript.client(`<${plural(chunk.length, 'byte')}>`);
    await this.writeSliced(Buffer.concat([Buffer.from(`${command}\r\n`, 'latin1'), chunk]));
  }

  private assertWritable(): void {
    if (this.session.ended) throw this.session.ended;
  }

  private writeSliced(data: Buffer): Promise<void> {
    if (data.length > WRITE_SLICE_BYTES) return this.writeSlices(data);
    return data.length > 0 ? this.write(data) : WRITTEN;
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
    stream.write(data, (err) => settle?.(err ? (this.session.ended ?? this.transport.describeError(err, 'send')) : undefined));
    // Nothing left in the stream's buffer: the system took every byte at once, and no deadline is needed.
    if (!stream.destroyed && stream.writableLength === 0) return WRITTEN;
    return new Promise((resolve, reject) => {
      settle = (error?: SmtpError): void => {
        clearTimeout(timer);
        stream.off('close', onClose);
        if (error) reject(error);
        else resolve();
      };
      const onClose = (): void => settle!(this.session.ended ?? new SmtpError('closed', 'send', this.transport.closedMessage()));
      const onStall = (): void => {
        const ms = this.timeoutMs;
        this.session.end(new SmtpError('timeout', 'send', `the server stopped reading: no data could be sent for ${ms} ms`));
        this.stream.destroy();
        settle!(this.session.ended);
      };
      const timer = setTimeout(onStall, this.timeoutMs);
      stream.once('close', onClose);
    });
  }
}

const hasLineBreak = (line: string): boolean => line.includes('\r') || line.includes('\n');
const lineBreakRefused = (): SmtpError => new SmtpError('protocol', 'send', 'refusing to send a command line that contains CR or LF');

/** What a send returns when the system took every byte at once: a caller may go on without waiting a turn for it. */
export const WRITTEN: Promise<void> = Promise.resolve();
