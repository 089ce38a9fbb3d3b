import type { ServerTarget } from '../scenario/types.js';

/**
 * What counts as one host for the per-host limit: a TCP host name or address (every port
 * together: it is the machine that gets overloaded), a socket path, or a command line.
 */
export function defaultHostKey(target: ServerTarget): string {
  if (target.kind === 'unix') return `unix:${target.path}`;
  if (target.kind === 'exec') return `exec:${target.argv.join(' ')}`;
  return `tcp:${target.host.toLowerCase()}`;
}

/** Counts sessions in progress per key, up to a fixed limit for each. */
export class HostLimiter {
  private readonly active = new Map<string, number>();

  constructor(private readonly limit: number) {}

  canAcquire(key: string): boolean {
    return (this.active.get(key) ?? 0) < this.limit;
  }

  acquire(key: string): void {
    if (!this.canAcquire(key)) throw new Error(`per-host limit reached for ${key}`);
    this.active.set(key, (this.active.get(key) ?? 0) + 1);
  }

  release(key: string): void {
    const count = (this.active.get(key) ?? 0) - 1;
    if (count > 0) this.active.set(key, count);
    else this.active.delete(key);
  }
}

/**
 * The items not started yet, by position, kept in one queue per key: the earliest item whose
 * key has room is found by looking at the head of each queue, not at every item.
 */
export class WaitingItems {
  private readonly queues = new Map<string, { positions: number[]; next: number }>();
  private left: number;

  constructor(keys: readonly string[]) {
    keys.forEach((key, position) => {
      let queue = this.queues.get(key);
      if (!queue) this.queues.set(key, (queue = { positions: [], next: 0 }));
      queue.positions.push(position);
    });
    this.left = keys.length;
  }

  get size(): number {
    return this.left;
  }

  /** Takes the earliest item whose key has room; undefined when no waiting item's key has. */
  take(hasRoom: (key: string) => boolean): number | undefined {
    let earliestKey: string | undefined;
    let earliest = Infinity;
    for (const [key, queue] of this.queues) {
      const position = queue.positions[queue.next]!;
      if (position < earliest && hasRoom(key)) {
        earliestKey = key;
        earliest = position;
      }
    }
    if (earliestKey === undefined) return undefined;
    const queue = this.queues.get(earliestKey)!;
    queue.next += 1;
    if (queue.next === queue.positions.length) this.queues.delete(earliestKey);
    this.left -= 1;
    return earliest;
  }

  /** Takes every item left, in order. */
  takeAll(): number[] {
    const all = [...this.queues.values()].flatMap((queue) => queue.positions.slice(queue.next));
    this.queues.clear();
    this.left = 0;
    return all.sort((a, b) => a - b);
  }
}
