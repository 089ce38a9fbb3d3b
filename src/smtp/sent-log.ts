import type { Transcript } from './transcript.js';
import { plural } from '../words.js';

/** Message and raw lines shown in the transcript before the rest is summarised. */
const TRANSCRIPT_BODY_LINES = 50;
/** Longest message or raw line kept in the transcript, in bytes. */
const TRANSCRIPT_LINE_BYTES = 1000;
const CR = 0x0d;
const LF = 0x0a;

/**
 * The lines of a dot-stuffed message for the transcript, fed as it is sent:
 * the first lines in full, then only a count, then the terminating `.`.
 * A CRLF split between two pushes is still one line end. Pushed bytes are not kept: the caller may reuse them.
 */
export class DataLog {
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** The line so far ends in CR: with an LF at the start of the next push, that CR is part of the line end. */
  private endsWithCr = false;
  private count = 0;

  constructor(private readonly transcript: Transcript) {}

  push(bytes: Buffer): void {
    let start = 0;
    let lf = bytes.indexOf(LF);
    for (; lf !== -1 && this.count < TRANSCRIPT_BODY_LINES; lf = bytes.indexOf(LF, start)) {
      const end = lf > start && bytes[lf - 1] === CR ? lf - 1 : lf;
      if (this.partialBytes === 0 && end - start <= TRANSCRIPT_LINE_BYTES) {
        // The whole line is in this push and short enough to show whole: no pieces to hold.
        this.transcript.client(bytes.toString('utf8', start, end));
        this.count += 1;
        start = lf + 1;
        continue;
      }
      if (lf > start) this.keep(bytes.subarray(start, end));
      else if (this.endsWithCr) this.partialBytes -= 1;
      this.line();
      start = lf + 1;
    }
    // Past the lines shown, only the number of lines is needed: no byte is looked at but the LFs.
    if (lf !== -1) {
      for (; lf !== -1; lf = bytes.indexOf(LF, lf + 1)) {
        this.count += 1;
        start = lf + 1;
      }
      this.partialBytes = 0;
    }
    this.keep(bytes.subarray(start));
  }

  /** Logs what is left; `terminated` adds the final `.` line. */
  finish(terminated = true): void {
    if (this.partialBytes > 0) this.line();
    if (this.count > TRANSCRIPT_BODY_LINES) this.transcript.client(`… ${plural(this.count - TRANSCRIPT_BODY_LINES, 'more line')}`);
    if (terminated) this.transcript.client('.');
  }

  /**
   * Holds the start of a line while it may still be shown: TRANSCRIPT_LINE_BYTES of it, and as many bytes
   * more as a secret that starts before the cut may need to be found whole (and masked whole).
   */
  private keep(piece: Buffer): void {
    if (piece.length === 0) return;
    const room = keptBytes(this.transcript) - this.partialBytes;
    // A copy: the pushed bytes may be reused for the next chunk of the message.
    if (this.count < TRANSCRIPT_BODY_LINES && room > 0) this.partial.push(Buffer.from(piece.subarray(0, room)));
    this.partialBytes += piece.length;
    this.endsWithCr = piece[piece.length - 1] === CR;
  }

  private line(): void {
    if (this.count < TRANSCRIPT_BODY_LINES) {
      const kept = Buffer.concat(this.partial).subarray(0, Math.min(this.partialBytes, keptBytes(this.transcript)));
      if (this.partialBytes <= TRANSCRIPT_LINE_BYTES) this.transcript.client(kept.toString('utf8'));
      else {
        const cut = kept.toString('utf8', 0, charBoundary(kept, TRANSCRIPT_LINE_BYTES)).length;
        this.transcript.clientCut(kept.toString('utf8'), cut, this.partialBytes > kept.length);
      }
    }
    this.count += 1;
    this.partial = [];
    this.partialBytes = 0;
    this.endsWithCr = false;
  }
}

/** Raw bytes as transcript lines, one per LF, with `\r`, `\n`, `\t`, `\\` and `\xNN` escapes. */
export function logRaw(transcript: Transcript, bytes: Uint8Array): void {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let start = 0;
  let count = 0;
  while (start < buffer.length) {
    const lf = buffer.indexOf(0x0a, start);
    const end = lf === -1 ? buffer.length : lf + 1;
    if (count < TRANSCRIPT_BODY_LINES) {
      if (end - start <= TRANSCRIPT_LINE_BYTES) transcript.client(escapeBytes(buffer.subarray(start, end)));
      else {
        // Masked before it is cut: the bytes past the cut that a straddling secret needs are escaped too.
        const piece = buffer.subarray(start, Math.min(end, start + keptBytes(transcript)));
        const cut = escapeBytes(piece.subarray(0, charBoundary(piece, TRANSCRIPT_LINE_BYTES))).length;
        transcript.clientCut(escapeBytes(piece), cut, end - start > piece.length);
      }
    }
    count += 1;
    start = end;
  }
  if (count > TRANSCRIPT_BODY_LINES) transcript.client(`… ${plural(count - TRANSCRIPT_BODY_LINES, 'more line')}`);
}

/** Bytes of a long line held for the transcript: the part shown, and what a secret straddling the cut needs. */
function keptBytes(transcript: Transcript): number {
  return TRANSCRIPT_LINE_BYTES + transcript.secrets.overlapBytes;
}

/** `limit`, or less so as not to split a UTF-8 character. */
function charBoundary(bytes: Uint8Array, limit: number): number {
  let at = Math.min(limit, bytes.length);
  while (at > 0 && at < bytes.length && (bytes[at]! & 0xc0) === 0x80) at -= 1;
  return at;
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
