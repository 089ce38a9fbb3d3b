import { SecretSet } from './secrets.js';
import type { SharedRecords } from './shared-records.js';
import type { TranscriptEntry } from './types.js';
import { plural } from '../words.js';

export interface TranscriptOptions {
  /** Values replaced by `****` in every entry. */
  secrets?: string[];
  /** Clock in milliseconds; defaults to `Date.now()`. */
  now?: () => number;
  /** Entries kept before the rest is only counted; default 2000. */
  maxEntries?: number;
  /** Called with each entry as it is kept (masked), for a live view of the session. */
  onEntry?: (entry: TranscriptEntry) => void;
  /** The run's entries: one logged by another session at the same moment is the same entry. */
  shared?: SharedRecords;
}

export const DEFAULT_MAX_TRANSCRIPT_ENTRIES = 2000;
/**
 * Entries are timed to the millisecond, which `Date.now()` gives directly and more cheaply than
 * `performance.now()` (called for every line). One function for every transcript keeps calls monomorphic.
 */
const dateNow = (): number => Date.now();

/** The session as C:/S: lines and notes, timed from construction, secrets masked at the source. */
export class Transcript {
  readonly entries: TranscriptEntry[] = [];
  /** The values masked in every entry; `record` masks what it shows with the same set. */
  readonly secrets = new SecretSet();
  private readonly now: () => number;
  private readonly startMs: number;
  private readonly maxEntries: number;
  private droppedCount = 0;
  private readonly onEntry: ((entry: TranscriptEntry) => void) | undefined;
  private readonly shared: SharedRecords | undefined;

  constructor(options: TranscriptOptions = {}) {
    this.now = options.now ?? dateNow;
    this.startMs = this.now();
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_TRANSCRIPT_ENTRIES;
    this.onEntry = options.onEntry;
    this.shared = options.shared;
    for (const secret of options.secrets ?? []) this.addSecret(secret);
  }

  /** Masks one more value from now on (e.g. the base64 form of a password). */
  addSecret(secret: string): void {
    this.secrets.add(secret);
  }

  client(text: string): void {
    this.add('C', text);
  }

  /**
   * A client line shown only up to `maxChars` (`more`: `text` is already only the start of the line):
   * masked before it is cut, so no part of a secret survives the cut. `text` must run at least
   * `secrets.overlapBytes` past the cut for a secret that straddles it to be found.
   */
  clientCut(text: string, maxChars: number, more: boolean): void {
    this.keep('C', this.secrets.maskCut(text, maxChars, more));
  }

  /** A server line, cut the same way. */
  serverCut(text: string, maxChars: number): void {
    this.keep('S', this.secrets.maskCut(text, maxChars));
  }

  server(text: string): void {
    this.add('S', text);
  }

  note(text: string): void {
    this.add('*', text);
  }

  /** Whether anything is masked at all. */
  get hasSecrets(): boolean {
    return this.secrets.size > 0;
  }

  mask(text: string): string {
    return this.secrets.mask(text);
  }

  private add(dir: TranscriptEntry['dir'], text: string): void {
    this.keep(dir, this.secrets.mask(text));
  }

  /** Every entry goes through here, already masked (and cut, when it is cut). */
  private keep(dir: TranscriptEntry['dir'], masked: string): void {
    const atMs = Math.round(this.now() - this.startMs);
    if (this.entries.length < this.maxEntries) {
      const entry = this.shared ? this.shared.entry(atMs, dir, masked) : { atMs, dir, text: masked };
      this.entries.push(entry);
      this.onEntry?.(entry);
      return;
    }
    this.droppedCount += 1;
    const summary = { atMs, dir: '*' as const, text: `… ${plural(this.droppedCount, 'more line')} not kept` };
    if (this.droppedCount === 1) {
      this.entries.push(summary);
      // The live view says once that lines are being dropped, as the stored transcript will.
      this.onEntry?.({ ...summary, text: '… more lines not kept' });
    } else this.entries[this.entries.length - 1] = summary;
  }
}
