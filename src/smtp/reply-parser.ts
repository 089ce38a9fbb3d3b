import type { SharedRecords } from './shared-records.js';
import { SmtpError, type Reply, type ReplyEvent } from './types.js';

export type { ReplyEvent } from './types.js';

/**
 * Streaming, byte-exact parser for SMTP replies (RFC 5321 §4.2).
 *
 * - Lines end in CRLF. A line ending in a bare LF is accepted, and the reply carries a warning.
 * - A reply spans lines `250-…` until a line `250 …` or a bare `250`.
 * - A multiline reply that mixes codes is reported as a protocol error once it ends, so the stream stays aligned.
 * - A line that is not a reply line, or a size limit being exceeded, is fatal: the parser refuses further input.
 *   A line is refused as soon as its first bytes cannot start a reply, without waiting for its end.
 * - Only when told (`linesBeforeFirstReply`): lines before the first reply line are handed out as `before-reply`
 *   events rather than refused, up to that many (a program's banner before its greeting).
 */

export interface ParserLimits {
  /** Longest accepted reply line, without its line ending. Default 8192 (RFC 5321 says 512; servers exceed it). */
  maxLineBytes?: number;
  /** Most lines accepted in one reply. Default 1000. */
  maxReplyLines?: number;
}


export type ParseEvent =
  | ReplyEvent
  /** A line before the first reply line, without its line ending; only with `linesBeforeFirstReply`. */
  | { type: 'before-reply'; line: string }
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

const ZERO = 0x30;
const DASH = 0x2d;
const SPACE = 0x20;
const DOT = 0x2e;
const NO_LINES: readonly string[] = [];

interface PartialReply {
  code: number;
  /** The first differing code seen on a continuation line, if any. */
  otherCode?: number;
  lines: string[];
  raw: string[];
  /** Made with the first warning: most replies have none. */
  warnings?: string[];
}

/** `text` cut to `maxChars`, with `…` when it was longer. */
function cutText(text: string, maxChars: number): string {
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}

export class ReplyParser {
  private readonly maxLineBytes: number;
  private readonly maxReplyLines: number;
  /** Bytes of the line being received (no LF seen yet). */
  private lineChunks: Buffer[] = [];
  private lineBytes = 0;
  /** Whether the start of the line being received is known to be a possible reply line. */
  private prefixChecked = false;
  private current: PartialReply | undefined;
  private failure: SmtpError | undefined;
  /** Lines before the first reply line so far; -1 once a reply line has come, or when none are accepted. */
  private linesBeforeReply: number;

  /**
   * `shared`: the run's replies, handed out again when the same one arrives.
   * `linesBeforeFirstReply`: how many lines that are not reply lines may come before the first one; default 0.
   * `shorten`: how a server line is cut for a message; the connection's masks it first (the transcript's secrets).
   */
  constructor(
    limits: ParserLimits = {},
    private readonly shared?: SharedRecords,
    private readonly linesBeforeFirstReply = 0,
    private readonly shorten: (text: string, maxChars: number) => string = cutText,
  ) {
    this.maxLineBytes = limits.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.maxReplyLines = limits.maxReplyLines ?? DEFAULT_MAX_REPLY_LINES;
    this.linesBeforeReply = linesBeforeFirstReply > 0 ? 0 : -1;
  }

  /** Raw lines of a multiline reply that has not ended yet. */
  get pendingLines(): string[] {
    return this.current ? [...this.current.raw] : [];
  }

  /** The same lines without a copy, to be read at once. */
  get pendingRawLines(): readonly string[] {
    return this.current ? this.current.raw : NO_LINES;
  }

  /** True while any received byte is not yet part of a complete reply. */
  get hasBufferedBytes(): boolean {
    return this.lineBytes > 0 || this.current !== undefined;
  }

