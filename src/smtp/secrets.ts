import type { Reply } from './types.js';

/** What a secret is replaced by, whatever its length. */
export const MASK = '****';

/**
 * Secrets shorter than this are masked only where they stand as a whole word (no letter or digit on either
 * side): a one-letter password masked inside every word would both hide the text and give the password away.
 */
export const SHORT_SECRET_CHARS = 6;

const WORD_CHAR = /[\p{L}\p{N}]/u;

/**
 * The values that never appear in output, and the one way text is masked and cut: the places a secret
 * stands are found in the whole text first, and the cut then falls where the secret is masked whole, so
 * no part of a secret survives a cut. Used by `run` (through the transcript) and by `record`.
 */
export class SecretSet {
  /** Longest first, so a secret that contains another is masked whole. */
  private values: string[] = [];
  private longest = 0;

  add(value: string | undefined): void {
    if (!value || this.values.includes(value)) return;
    this.values.push(value);
    this.values.sort((a, b) => b.length - a.length);
    this.longest = Math.max(this.longest, Buffer.byteLength(value, 'utf8'));
  }

  get size(): number {
    return this.values.length;
  }

  /** Bytes to keep past a cut so that a secret that starts before it can still be found whole. */
  get overlapBytes(): number {
    return Math.max(0, this.longest - 1);
  }

  mask(text: string): string {
    return this.maskCut(text, Infinity);
  }

  /**
   * `text` masked and cut to `maxChars` of its own characters, with `…` when anything was left out
   * (`more`: the text given was itself only the start of a longer one). A secret that begins before
   * the cut is masked whole, so no prefix of it shows.
   */
  maskCut(text: string, maxChars: number, more = false): string {
    const ranges = this.values.length === 0 ? [] : this.ranges(text);
    const end = Math.min(text.length, maxChars);
    let shown = '';
    let at = 0;
    for (const [start, stop] of ranges) {
      if (start >= end) break;
      shown += text.slice(at, start) + MASK;
      at = stop;
    }
    if (at < end) shown += text.slice(at, end);
    return more || text.length > maxChars ? `${shown}…` : shown;
  }

  /** The places secrets stand in `text`, sorted, none overlapping. */
  private ranges(text: string): [number, number][] {
    const found: [number, number][] = [];
    for (const secret of this.values) {
      const whole = secret.length < SHORT_SECRET_CHARS;
      for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) {
        const stop = at + secret.length;
        if (whole && !standsAlone(text, at, stop)) continue;
        if (found.some(([start, end]) => at < end && stop > start)) continue;
        found.push([at, stop]);
        at = stop - 1;
      }
    }
    return found.sort((a, b) => a[0] - b[0]);
  }
}

function standsAlone(text: string, start: number, stop: number): boolean {
  return !(start > 0 && WORD_CHAR.test(text[start - 1]!)) && !(stop < text.length && WORD_CHAR.test(text[stop]!));
}

/** The reply with its lines masked; its code, which is never secret, as it is. */
export function maskReply(reply: Reply, secrets: SecretSet): Reply {
  if (secrets.size === 0) return reply;
  return { ...reply, lines: reply.lines.map((line) => secrets.mask(line)) };
}
