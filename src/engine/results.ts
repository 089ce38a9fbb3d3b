import type { SourcePos } from '../errors.js';
import type { Target } from '../scenario/types.js';
import type { Reply, SmtpErrorKind, TlsFacts, TranscriptEntry } from '../smtp/types.js';
import type { DaneResult } from '../dns/checks/dane.js';
import type { DnsblResult } from '../dns/checks/dnsbl.js';
import type { FcrdnsResult } from '../dns/checks/fcrdns.js';
import type { MtaStsResult } from '../dns/checks/mta-sts.js';
import type { TlsRptResult } from '../dns/checks/tls-rpt.js';

export type { Target, TlsFacts, TranscriptEntry };

/**
 * Run results: plain, JSON-serialisable data produced by the engine and read by reporters.
 * A failed expectation is data here, never an exception.
 */

/** passed; failed: an expectation did not hold (or the server broke the protocol);
 *  error: a transport problem (refused, timeout, reset, DNS), or a fault in smtpspec itself; skipped: not run. */
export type Status = 'passed' | 'failed' | 'error' | 'skipped';

/**
 * Why a case did not pass: a reply that did not match, the run being stopped, a network, protocol or TLS cause,
 * `message`: the message could not be composed or read while it was sent (a file gone, a header a captured value broke),
 * `mailbox`: a mailbox step could not open or read its mailbox (refused, timed out, login refused, a bad certificate),
 * `check`: a DNS check step could not decide (the resolver failed or timed out, the MTA-STS policy host could not be reached),
 * or `internal`: a fault in smtpspec itself (a bug). Neither is retried.
 */
export type FailureKind = 'expectation' | 'interrupted' | 'internal' | 'message' | 'mailbox' | 'check' | SmtpErrorKind;

/** A reply as received. */
export type ReplyData = Reply;

export interface StepResult {
  index: number;
  pos: SourcePos;
  /** Human label: the step's name, or `send: EHLO x`, `data (3 lines)`, `greeting`. */
  label: string;
  status: Status;
  /** The command line sent (secrets masked), when the step sent one. */
  sent?: string;
  /** The expectation in words, e.g. `250 or 251`, `5xx 5.1.1 with text /relay/`. */
  expected?: string;
  reply?: ReplyData;
  /** Every reply when the step read several (pipeline, LMTP after the final dot, BDAT chunks), in order. */
  replies?: ReplyData[];
  /** Why the step failed or errored, or why it was skipped. */
  message?: string;
  durationMs: number;
  /** From the end of sending to the (last) reply, when the step read one. */
  latencyMs?: number;
  /** Variables captured from the reply. */
  captures?: Record<string, string>;
  /** The TLS session the step established (starttls) or asserted on. */
  tls?: TlsFacts;
  /** What a mailbox step looked for, and what it found. */
  delivery?: DeliveryResult;
  /** A DNS check step's verdict, its reasons and the facts it found. */
  check?: CheckOutcome;
}

/**
 * A DNS check step's result, told apart by `check`: `fcrdns`, `dane`, `mta-sts`, `tls-rpt`, `dnsbl`.
 * The verdict `warn` passes the step (its reasons are shown); `fail` fails it; `error` (could not decide) errs.
 */
export type CheckOutcome = FcrdnsResult | DaneResult | MtaStsResult | TlsRptResult | DnsblResult;

/** What a mailbox step looked for, where, for how long, and what it found. */
export interface DeliveryResult {
  /** The mailbox's name in the file and where it is: `alice (imaps://alice@mail.example.test:993)`. */
  mailbox: string;
  /** What the step looked for, in words: `the message sent last (Message-ID <…>)`. */
  lookedFor: string;
  /** The folders it looked in. */
  folders: string[];
  /** From the step's start to the look that found the message, or to the deadline. */
  waitedMs: number;
  /** How many times it looked. */
  looks: number;
  found?: DeliveredMessage;
  /** When nothing was found: the subjects of the newest messages that were there instead, newest first. */
  newest?: string[];
  /** The step deleted what it found. */
  deleted?: boolean;
}

/** The message (or DSN) a mailbox step found. */
export interface DeliveredMessage {
  folder: string;
  messageId?: string;
  subject?: string;
  from?: string;
  sizeBytes: number;
  /** From the server's acceptance of the message sent last (its 250) to the look that found this one. */
  arrivedAfterMs?: number;
  /** The headers the step checked, with the values found. */
  headers?: { name: string; value: string }[];
  /** A DSN's per-recipient report (RFC 3464 §2.3). */
  dsn?: { recipient?: string; action?: string; status?: string; diagnostic?: string };
}

/** Identifies a case before it has run. */
export interface CaseInfo {
  /** Unique within the run: `file#caseIndex@target`. */
  id: string;
  file: string;
  scenarioName: string;
  caseName: string;
  caseIndex: number;
  pos: SourcePos;
  target: Target;
}

export interface CaseResult extends CaseInfo {
  status: Status;
  /** ISO 8601 UTC start time. */
  startedAt: string;
  durationMs: number;
  steps: StepResult[];
  transcript: TranscriptEntry[];
  /** Things every report must show although they fail nothing, e.g. that TLS verification was off. */
  warnings?: string[];
  /** The last TLS session of the case, if it had one. */
  tls?: TlsFacts;
  /** The IP address the session connected to, for a TCP target. */
  remoteAddress?: string;
  /** Why a skipped case did not run (its `when` did not hold, or it never started: `not run: --bail`). */
  skipReason?: string;
  /** Passed only after one or more retries of a network error. */
  flaky?: boolean;
  /** How many times the case ran, when it ran more than once. */
  attempts?: number;
  /** The attempts before the one reported, oldest first, when the case ran more than once: why each was run again. */
  earlierAttempts?: EarlierAttempt[];
  /** The first step that did not pass, summarised; absent when the case passed. */
  failure?: CaseFailure;
}

export interface CaseFailure {
  stepIndex: number;
  pos: SourcePos;
  /** expectation: a reply did not match; internal: a fault in smtpspec; otherwise the network, protocol or TLS cause. */
  kind: FailureKind;
  /** One sentence: `step 3 (send: RCPT TO:<x>): expected 250, got 550 5.1.1 No such user`. */
  message: string;
}

/** An attempt that ended in a network error and was run again (`--retries`); its steps and transcript are not kept. */
export interface EarlierAttempt {
  /** ISO 8601 UTC start time. */
  startedAt: string;
  durationMs: number;
  failure: CaseFailure;
}

export interface RunCounts {
  passed: number;
  failed: number;
  errors: number;
  skipped: number;
  total: number;
  /** Passed cases that needed a retry (also counted in `passed`); set by runWork. */
  flaky?: number;
}

export interface RunResult {
  startedAt: string;
  durationMs: number;
  cases: CaseResult[];
  counts: RunCounts;
}

export function countResults(cases: CaseResult[]): RunCounts {
  const counts: RunCounts = { passed: 0, failed: 0, errors: 0, skipped: 0, total: cases.length };
  for (const c of cases) {
    if (c.status === 'passed') counts.passed++;
    else if (c.status === 'failed') counts.failed++;
    else if (c.status === 'error') counts.errors++;
    else counts.skipped++;
  }
  return counts;
}
