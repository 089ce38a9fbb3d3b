import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { SessionSignals } from '../../src/engine/session-signals.js';

test("many sessions at once put one listener on the run's signal, and each is aborted with it", () => {
  const run = new AbortController();
  const signals = new SessionSignals(run.signal);
  const sessions = Array.from({ length: 50 }, () => signals.take());
  assert.equal(getEventListeners(run.signal, 'abort').length, 1);
  sessions[0]!.release();
  run.abort('stop');
  assert.equal(sessions[0]!.signal.aborted, false, 'a session that ended is let go');
  assert.ok(sessions.slice(1).every((s) => s.signal.aborted && s.signal.reason === 'stop'));
  assert.equal(signals.take().signal.aborted, true, 'a session taken after the run stopped starts aborted');
});

test("a run's listener comes off its signal when the run is over", () => {
  const run = new AbortController();
  new SessionSignals(run.signal).dispose();
  assert.equal(getEventListeners(run.signal, 'abort').length, 0);
});
