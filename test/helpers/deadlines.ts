import assert from 'node:assert/strict';

/**
 * Deadlines for tests that must pass on a busy machine, where a reply over loopback can take
 * seconds. A test never asserts that something was fast: it waits for the event, under a deadline
 * it does not mean to reach.
 */

/** A deadline the test does not mean to reach: for a reply, a session, a child process that will come. */
export const GENEROUS_MS = 30_000;

/** GENEROUS_MS as a scenario duration. */
export const GENEROUS = '30s';

/**
 * The bound for "this did not wait for a GENEROUS_MS deadline" and "this did not hang": seconds
 * above any wait a busy machine makes, far below the deadline it would otherwise have reached.
 */
export const PROMPTLY_MS = 10_000;

/**
 * Fails unless `elapsedMs` shows that a deadline of `deadlineMs` was waited for in full, not cut
 * short: a timer fires at most a few milliseconds early by the clocks that measure it, and a busy
 * machine only makes the wait longer. (An upper bound would be the one a busy machine breaks.)
 */
export function assertWaitedFor(elapsedMs: number, deadlineMs: number, what = 'the wait'): void {
  assert.ok(elapsedMs >= deadlineMs - 10, `${what} took ${Math.round(elapsedMs)} ms, less than its ${deadlineMs} ms deadline`);
}
