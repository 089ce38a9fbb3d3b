import { createReadStream } from 'node:fs';
import net from 'node:net';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * The floor: the least a client can do for the classic transaction (greeting, EHLO, MAIL,
 * RCPT, DATA, message, QUIT) over plain `node:net`, with a deadline on every wait.
 * The benchmarks compare smtpspec's timings against it.
 */

export interface FloorOptions {
  host: string;
  port: number;
  from: string;
  to: string;
  /** The message: text (LF or CRLF line endings), or a file whose lines already end in CRLF. */
  message: { text: string } | { file: string };
  /** Deadline for connecting and for each reply. */
  timeoutMs: number;
}

export class FloorError extends Error {
  override name = 'FloorError';
}

/** Runs one session; rejects on an unexpected reply, a closed connection or a missed deadline. */
export async function floorSession(options: FloorOptions): Promise<void> {
  const socket = await connect(options.host, options.port, options.timeoutMs);
  const replies = new ReplyReader(socket);
  try {
    const expect = async (code: number, after: string): Promise<void> => {
      const got = await replies.next(options.timeoutMs, after);
      if (got !== code) throw new FloorError(`expected ${code} after ${after}, got ${got}`);
    };
    const command = (line: string, code: number): Promise<void> => {
      socket.write(`${line}\r\n`);
      return expect(code, line);
    };
    await expect(220, 'connecting');
    await command('EHLO floor.invalid', 250);
    await command(`MAIL FROM:<${options.from}>`, 250);
    await command(`RCPT TO:<${options.to}>`, 250);
    await command('DATA', 354);
    await sendMessage(socket, options.message);
    await expect(250, 'the message');
    await command('QUIT', 221);
  } finally {
    replies.stop();
    socket.destroy();
  }
}

function connect(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new FloorError(`no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function sendMessage(socket: net.Socket, message: FloorOptions['message']): Promise<void> {
  if ('text' in message) {
    const text = message.text.replace(/\r?\n/g, '\r\n');
    const body = text.endsWith('\r\n') || text === '' ? text : `${text}\r\n`;
    socket.write(Buffer.concat([dotStuff(Buffer.from(body, 'utf8'), true), Buffer.from('.\r\n')]));
    return;
  }
  await pipeline(createReadStream(message.file, { highWaterMark: 256 * 1024 }), new DotStuffer(), socket, { end: false });
  socket.write('.\r\n');
}

/** Runs `count` floor sessions, `concurrency` at a time. */
export async function floorPool(options: FloorOptions, count: number, concurrency: number): Promise<{ passed: number; failed: number; firstError?: string }> {
  let next = 0;
  let passed = 0;
  let firstError: string | undefined;
  const lane = async (): Promise<void> => {
    while (next < count) {
      next++;
      try {
        await floorSession(options);
        passed++;
      } catch (error) {
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return { passed, failed: count - passed, ...(firstError ? { firstError } : {}) };
}

/** Doubles every dot that starts a line; `atLineStart` says whether the chunk starts a line. */
export function dotStuff(chunk: Buffer, atLineStart: boolean): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  if (atLineStart && chunk[0] === 0x2e) {
    parts.push(Buffer.from('.'));
  }
  for (let at = chunk.indexOf('\n.'); at !== -1; at = chunk.indexOf('\n.', at + 1)) {
    parts.push(chunk.subarray(from, at + 1), Buffer.from('.'));
    from = at + 1;
  }
  if (parts.length === 0) return chunk;
  parts.push(chunk.subarray(from));
  return Buffer.concat(parts);
}

/** Dot-stuffing as a stream, for CRLF input; a chunk that ends a line lets the next start one. */
export class DotStuffer extends Transform {
  private atLineStart = true;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (chunk.length === 0) return callback();
    const out = dotStuff(chunk, this.atLineStart);
    this.atLineStart = chunk[chunk.length - 1] === 0x0a;
    callback(null, out);
  }

  override _flush(callback: TransformCallback): void {
    // The terminator needs the last line to end in CRLF.
    callback(null, this.atLineStart ? undefined : Buffer.from('\r\n'));
  }
}

/** Reads whole replies (the last line of a multiline reply has a space or nothing after its code). */
class ReplyReader {
  private buffer = '';
  private codes: number[] = [];
  private ended: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', this.onData);
    socket.on('error', this.onEnd);
    socket.on('close', this.onEnd);
  }

  private readonly onData = (text: string): void => {
    this.buffer += text;
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) !== -1) {
      const line = this.buffer.slice(0, newline).replace(/\r$/, '');
      this.buffer = this.buffer.slice(newline + 1);
      if (line.length === 3 || line[3] === ' ') this.codes.push(Number(line.slice(0, 3)));
    }
    this.wake?.();
  };

  private readonly onEnd = (error?: Error | boolean): void => {
    this.ended ??= error instanceof Error ? error : new FloorError('the server closed the connection');
    this.wake?.();
  };

  async next(timeoutMs: number, after: string): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.codes.length === 0) {
      if (this.ended) throw this.ended;
      const left = deadline - Date.now();
      if (left <= 0) throw new FloorError(`no reply within ${timeoutMs} ms after ${after}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.codes.shift()!;
  }

  stop(): void {
    this.socket.off('data', this.onData);
  }
}