  /** The start of the line being received, decoded (at most `maxChars` characters), for messages. */
  partialLine(maxChars = 80): string {
    // Whole (it is at most maxLineBytes), so that a secret that straddles the cut is found and masked whole.
    return this.shorten(Buffer.concat(this.lineChunks).toString('utf8'), maxChars);
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
      if (this.lineChunks.length === 0) {
        // A line without CR before its LF ends in a bare LF.
        const crlf = lf > start && chunk[lf - 1] === CR;
        this.line(chunk, start, crlf ? lf - 1 : lf, !crlf, events);
      } else {
        const line = this.joinLine(chunk.subarray(start, lf));
        const crlf = line.length > 0 && line[line.length - 1] === CR;
        this.line(line, 0, crlf ? line.length - 1 : line.length, !crlf, events);
      }
      start = lf + 1;
    }
    return events;
  }

  private buffer(part: Buffer, events: ParseEvent[]): void {
    this.lineChunks.push(part);
    this.lineBytes += part.length;
    // Before the first reply a line may be anything, so its start tells nothing yet.
    if (!this.prefixChecked && this.linesBeforeReply === -1 && !this.checkPrefix(events)) return;
    // A trailing CR may be the first half of the line ending, so it does not count yet.
    const last = part[part.length - 1];
    const contentBytes = last === CR ? this.lineBytes - 1 : this.lineBytes;
    if (contentBytes > this.maxLineBytes) {
      this.fail(new SmtpError('limit', 'reply', `reply line longer than ${this.maxLineBytes} bytes`, this.pendingLines), events);
    }
  }

  /** Refuses a line whose first bytes cannot start `NNN`, `NNN-…`, `NNN …`: garbage fails at once, not at the deadline. */
  private checkPrefix(events: ParseEvent[]): boolean {
    const head = this.lineChunks.length === 1 ? this.lineChunks[0]! : Buffer.concat(this.lineChunks);
    const valid = PREFIX_BYTES.every((allowed, i) => i >= head.length || allowed(head[i]!));
    if (!valid) {
      const shown = this.partialLine();
      this.fail(new SmtpError('protocol', 'reply', `${NOT_A_REPLY}: ${JSON.stringify(shown)}`, [...this.pendingLines, shown]), events);
      return false;
    }
    this.prefixChecked = head.length >= PREFIX_BYTES.length;
    return true;
  }

  /** Joins the buffered start of a line with its rest. */
  private joinLine(rest: Buffer): Buffer {
    const all = Buffer.concat([...this.lineChunks, rest]);
    this.clearLine();
    return all;
  }

  /** The line in `source` from `start` to `end`, its line ending left out; decoded in place, without a view of its own. */
  private line(source: Buffer, start: number, end: number, bareLf: boolean, events: ParseEvent[]): void {
    const bytes = end - start;
    if (bytes > this.maxLineBytes) {
      this.fail(new SmtpError('limit', 'reply', `reply line longer than ${this.maxLineBytes} bytes`, this.pendingLines), events);
      return;
    }
    const text = source.toString('utf8', start, end);
    const code = replyLineCode(text);
    if (code === undefined && this.linesBeforeReply !== -1) {
      this.beforeReply(text, events);
      return;
    }
    this.linesBeforeReply = -1;
    if (code === undefined) {
      const shown = this.shorten(text, 80);
      const message = `${NOT_A_REPLY}: ${JSON.stringify(shown)}`;
      this.fail(new SmtpError('protocol', 'reply', message, [...this.pendingLines, text]), events);
      return;
    }
    let reply = this.current;
    // A one-line reply seen before, with nothing to warn about, is the same reply again: nothing to build.
    if (this.shared && !reply && !bareLf && bytes + 2 <= RFC_MAX_LINE_BYTES && (text.length === 3 || text.charCodeAt(3) !== DASH)) {
      const seen = this.shared.reply(text);
      if (seen) {
        events.push(seen);
        return;
      }
    }
    const content = text.length > 4 ? text.slice(4) : '';
    if (reply) {
      if (code !== reply.code && reply.otherCode === undefined) reply.otherCode = code;
      reply.lines.push(content);
      reply.raw.push(text);
    } else {
      reply = this.current = { code, lines: [content], raw: [text] };
    }
    if (bareLf) addWarning(reply, 'reply line ended with a bare LF');
    if (bytes + 2 > RFC_MAX_LINE_BYTES) addWarning(reply, `reply line longer than ${RFC_MAX_LINE_BYTES} bytes (RFC 5321 §4.5.3.1.5)`);
    if (text.length > 3 && text.charCodeAt(3) === DASH) {
      if (reply.lines.length >= this.maxReplyLines) {
        this.fail(new SmtpError('limit', 'reply', `reply has more than ${this.maxReplyLines} lines`, reply.raw), events);
      }
      return;
    }
    this.current = undefined;
    events.push(finish(reply, this.shared));
  }

  /** A line before the first reply line, while more are accepted; one too many is a limit error, so a program that never greets cannot fill memory. */
  private beforeReply(text: string, events: ParseEvent[]): void {
    this.linesBeforeReply += 1;
    if (this.linesBeforeReply <= this.linesBeforeFirstReply) {
      events.push({ type: 'before-reply', line: text });
      return;
    }
    const message = `more than ${this.linesBeforeFirstReply} lines before the first reply`;
    this.fail(new SmtpError('limit', 'reply', message, [text]), events);
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
  reply.warnings ??= [];
  if (!reply.warnings.includes(warning)) reply.warnings.push(warning);
}

