import type { Target } from '../scenario/types.js';

/**
 * What counts as one host for the per-host limit: a TCP host name or address (every port
 * together: it is the machine that gets overloaded), a socket path, or a command line.
 */
export function defaultHostKey(target: Target): string {
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
