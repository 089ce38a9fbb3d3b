import type { ReplyParser } from './reply-parser.js';
import type { Transcript } from './transcript.js';
import { SmtpError, type Reply, type SmtpErrorKind, type SmtpErrorPhase } from './types.js';
import { plural } from '../words.js';

/** Replies received and not read yet; more is a flood, and the session ends rather than hold it in memory. */
const MAX_UNREAD_REPLIES = 1000;
const MAX_UNREAD_BYTES = 16 * 1024 * 1024;

type Outcome = { reply: Reply } | { error: SmtpError };

/** How a session ended without anything going wrong: the server or the client closing. */
export interface Ending {
  kind: SmtpErrorKind;
  phase: SmtpErrorPhase;
  message: string;
}

/** Something the server sent that no read has taken: a reply, a broken reply, or the start of a reply still arriving. */
export type Unread = Outcome | { partial: string };

interface Waiter {
  resolve(reply: Reply): void;
  reject(error: SmtpError): void;
  timeoutMs: number;
}

/**
 * The read side of a session: replies wait here, in order, until a read takes them, and a read
 * waits here, within its deadline, until a reply comes. It also holds how the session ended,
 * which every later read (after the queue) and write fails with.
 */
export class ReplyQueue {
  private readonly queue: { outcome: Outcome; bytes: number }[] = [];
  /** Characters received of the replies in `queue`. */
  private queuedBytes = 0;
  private waiter: Waiter | undefined;
  /**
   * The read deadline: one timer for the session, re-armed by every read (rather than one made
   * and cleared per read) and left to run out when a reply comes first: it then finds no read
   * waiting. Cleared when the session ends.
   */
  private deadline: NodeJS.Timeout | undefined;
  private deadlineMs = -1;
  /** An ordinary close is kept as its kind and message: the SmtpError is made only if something needs it. */
  private ending: SmtpError | Ending | undefined;

  /** `onFlood` runs after a flood has ended the session, to drop the connection. */
  constructor(
    private readonly parser: ReplyParser,
    private readonly transcript: Transcript,
    private readonly onFlood: () => void,
  ) {}

  get isOpen(): boolean {
    return this.ending === undefined;
  }

  /** Why the session is over, once it is. */
  get ended(): SmtpError | undefined {
    const ending = this.ending;
    if (ending === undefined || ending instanceof SmtpError) return ending;
    return (this.ending = new SmtpError(ending.kind, ending.phase, ending.message));
  }

  /** One complete reply, within one deadline for the whole reply. Rejects with SmtpError. */
  read(timeoutMs: number): Promise<Reply> {
    const next = this.queue.shift();
    if (next) {
      this.queuedBytes -= next.bytes;
      return 'reply' in next.outcome ? Promise.resolve(next.outcome.reply) : Promise.reject(next.outcome.error);
    }
    if (this.ended) return Promise.reject(this.ended);
    if (this.waiter) return Promise.reject(new Error('readReply called while another readReply is waiting'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject, timeoutMs };
      this.armDeadline(timeoutMs);
    });
  }

  private armDeadline(timeoutMs: number): void {
    if (this.deadline !== undefined && this.deadlineMs === timeoutMs) {
      this.deadline.refresh();
      return;
    }
    clearTimeout(this.deadline);
    this.deadline = setTimeout(ReplyQueue.expire, timeoutMs, this);
    this.deadlineMs = timeoutMs;
  }

  /** Whether takeUnsolicited would find anything. */
  get hasUnread(): boolean {
    return this.queue.length > 0 || (!this.ending && this.parser.hasBufferedBytes);
  }

  /** Takes every queued reply and broken reply, then the start of a reply still arriving (left in place). */
  takeUnsolicited(): Unread[] {
    if (!this.hasUnread) return [];
    const unread: Unread[] = this.queue.splice(0).map((entry) => entry.outcome);
    this.queuedBytes = 0;
    if (!this.ending && this.parser.hasBufferedBytes) unread.push({ partial: this.parser.pendingLines[0] ?? this.parser.partialLine() });
    return unread;
  }

  /** Hands a complete reply (`raw`: its lines as received) to the read waiting, or keeps it for a later read. */
  deliverReply(reply: Reply, raw: readonly string[]): void {
    const waiter = this.waiter;
    if (!waiter) {
      this.enqueue({ reply }, rawBytes(raw));
      return;
    }
    this.waiter = undefined;
    waiter.resolve(reply);
  }

  /** Hands a broken reply the session survives to the read waiting, or keeps it for a later read. */
  deliverError(error: SmtpError): void {
    const waiter = this.waiter;
    if (!waiter) {
      this.enqueue({ error }, 0);
      return;
    }
    this.waiter = undefined;
    waiter.reject(error);
  }

  /** Ends the session once: later reads (after the queue) and writes fail with `error`. */
  end(error: SmtpError | Ending, note = error.message): void {
    if (this.ending) return;
    this.ending = error;
    clearTimeout(this.deadline);
    this.transcript.note(note);
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = undefined;
    waiter.reject(this.ended!);
  }

  /** The deadline of the read in progress passed, if one is waiting. Static: no closure for every session. */
  private static expire(queue: ReplyQueue): void {
    const waiter = queue.waiter;
    if (!waiter) return;
    queue.waiter = undefined;
    const timeoutMs = waiter.timeoutMs;
    const pending = queue.parser.pendingLines;
    let message = `no reply within ${timeoutMs} ms`;
    if (pending.length > 0) message = `no complete reply within ${timeoutMs} ms (got ${plural(pending.length, 'line')} so far)`;
    else if (queue.parser.hasBufferedBytes) message = `no complete reply within ${timeoutMs} ms (got part of a line so far)`;
    queue.transcript.note(message);
    waiter.reject(new SmtpError('timeout', 'reply', message, pending));
  }

  /** Keeps a reply for a later read; once the session is over nobody will read it, and a flood ends the session. */
  private enqueue(outcome: Outcome, bytes: number): void {
    if (this.ending) return;
    this.queue.push({ outcome, bytes });
    this.queuedBytes += bytes;
    const tooMany = this.queue.length > MAX_UNREAD_REPLIES ? `more than ${MAX_UNREAD_REPLIES} replies` : undefined;
    const tooBig = this.queuedBytes > MAX_UNREAD_BYTES ? `more than ${MAX_UNREAD_BYTES / 1024 / 1024} MiB of replies` : undefined;
    if (!tooMany && !tooBig) return;
    const error = new SmtpError('limit', 'reply', `server sent ${tooMany ?? tooBig} that nobody read`);
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.end(error);
    this.onFlood();
  }
}

/** Whether `error` is a reply's deadline passing (rather than a connect, handshake or write deadline). */
export function isReplyTimeout(error: SmtpError): boolean {
  return error.kind === 'timeout' && error.phase === 'reply';
}

/** A reply's size as received (characters and line endings), for the flood limit. */
function rawBytes(raw: readonly string[]): number {
  let sum = 0;
  for (const line of raw) sum += line.length + 2;
  return sum;
}