/**
 * The code of a reply line (`NNN`, `NNN-text`, `NNN text`, NNN from 200 to 599), or undefined
 * when the line is not one. Checked by hand: this runs for every line received.
 */
function replyLineCode(text: string): number | undefined {
  if (text.length < 3) return undefined;
  const hundreds = text.charCodeAt(0) - ZERO;
  const tens = text.charCodeAt(1) - ZERO;
  const units = text.charCodeAt(2) - ZERO;
  if (hundreds < 2 || hundreds > 5 || tens < 0 || tens > 9 || units < 0 || units > 9) return undefined;
  if (text.length > 3 && text.charCodeAt(3) !== DASH && text.charCodeAt(3) !== SPACE) return undefined;
  return hundreds * 100 + tens * 10 + units;
}

function finish(partial: PartialReply, shared: SharedRecords | undefined): ParseEvent {
  if (partial.otherCode !== undefined) {
    const message = `multiline reply mixes codes ${partial.code} and ${partial.otherCode}`;
    return { type: 'error', error: new SmtpError('protocol', 'reply', message, partial.raw) };
  }
  if (!shared || partial.warnings) return replyEvent(partial);
  const key = partial.raw.length === 1 ? partial.raw[0]! : partial.raw.join('\n');
  // A one-line reply was looked up already, as its line arrived.
  const seen = partial.raw.length === 1 ? undefined : shared.reply(key);
  if (seen) return seen;
  const event = replyEvent(partial);
  shared.keepReply(key, event);
  return event;
}

function replyEvent(partial: PartialReply): ReplyEvent {
  const { code, lines } = partial;
  const enhanced = enhancedCode(code, lines[0] ?? '');
  const reply: Reply = enhanced === undefined ? { code, lines } : { code, lines, enhanced };
  const event: ReplyEvent = { type: 'reply', reply, raw: partial.raw };
  if (partial.warnings) event.warnings = partial.warnings;
  return event;
}

/**
 * The RFC 3463 code at the start of the text (class.subject.detail, then a space or the end),
 * when its class agrees with the reply code. Read by hand: this runs for every reply.
 */
export function enhancedCode(code: number, text: string): string | undefined {
  const klass = text.charCodeAt(0);
  if (text.charCodeAt(1) !== DOT || klass !== ZERO + Math.floor(code / 100) || (klass !== 0x32 && klass !== 0x34 && klass !== 0x35)) return undefined;
  const subjectEnd = numberEnd(text, 2);
  if (subjectEnd === -1 || text.charCodeAt(subjectEnd) !== DOT) return undefined;
  const detailEnd = numberEnd(text, subjectEnd + 1);
  if (detailEnd === -1 || (detailEnd < text.length && text.charCodeAt(detailEnd) !== SPACE)) return undefined;
  return text.slice(0, detailEnd);
}

/** Where a status code part (`0`, or 1 to 3 digits without a leading zero) starting at `from` ends, or -1. */
function numberEnd(text: string, from: number): number {
  const first = text.charCodeAt(from);
  if (first === ZERO) return from + 1;
  if (!isDigit(first)) return -1;
  let end = from + 1;
  while (end < from + 3 && isDigit(text.charCodeAt(end))) end++;
  return end;
}
