import type { DeliveryResult, FailureKind, ReplyData, TranscriptEntry } from '../engine/results.js';
import { formatTarget } from '../engine/target-label.js';

/** `12 ms` below one second, `1.23 s` from there on. */
export function formatDuration(durationMs: number): string {
  if (durationMs < 1000) return `${Math.round(durationMs)} ms`;
  return `${(durationMs / 1000).toFixed(2)} s`;
}

/** Milliseconds as seconds with at most three decimals, for JUnit `time` attributes. */
export function toSeconds(durationMs: number): number {
  return Number((Math.max(0, durationMs) / 1000).toFixed(3));
}

export { formatTarget };

/** The reply as it looked on the wire: `250-first`, …, `250 last` (a bare `250` when the text is empty). */
export function replyLines(reply: ReplyData): string[] {
  const lines = reply.lines.length > 0 ? reply.lines : [''];
  return lines.map((text, i) => {
    const separator = i < lines.length - 1 ? '-' : ' ';
    return text === '' && separator === ' ' ? String(reply.code) : `${reply.code}${separator}${text}`;
  });
}

/** `[+0.012s] C: EHLO test.com`, or without the time: `C: EHLO test.com`; notes read `* closed`. */
export function transcriptLine(entry: TranscriptEntry, withTime = true): string {
  const line = entry.dir === '*' ? `* ${entry.text}` : `${entry.dir}: ${entry.text}`;
  return withTime ? `[+${(entry.atMs / 1000).toFixed(3)}s] ${line}` : line;
}

const KIND_WORDS: Record<FailureKind, string> = {
  expectation: 'expectation failed',
  interrupted: 'interrupted',
  internal: 'internal error in smtpspec',
  message: 'message could not be sent as written',
  mailbox: 'mailbox could not be read',
  check: 'check could not decide',
  dns: 'DNS lookup failed',
  refused: 'connection refused',
  'connect-timeout': 'connect timed out',
  timeout: 'reply timed out',
  closed: 'connection closed',
  reset: 'connection reset',
  protocol: 'protocol violation',
  limit: 'reply too large',
  tls: 'TLS failure',
  network: 'network error',
};

/** A few words for a failure cause: `connection refused`, `reply timed out`. */
export function describeKind(kind: FailureKind): string {
  return KIND_WORDS[kind];
}

const NAMED_ESCAPES: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

// C0 and C1 controls, DEL, noncharacters, lone surrogates, and the bidirectional controls that can disguise text.
const UNPRINTABLE =
  /[\x00-\x1F\x7F-\x9F\u200E\u200F\u202A-\u202E\u2066-\u2069\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text safe to show on a terminal: server replies are untrusted and could carry escape
 * sequences that recolour, move the cursor or hide lines. Controls become visible escapes.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (ch) => {
    const named = NAMED_ESCAPES[ch];
    if (named !== undefined) return named;
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${hex(code, 2)}` : `\\u{${hex(code, 4)}}`;
  });
}

function hex(code: number, width: number): string {
  return code.toString(16).toUpperCase().padStart(width, '0');
}

/**
 * What a mailbox step found, or did not, in a few lines for every report:
 * `found in INBOX after 1.21 s (arrived 0.84 s after it was accepted): "Subject", 2,311 bytes`, the headers checked,
 * a DSN's report, and whether it was deleted; or where it looked, how often, and what was there instead.
 */
export function deliveryLines(delivery: DeliveryResult): string[] {
  const found = delivery.found;
  if (!found) {
    const newest = delivery.newest && delivery.newest.length > 0 ? `; newest there: ${delivery.newest.map((subject) => `"${subject}"`).join(', ')}` : '';
    return [`${delivery.mailbox}: not found in ${delivery.folders.join(', ')} after ${formatDuration(delivery.waitedMs)} (looked ${delivery.looks} times)${newest}`];
  }
  const arrived = found.arrivedAfterMs !== undefined ? ` (arrived ${formatDuration(found.arrivedAfterMs)} after it was accepted)` : '';
  const subject = found.subject !== undefined ? `"${found.subject}", ` : '';
  return [
    `${delivery.mailbox}: found in ${found.folder} after ${formatDuration(delivery.waitedMs)}${arrived}: ${subject}${found.sizeBytes} bytes`,
    ...(found.headers ?? []).map((header) => `${header.name}: ${header.value}`),
    ...(found.dsn ? [`DSN: ${[found.dsn.recipient, found.dsn.action, found.dsn.status, found.dsn.diagnostic].filter((part) => part !== undefined).join(' ')}`] : []),
    ...(delivery.deleted ? ['deleted from the mailbox'] : []),
  ];
}
