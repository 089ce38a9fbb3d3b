import { SmtpError, type Reply } from './types.js';

/**
 * Streaming, byte-exact parser for SMTP replies (RFC 5321 §4.2).
 *
 * - Lines end in CRLF. A line ending in a bare LF is accepted, and the reply carries a warning.
 * - A reply spans lines `250-…` until a line `250 …` or a bare `250`.
 * - A multiline reply that mixes codes is reported as a protocol error once it ends, so the stream stays aligned.
 * - A line that is not a reply line, or a size limit being exceeded, is fatal: the parser refuses further input.
 *   A line is refused as soon as its first bytes cannot start a reply, without waiting for its end.
 */

export interface ParserLimits {
  /** Longest accepted reply line, without its line ending. Default 8192 (RFC 5321 says 512; servers exceed it). */
  maxLineBytes?: number;
  /** Most lines accepted in one reply. Default 1000. */
  maxReplyLines?: number;
}

export type ParseEvent =
  /** raw: every received line in full, code included, for the transcript. */
  | { type: 'reply'; reply: Reply; raw: string[]; warnings?: string[] }
  /** error.partialLines holds the raw lines of the offending reply. */
  | { type: 'error'; error: SmtpError };

export const DEFAULT_MAX_LINE_BYTES = 8192;
export const DEFAULT_MAX_REPLY_LINES = 1000;
/** RFC 5321 §4.5.3.1.5: a reply line, code and CRLF included. */
const RFC_MAX_LINE_BYTES = 512;
const LF = 0x0a;
const CR = 0x0d;
const NOT_A_REPLY = 'server sent a line that is not an SMTP reply';
const isDigit = (byte: number): boolean => byte >= 0x30 && byte <= 0x39;
/** What each of the first four bytes of a reply line may be: a code 200–599, then `-`, space or the CR of CRLF. */
const PREFIX_BYTES: ((byte: number) => boolean)[] = [
  (byte) => byte >= 0x32 && byte <= 0x35,
  isDigit,
  isDigit,
  (byte) => byte === 0x2d || byte === 0x20 || byte === CR,
];

const REPLY_LINE = /^([2-5][0-9][0-9])(?:([- ])(.*))?$/s;
const ENHANCED_CODE = /^([245])\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})(?= |$)/;

interface PartialReply {
  code: number;
  /** The first differing code seen on a continuation line, if any. */
  otherCode?: number;
  lines: string[];
  raw: string[];
  warnings: string[];
}

export class ReplyParser {
  private readonly maxLineBytes: number;
  private readonly maxReplyLines: number;
  private readonly decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  /** Bytes of the line being received (no LF seen yet). */
  private lineChunks: Buffer[] = [];
  private lineBytes = 0;
  /** Whether the start of the line being received is known to be a possible reply line. */
  private prefixChecked = false;
  private current: PartialReply | undefined;
  private failure: SmtpError | undefined;

  constructor(limits: ParserLimits = {}) {
    this.maxLineBytes = limits.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.maxReplyLines = limits.maxReplyLines ?? DEFAULT_MAX_REPLY_LINES;
  }

  /** Raw lines of a multiline reply that has not ended yet. */
  get pendingLines(): string[] {
    return this.current ? [...this.current.raw] : [];
  }

  /** True while any received byte is not yet part of a complete reply. */
  get hasBufferedBytes(): boolean {
    return this.lineBytes > 0 || this.current !== undefined;
  }

  /** The start of the line being received, decoded (at most `maxChars` characters), for messages. */
  partialLine(maxChars = 80): string {
    const bytes = Buffer.concat(this.lineChunks);
    const text = this.decoder.decode(bytes.subarray(0, maxChars * 4));
    return text.length > maxChars || bytes.length > maxChars * 4 ? `${text.slice(0, maxChars)}…` : text;
  }

  /** The fatal error after which the parser refuses input, if one happened. */
  get failed(): SmtpError | undefined {
    return this.failure;
  }

  /** Discards everything buffered (e.g. when the transport changes) and clears a failure. */
  reset(): void {
    this.clearLine();
    this.current = undefined;
    this.failure = undefined;
  }

  push(chunk: Buffer): ParseEvent[] {
    const events: ParseEvent[] = [];
    let start = 0;
    while (!this.failure && start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      if (lf === -1) {
        this.buffer(chunk.subarray(start), events);
        break;
      }
      const lineEnd = this.takeLine(chunk.subarray(start, lf));
      start = lf + 1;
      this.line(lineEnd, events);
    }
    return events;
  }

