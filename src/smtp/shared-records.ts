import type { ReplyEvent, TranscriptEntry } from './types.js';

/** Replies and texts kept, each; past either count the store is emptied and starts again. */
const MAX_KEPT = 500;
/** Longer replies and texts are not shared: they are rarely the same twice. */
const MAX_KEPT_CHARS = 1024;
/** Only entries logged this early in a session are shared: later ones seldom fall on the same millisecond. */
const SHARED_BEFORE_MS = 64;
const DIRECTIONS = 3;
const directionSlot = (dir: TranscriptEntry['dir']): number => (dir === 'C' ? 0 : dir === 'S' ? 1 : 2);

/**
 * Replies and transcript entries that the sessions of one run have in common, one read-only copy of each.
 * A server gives every session the same replies, and sessions log the same lines at the same moments after
 * they begin; a run keeps every case's replies and transcript until its reports are written, and sharing
 * them halves what a finished case keeps (`npm run bench -- retained`). Made by the run and dropped with it.
 */
export class SharedRecords {
  /** Reply events by their lines as received, joined by LF. */
  private readonly replies = new Map<string, ReplyEvent>();
  /** Entries by text, then by time and direction. */
  private readonly entries = new Map<string, (TranscriptEntry | undefined)[]>();

  /** The reply received before with exactly these lines (`raw` joined by LF), if one was kept. */
  reply(key: string): ReplyEvent | undefined {
    return this.replies.get(key);
  }

  /** Keeps a reply without warnings for the sessions to come. */
  keepReply(key: string, event: ReplyEvent): void {
    if (key.length > MAX_KEPT_CHARS) return;
    if (this.replies.size >= MAX_KEPT) this.replies.clear();
    this.replies.set(key, event);
  }

  /** The entry logged before with the same time, direction and text, or a new one, kept when it is early in its session. */
  entry(atMs: number, dir: TranscriptEntry['dir'], text: string): TranscriptEntry {
    if (!(atMs >= 0 && atMs < SHARED_BEFORE_MS) || text.length > MAX_KEPT_CHARS) return { atMs, dir, text };
    let slots = this.entries.get(text);
    if (slots === undefined) {
      if (this.entries.size >= MAX_KEPT) this.entries.clear();
      slots = new Array<TranscriptEntry | undefined>(SHARED_BEFORE_MS * DIRECTIONS);
      this.entries.set(text, slots);
    }
    return (slots[atMs * DIRECTIONS + directionSlot(dir)] ??= { atMs, dir, text });
  }
}
