import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ReporterMux } from '../../src/report/multiplex.js';
import type { Reporter } from '../../src/engine/events.js';
import type { RunResult } from '../../src/engine/results.js';
import { runResult } from './fixtures/run.js';
import { replay } from './fixtures/replay.js';

/** Records every hook it receives. */
class Recorder implements Reporter {
  readonly calls: string[] = [];
  onBegin(): void {
    this.calls.push('begin');
  }
  onCaseBegin(): void {
    this.calls.push('caseBegin');
  }
  onStepEnd(): void {
    this.calls.push('step');
  }
  onCaseEnd(): void {
    this.calls.push('caseEnd');
  }
  async onEnd(): Promise<void> {
    this.calls.push('end');
  }
}

class Broken implements Reporter {
  onBegin(): void {
    throw new Error('cannot begin');
  }
  onCaseEnd(): void {
    throw new Error('cannot write');
  }
  async onEnd(): Promise<void> {
    throw new Error('disk full');
  }
}

const run: RunResult = { ...runResult, cases: runResult.cases.slice(0, 2) };
const stepCount = run.cases.reduce((n, c) => n + c.steps.length, 0);

describe('ReporterMux', () => {
  test('a throwing reporter never stops the others, and its failures are recorded', async () => {
    const before = new Recorder();
    const after = new Recorder();
    const mux = new ReporterMux([before, new Broken(), after]);
    await replay(mux, run);
    const expected = ['begin', ...run.cases.flatMap((c) => ['caseBegin', ...c.steps.map(() => 'step'), 'caseEnd']), 'end'];
    assert.equal(expected.length, 2 + 2 * 2 + stepCount);
    assert.deepEqual(before.calls, expected);
    assert.deepEqual(after.calls, expected);
    assert.deepEqual(described(mux), [
      { reporter: 'Broken', error: 'onBegin: cannot begin' },
      { reporter: 'Broken', error: 'onCaseEnd: cannot write' },
      { reporter: 'Broken', error: 'onCaseEnd: cannot write' },
      { reporter: 'Broken', error: 'onEnd: disk full' },
    ]);
  });

  test('calls reporters in the given order', () => {
    const order: string[] = [];
    const mux = new ReporterMux([
      { onCaseBegin: () => void order.push('first') },
      { onCaseBegin: () => void order.push('second') },
    ]);
    mux.onCaseBegin(run.cases[0]!);
    assert.deepEqual(order, ['first', 'second']);
  });

  test('onEnd waits for every reporter, including slow ones', async () => {
    let finished = false;
    const slow: Reporter = {
      onEnd: async () => {
        await new Promise<void>((resolve) => setImmediate(resolve));
        finished = true;
      },
    };
    const mux = new ReporterMux([{ onEnd: () => Promise.reject(new Error('nope')) }, slow]);
    await mux.onEnd(run);
    assert.equal(finished, true);
    assert.deepEqual(described(mux), [{ reporter: 'reporter 1', error: 'onEnd: nope' }]);
  });

  test('records a rejection from a hook that was meant to be synchronous', async () => {
    // Typed sync, implemented async: the rejection must be caught, not left unhandled.
    const asyncHook = { onCaseEnd: () => Promise.reject(new Error('late failure')) } as unknown as Reporter;
    const mux = new ReporterMux([asyncHook]);
    mux.onCaseEnd(run.cases[0]!);
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(described(mux), [{ reporter: 'reporter 1', error: 'onCaseEnd: late failure' }]);
  });

  test('records values thrown that are not errors', () => {
    const mux = new ReporterMux([
      {
        onBegin: () => {
          throw 'plain string';
        },
      },
    ]);
    mux.onBegin({ startedAt: run.startedAt, cases: [] });
    assert.deepEqual(mux.failures, [{ reporter: 'reporter 1', error: 'onBegin: plain string', thrown: 'plain string' }]);
  });

  test('keeps what was thrown, so a system error writing a report can be told from a fault in the reporter', async () => {
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    const mux = new ReporterMux([{ onEnd: () => Promise.reject(full) }]);
    await mux.onEnd(run);
    assert.equal(mux.failures[0]?.thrown, full);
  });
});

/** The failures as they are printed, without what was thrown. */
function described(mux: ReporterMux): { reporter: string; error: string }[] {
  return mux.failures.map(({ reporter, error }) => ({ reporter, error }));
}
