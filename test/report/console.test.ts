import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleReporter, summaryLine } from '../../src/report/console.js';
import { memorySink } from '../../src/report/sink.js';
import type { CaseResult, RunResult } from '../../src/engine/results.js';
import { runResult } from './fixtures/run.js';
import { replay } from './fixtures/replay.js';
import { assertGolden } from './fixtures/golden.js';

async function render(run: RunResult, color: boolean, transcriptLines?: number): Promise<string> {
  const sink = memorySink();
  const options = transcriptLines === undefined ? { color } : { color, transcriptLines };
  await replay(new ConsoleReporter(sink, options), run);
  assert.equal(sink.closed, true, 'onEnd closes the sink');
  return sink.text;
}

function withCases(cases: CaseResult[]): RunResult {
  const count = (status: CaseResult['status']): number => cases.filter((c) => c.status === status).length;
  return {
    ...runResult,
    cases,
    counts: { passed: count('passed'), failed: count('failed'), errors: count('error'), skipped: count('skipped'), total: cases.length },
  };
}

describe('ConsoleReporter', () => {
  test('matches the golden output without colour', async () => {
    await assertGolden('console.txt', await render(runResult, false));
  });

  test('matches the golden output with colour', async () => {
    await assertGolden('console-color.txt', await render(runResult, true));
  });

  test('writes no escape codes at all without colour, even for hostile reply text', async () => {
    const text = await render(runResult, false);
    assert.doesNotMatch(text, /\x1b/);
    assert.doesNotMatch(text, /[\x00-\x08\x0B-\x1F\x7F-\x9F]/, 'controls from replies are made visible');
    assert.match(text, /\\x1B\[31mred/);
  });

  test('escapes server-sent control characters even with colour on', async () => {
    const text = await render(runResult, true);
    assert.doesNotMatch(text, /\x1b\[31mred/, 'the server cannot colour the terminal');
    assert.match(text, /\\x1B\[31mred/);
  });

  test('ends with the duration line, then the counts alone on the last line', async () => {
    const lines = (await render(runResult, true)).trimEnd().split('\n');
    assert.equal(lines.at(-1), '1 passed, 3 failed, 1 skipped');
    assert.equal(lines.at(-2), 'Ran 5 cases in 1.23 s');
  });

  test('leaves out the skipped count when nothing was skipped', async () => {
    const run = withCases(runResult.cases.filter((c) => c.status !== 'skipped'));
    const lines = (await render(run, false)).trimEnd().split('\n');
    assert.equal(lines.at(-1), '1 passed, 3 failed');
    assert.equal(summaryLine({ passed: 0, failed: 0, errors: 0, skipped: 0, total: 0 }), '0 passed, 0 failed');
  });

  test('prints a heading whenever the file or target changes', async () => {
    const [first, second] = runResult.cases;
    const elsewhere = { ...second!, target: { host: '::1', port: 25 } };
    const text = await render(withCases([first!, elsewhere, first!]), false);
    const headings = text.split('\n').filter((line) => line.startsWith('scenarios/'));
    assert.deepEqual(headings, [
      'scenarios/basic.yaml  (127.0.0.1:2525)',
      'scenarios/basic.yaml  ([::1]:25)',
      'scenarios/basic.yaml  (127.0.0.1:2525)',
    ]);
  });

  test('shows only the last N transcript entries under a failure', async () => {
    const failed = runResult.cases[1]!;
    const text = await render(withCases([failed]), false, 2);
    assert.match(text, /transcript \(last 2 of 11\):\n {6}\[\+0\.014s\] S: 221 2\.0\.0 Bye\n {6}\[\+0\.015s\] \* closed\n/);
    assert.doesNotMatch(text, /C: RCPT TO/);
  });

  test('hides the transcript when asked for none', async () => {
    const text = await render(withCases([runResult.cases[1]!]), false, 0);
    assert.doesNotMatch(text, /transcript/);
    assert.match(text, /expected: 250\n {4}got: {6}550 5\.1\.1 <nobody@example\.test>: Recipient address rejected\n/);
  });

  test('marks an error with a cross and its cause', async () => {
    const text = await render(withCases([runResult.cases[3]!]), false);
    assert.match(text, /^ {2}✗ server is unreachable \(1 ms\) \[connection refused\]$/m);
    assert.match(text, /^ {4}at scenarios\/down\.yaml:5:7$/m);
  });
});
