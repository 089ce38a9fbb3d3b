import { GENEROUS_MS } from './deadlines.js';
import { fakeServer, type FakeServer, type FakeSession } from './fake-server.js';

/**
 * Servers that show how many sessions a run holds open at once: each greeting waits until
 * a given number of sessions are in progress together, so the limits decide how many come,
 * not how fast they come.
 */

/** Sessions in progress on the server side, per label and overall, with their peaks. */
export class SessionCounter {
  private readonly active = new Map<string, number>();
  readonly peaks = new Map<string, number>();
  private total = 0;
  peakTotal = 0;
  private readonly waiting: { count: number; resolve: () => void }[] = [];

  enter(label: string): void {
    const now = (this.active.get(label) ?? 0) + 1;
    this.active.set(label, now);
    this.peaks.set(label, Math.max(this.peaks.get(label) ?? 0, now));
    this.total++;
    this.peakTotal = Math.max(this.peakTotal, this.total);
    for (const waiter of this.waiting.filter((w) => this.peakTotal >= w.count)) {
      this.waiting.splice(this.waiting.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  leave(label: string): void {
    this.active.set(label, this.active.get(label)! - 1);
    this.total--;
  }

  /** Resolves once `count` sessions have been in progress at once; gives up after GENEROUS_MS, with the peak short of it. */
  reached(count: number): Promise<void> {
    if (this.peakTotal >= count) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting.push({ count, resolve });
      setTimeout(resolve, GENEROUS_MS).unref();
    });
  }
}

/**
 * Holds each greeting until `peak` sessions are in progress at once: the limits are what decide
 * how many sessions come, not how fast they come. The session stops counting when QUIT
 * arrives, before the 221 goes out: the client cannot consider it over any earlier.
 */
export function holdingServer(label: string, counter: SessionCounter, peak: number): Promise<FakeServer> {
  return fakeServer(async (s: FakeSession) => {
    counter.enter(label);
    let line: string | undefined;
    try {
      await counter.reached(peak);
      await s.write('220 ready\r\n');
      line = await s.nextLine();
    } finally {
      counter.leave(label);
    }
    if (line === 'QUIT') await s.write('221 bye\r\n');
    s.end();
  });
}
