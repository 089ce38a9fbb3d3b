import { Transform, type TransformCallback } from 'node:stream';

/**
 * Message transparency for DATA (RFC 5321 §4.5.2, §4.1.1.4):
 * every line ending (CRLF, bare LF, bare CR) becomes CRLF, a leading `.` is doubled,
 * the body is made to end in CRLF, and `.` CRLF terminates it.
 * Works on bytes: CR, LF and `.` never occur inside a multi-byte UTF-8 sequence.
 *
 * The hot path searches whole buffers with Buffer.indexOf and copies only the runs between
 * the places that change; a chunk that needs no change comes back as a view of the same memory.
 */

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CRLF = Buffer.from('\r\n');
const ONE_DOT = Buffer.from('.');
const TERMINATOR = Buffer.from('.\r\n');
const EMPTY = Buffer.alloc(0);

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Output buffers grow in steps of this size. */
const OUTPUT_STEP_BYTES = 64 * 1024;
/**
 * The line rules, the one place they live, fed chunk by chunk: CRLF, a bare LF and a bare CR each become one CRLF,
 * including a CR that ends one chunk and an LF that starts the next; with `stuffDots`,
 * a `.` that starts a line is doubled in the same pass. The result may share memory with the chunk; with
 * `reuseOutput`, also with the encoder's own output buffer, which the next push reuses (a long message then
 * allocates no buffer per chunk), so it is valid only until the next push.
 */
class LineEncoder {
  private output: Buffer = EMPTY;
  /** A CR ended the previous chunk: it is a line end whether or not an LF follows. */
  private pendingCr = false;
  private atLineStart = true;

  constructor(
    private readonly stuffDots: boolean,
    private readonly reuseOutput: boolean,
  ) {}

  push(chunk: Uint8Array): Buffer {
    const bytes = asBuffer(chunk);
    if (bytes.length === 0) return EMPTY;
    const parts: Buffer[] = [];
    let from = 0;
    if (this.pendingCr) {
      parts.push(CRLF);
      if (bytes[0] === LF) from = 1;
    }
    if (this.stuffDots && this.atLineStart && bytes[from] === DOT) parts.push(ONE_DOT);
    const last = bytes[bytes.length - 1];
    // A CR that ends the chunk is held back: whether an LF follows is known only with the next chunk.
    this.pendingCr = last === CR;
    this.atLineStart = last === CR || last === LF;
    this.encodeRange(bytes, from, this.pendingCr ? bytes.length - 1 : bytes.length, parts);
    return this.joined(parts);
  }

  /** One buffer from parts: a single view of the chunk as it is, else the parts copied into one buffer. */
  private joined(parts: Buffer[]): Buffer {
    const only = parts.length === 1 ? parts[0] : undefined;
    if (only && only !== CRLF) return only;
    if (!this.reuseOutput) return Buffer.concat(parts);
    let total = 0;
    for (const part of parts) total += part.length;
    if (this.output.length < total) this.output = Buffer.allocUnsafeSlow(Math.ceil(total / OUTPUT_STEP_BYTES) * OUTPUT_STEP_BYTES);
    let at = 0;
    for (const part of parts) at += part.copy(this.output, at);
    return this.output.subarray(0, total);
  }

  /** Whatever ends the last line: a held CR, or a CRLF when the last line is unterminated. */
  finish(): Buffer {
    const needsEnd = this.pendingCr || !this.atLineStart;
    this.pendingCr = false;
    this.atLineStart = true;
    return needsEnd ? Buffer.from(CRLF) : EMPTY;
  }

  /**
   * Appends bytes[from, end) to `parts` with every bare CR and bare LF replaced by CRLF (and
   * leading dots doubled). Runs that are already right, CRLF pairs included, are appended as views.
   */
  private encodeRange(bytes: Buffer, from: number, end: number, parts: Buffer[]): void {
    let run = from;
    let cr = bytes.indexOf(CR, from);
    let lf = bytes.indexOf(LF, from);
    if (cr >= end) cr = -1;
    while (cr !== -1 || lf !== -1) {
      let next: number;
      if (cr === -1 || (lf !== -1 && lf < cr)) {
        // An LF with no CR before it (the LF of a CRLF is passed over with its CR).
        if (lf > run) parts.push(bytes.subarray(run, lf));
        parts.push(CRLF);
        run = next = lf + 1;
        lf = bytes.indexOf(LF, next);
      } else {
        if (bytes[cr + 1] === LF) {
          next = cr + 2;
          lf = bytes.indexOf(LF, next);
        } else {
          if (cr > run) parts.push(bytes.subarray(run, cr));
          parts.push(CRLF);
          run = next = cr + 1;
        }
        cr = bytes.indexOf(CR, next);
        if (cr >= end) cr = -1;
      }
      if (this.stuffDots && bytes[next] === DOT) {
        if (next > run) parts.push(bytes.subarray(run, next));
        parts.push(ONE_DOT);
        run = next;
      }
    }
    if (end > run) parts.push(bytes.subarray(run, end));
  }
}

/** How a streaming encoder hands out its output. */
export interface EncoderOptions {
  /** Each push's result may reuse the memory of the one before: valid only until the next push. */
  reuseOutput?: boolean;
}

/** Line endings to CRLF, fed chunk by chunk (see LineEncoder); no dot-stuffing. */
export class CrlfNormalizer extends LineEncoder {
  constructor(options: EncoderOptions = {}) {
    super(false, options.reuseOutput === true);
  }
}

/** Message transparency fed chunk by chunk: the rules of LineEncoder with dot-stuffing, then the terminator. */
export class DotStuffEncoder {
  private readonly lines: LineEncoder;

  constructor(options: EncoderOptions = {}) {
    this.lines = new LineEncoder(true, options.reuseOutput === true);
  }

  /** The encoded bytes for this chunk; they may share memory with the chunk (see EncoderOptions). */
  push(chunk: Uint8Array): Buffer {
    return this.lines.push(chunk);
  }

  /** Ends the last line if needed and appends the terminator. */
  finish(): Buffer {
    return Buffer.concat([this.lines.finish(), TERMINATOR]);
  }
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
