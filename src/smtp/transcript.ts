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
const MASK = '****';
/**
 * Entries are timed to the millisecond, which `Date.now()` gives directly and more cheaply than
 * `performance.now()` (called for every line). One function for every transcript keeps calls monomorphic.
 */
const dateNow = (): number => Date.now();

/** The session as C:/S: lines and notes, timed from construction, secrets masked at the source. */
export class Transcript {
  readonly entries: TranscriptEntry[] = [];
  private secrets: string[] = [];
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
    if (secret === '' || this.secrets.includes(secret)) return;
    this.secrets.push(secret);
    // Longest first, so a secret that contains another is masked whole.
    this.secrets.sort((a, b) => b.length - a.length);
  }

  client(text: string): void {
    this.add('C', text);
  }

  server(text: string): void {
    this.add('S', text);
  }

  note(text: string): void {
    this.add('*', text);
  }

  /** Whether anything is masked at all. */
  get hasSecrets(): boolean {
    return this.secrets.length > 0;
  }

  mask(text: string): string {
    if (this.secrets.length === 0) return text;
    let masked = text;
    for (const secret of this.secrets) masked = masked.split(secret).join(MASK);
    return masked;
  }

  private add(dir: TranscriptEntry['dir'], text: string): void {
    const atMs = Math.round(this.now() - this.startMs);
    if (this.entries.length < this.maxEntries) {
      const masked = this.mask(text);
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