  private buffer(part: Buffer, events: ParseEvent[]): void {
    this.lineChunks.push(part);
    this.lineBytes += part.length;
    if (!this.prefixChecked && !this.checkPrefix(events)) return;
    // A trailing CR may be the first half of the line ending, so it does not count yet.
    const last = part[part.length - 1];
    const contentBytes = last === CR ? this.lineBytes - 1 : this.lineBytes;
    if (contentBytes > this.maxLineBytes) {
      this.fail(new SmtpError('limit', `reply line longer than ${this.maxLineBytes} bytes`, this.pendingLines), events);
    }
  }

  /** Refuses a line whose first bytes cannot start `NNN`, `NNN-…`, `NNN …`: garbage fails at once, not at the deadline. */
  private checkPrefix(events: ParseEvent[]): boolean {
    const head = this.lineChunks.length === 1 ? this.lineChunks[0]! : Buffer.concat(this.lineChunks);
    const valid = PREFIX_BYTES.every((allowed, i) => i >= head.length || allowed(head[i]!));
    if (!valid) {
      const shown = this.partialLine();
      this.fail(new SmtpError('protocol', `${NOT_A_REPLY}: ${JSON.stringify(shown)}`, [...this.pendingLines, shown]), events);
      return false;
    }
    this.prefixChecked = head.length >= PREFIX_BYTES.length;
    return true;
  }

  /** Joins the buffered start of a line with its rest; returns the bytes and how the line ended. */
  private takeLine(rest: Buffer): { bytes: Buffer; bareLf: boolean } {
    const all = this.lineChunks.length === 0 ? rest : Buffer.concat([...this.lineChunks, rest]);
    this.clearLine();
    const crlf = all.length > 0 && all[all.length - 1] === CR;
    return { bytes: crlf ? all.subarray(0, all.length - 1) : all, bareLf: !crlf };
  }

  private line({ bytes, bareLf }: { bytes: Buffer; bareLf: boolean }, events: ParseEvent[]): void {
    if (bytes.length > this.maxLineBytes) {
      this.fail(new SmtpError('limit', `reply line longer than ${this.maxLineBytes} bytes`, this.pendingLines), events);
      return;
    }
    const text = this.decoder.decode(bytes);
    const match = REPLY_LINE.exec(text);
    if (!match) {
      const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
      const message = `${NOT_A_REPLY}: ${JSON.stringify(shown)}`;
      this.fail(new SmtpError('protocol', message, [...this.pendingLines, text]), events);
      return;
    }
    const reply = this.current ?? { code: Number(match[1]), lines: [], raw: [], warnings: [] };
    this.current = reply;
    const code = Number(match[1]);
    if (code !== reply.code && reply.otherCode === undefined) reply.otherCode = code;
    reply.lines.push(match[3] ?? '');
    reply.raw.push(text);
    if (bareLf) addWarning(reply, 'reply line ended with a bare LF');
    if (bytes.length + 2 > RFC_MAX_LINE_BYTES) addWarning(reply, `reply line longer than ${RFC_MAX_LINE_BYTES} bytes (RFC 5321 §4.5.3.1.5)`);
    if (match[2] === '-') {
      if (reply.lines.length >= this.maxReplyLines) {
        this.fail(new SmtpError('limit', `reply has more than ${this.maxReplyLines} lines`, reply.raw), events);
      }
      return;
    }
    this.current = undefined;
    events.push(finish(reply));
  }

  private fail(error: SmtpError, events: ParseEvent[]): void {
    this.failure = error;
    this.clearLine();
    this.current = undefined;
    events.push({ type: 'error', error });
  }

  private clearLine(): void {
    this.lineChunks = [];
    this.lineBytes = 0;
    this.prefixChecked = false;
  }
}

function addWarning(reply: PartialReply, warning: string): void {
  if (!reply.warnings.includes(warning)) reply.warnings.push(warning);
}

function finish(partial: PartialReply): ParseEvent {
  if (partial.otherCode !== undefined) {
    const message = `multiline reply mixes codes ${partial.code} and ${partial.otherCode}`;
    return { type: 'error', error: new SmtpError('protocol', message, partial.raw) };
  }
  const reply: Reply = { code: partial.code, lines: partial.lines };
  const enhanced = enhancedCode(partial.code, partial.lines[0] ?? '');
  if (enhanced !== undefined) reply.enhanced = enhanced;
  const event: ParseEvent = { type: 'reply', reply, raw: partial.raw };
  if (partial.warnings.length > 0) event.warnings = partial.warnings;
  return event;
}

/** The RFC 3463 code at the start of the text, when its class agrees with the reply code. */
export function enhancedCode(code: number, text: string): string | undefined {
  const match = ENHANCED_CODE.exec(text);
  if (!match || match[1] !== String(code).charAt(0)) return undefined;
  return match[0];
}
