import { formatDuration } from './format.js';

/**
 * Releases values in a fixed order: a value comes out once every value planned before it
 * has come in. An id planned twice fills its places in turn; an id outside the plan, or
 * with no place left, is released at once: output is never lost, even if it is then out of order.
 */
export class PlanOrder<T> {
  private readonly ids: readonly string[];
  /** Each id's places in the plan not yet filled, earliest first. */
  private readonly places = new Map<string, number[]>();
  private readonly waiting = new Map<number, T>();
  private next = 0;

  constructor(ids: readonly string[]) {
    this.ids = ids;
    ids.forEach((id, i) => {
      const places = this.places.get(id);
      if (places) places.push(i);
      else this.places.set(id, [i]);
    });
  }

  /** Ids in plan order that have not come in yet (an id as often as it is still awaited). */
  missing(): string[] {
    return this.ids.filter((_, i) => i >= this.next && !this.waiting.has(i));
  }

  /** Takes a value and returns whatever can now be released, in order. */
  add(id: string, value: T): T[] {
    const at = this.places.get(id)?.shift();
    if (at === undefined) return [value];
    this.waiting.set(at, value);
    const released: T[] = [];
    for (let value = this.waiting.get(this.next); value !== undefined; value = this.waiting.get(this.next)) {
      this.waiting.delete(this.next++);
      released.push(value);
    }
    return released;
  }

  /** Everything still held, in plan order, past the places that never filled: nothing waits for ever. */
  rest(): T[] {
    const held = [...this.waiting].sort(([a], [b]) => a - b).map(([, value]) => value);
    this.waiting.clear();
    this.next = this.ids.length;
    return held;
  }
}

/** What the live status line counts. */
export interface ProgressStats {
  total: number;
  done: number;
  failed: number;
  running: number;
  elapsedMs: number;
  /** Summed durations of the cases done, for the estimate. */
  doneDurationMs: number;
  /** The most cases seen running at once: the parallelism the estimate assumes. */
  peakRunning: number;
}

/**
 * `12/40 done · 1 failed · 3 running · 4.2 s elapsed · ETA 9 s`.
 * ETA = mean duration of the cases done × cases not done ÷ the most cases seen running at once
 * (at most the cases left); absent until a case is done.
 */
export function progressText(stats: ProgressStats): string {
  const parts = [
    `${stats.done}/${stats.total} done`,
    `${stats.failed} failed`,
    `${stats.running} running`,
    `${(stats.elapsedMs / 1000).toFixed(1)} s elapsed`,
  ];
  const eta = estimateMs(stats);
  if (eta !== undefined) parts.push(`ETA ${formatEta(eta)}`);
  return parts.join(' · ');
}

function estimateMs(stats: ProgressStats): number | undefined {
  const left = stats.total - stats.done;
  if (stats.done === 0 || left <= 0) return undefined;
  const parallel = Math.max(1, Math.min(stats.peakRunning, left));
  return ((stats.doneDurationMs / stats.done) * left) / parallel;
}

function formatEta(ms: number): string {
  return ms < 1000 ? formatDuration(ms) : `${Math.ceil(ms / 1000)} s`;
}

/** Carriage return, then erase the whole line. */
export const CLEAR_LINE = '\r\x1b[2K';

export const PROGRESS_INTERVAL_MS = 100;

/**
 * A one-line status rewritten in place, at most every PROGRESS_INTERVAL_MS. `clear` erases it
 * so other output starts on a clean line; `stop` also cancels a pending redraw.
 */
export class ProgressLine {
  private shown = false;
  private lastDrawAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (text: string) => void,
    private readonly text: () => string,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Redraws now, or once the interval since the last drawing has passed. */
  update(): void {
    const wait = this.lastDrawAt + PROGRESS_INTERVAL_MS - this.now();
    if (wait <= 0) return this.draw();
    if (this.timer) return;
    this.timer = setTimeout(() => this.draw(), wait);
    // The status line must never keep the process alive.
    this.timer.unref();
  }

  clear(): void {
    if (!this.shown) return;
    this.write(CLEAR_LINE);
    this.shown = false;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private draw(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.lastDrawAt = this.now();
    this.write(CLEAR_LINE + this.text());
    this.shown = true;
  }
}
