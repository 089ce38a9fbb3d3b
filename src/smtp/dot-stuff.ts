import { Transform, type TransformCallback } from 'node:stream';

/**
 * Message transparency for DATA (RFC 5321 §4.5.2, §4.1.1.4):
 * every line ending (CRLF, bare LF, bare CR) becomes CRLF, a leading `.` is doubled,
 * the body is made to end in CRLF, and `.` CRLF terminates it.
 * Works on bytes: CR, LF and `.` never occur inside a multi-byte UTF-8 sequence.
 */

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CRLF = Buffer.from('\r\n');
const TERMINATOR = Buffer.from('.\r\n');

/** The dot-stuffing state machine, fed chunk by chunk; the one place the rules live. */
export class DotStuffEncoder {
  private atLineStart = true;
  /** A CR ended the previous chunk: it is a line end whether or not an LF follows. */
  private pendingCr = false;

  push(chunk: Uint8Array): Buffer {
    // Each byte yields at most two, plus the CRLF for a CR held over from the previous chunk.
    const out = Buffer.allocUnsafe(chunk.length * 2 + 2);
    let n = 0;
    for (const byte of chunk) {
      if (this.pendingCr) {
        this.pendingCr = false;
        n = writeCrlf(out, n);
        this.atLineStart = true;
        if (byte === LF) continue;
      }
      if (byte === CR) {
        this.pendingCr = true;
      } else if (byte === LF) {
        n = writeCrlf(out, n);
        this.atLineStart = true;
      } else {
        if (this.atLineStart && byte === DOT) out[n++] = DOT;
        out[n++] = byte;
        this.atLineStart = false;
      }
    }
    return out.subarray(0, n);
  }

  /** Ends the last line if needed and appends the terminator. */
  finish(): Buffer {
    const parts: Buffer[] = [];
    if (this.pendingCr || !this.atLineStart) parts.push(CRLF);
    parts.push(TERMINATOR);
    this.pendingCr = false;
    this.atLineStart = true;
    return Buffer.concat(parts);
  }
}

function writeCrlf(out: Buffer, n: number): number {
  out[n] = CR;
  out[n + 1] = LF;
  return n + 2;
}

/** The complete DATA payload for a body: normalised, dot-stuffed, terminated. */
export function encodeMessage(body: string): Buffer {
  const encoder = new DotStuffEncoder();
  return Buffer.concat([encoder.push(Buffer.from(body, 'utf8')), encoder.finish()]);
}

/** Streaming variant for large bodies: pipe the body through it, the terminator comes at the end. */
export class DotStuffer extends Transform {
  private readonly encoder = new DotStuffEncoder();

  override _transform(chunk: Buffer | string, encoding: BufferEncoding, callback: TransformCallback): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk;
    const out = this.encoder.push(bytes);
    if (out.length > 0) this.push(out);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    callback(null, this.encoder.finish());
  }
}
