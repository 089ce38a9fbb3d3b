import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleReporter, summaryLine } from '../../src/report/console.js';
import { memorySink } from '../../src/report/sink.js';
import type { CaseResult, RunResult } from '../../src/engine/results.js';
import { runResult } from './fixtures/run.js';
import { caseInfo, replay, runInfo } from './fixtures/replay.js';
import { assertGolden } from './fixtures/golden.js';
import { checkRun, mtaStsCase } from './fixtures/check-run.js';

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

describe('ConsoleReporter at fleet scale', () => {
  const [passed, failed, skipped] = runResult.cases;
  const CLEAR = '\r\x1b[2K';

  test('prints cases in the planned order, holding back those that end early', async () => {
    const sink = memorySink();
    const reporter = new ConsoleReporter(sink, { color: false });
    const run = withCases([passed!, failed!, skipped!]);
    reporter.onBegin(runInfo(run));
    reporter.onCaseEnd(skipped!);
    reporter.onCaseEnd(failed!);
    assert.equal(sink.text, '', 'nothing before the first planned case has ended');
    reporter.onCaseEnd(passed!);
    await reporter.onEnd(run);
    assert.equal(sink.text, await render(run, false));
    const names = sink.text.split('\n').filter((line) => /^ {2}[✓✗-] /.test(line));
    assert.deepEqual(names.map((line) => line.slice(4, 15)), ['greeting an', 'unknown rec', 'STARTTLS is']);
  });

  test('an id planned twice fills both its places: no later case is held back for a place that never fills', async () => {
    const sink = memorySink();
    const reporter = new ConsoleReporter(sink, { color: false });
    const twin = { ...failed!, id: passed!.id };
    const run = withCases([passed!, twin, skipped!]);
    reporter.onBegin(runInfo(run));
    reporter.onCaseEnd(passed!);
    reporter.onCaseEnd(skipped!);
    reporter.onCaseEnd(twin);
    await reporter.onEnd(run);
    const names = sink.text.split('\n').filter((line) => /^ {2}[✓✗-] /.test(line));
    assert.deepEqual(names.map((line) => line.slice(4, 15)), ['greeting an', 'unknown rec', 'STARTTLS is']);
  });

  test('a case that never ended holds back no later one at the end of the run', async () => {
    const sink = memorySink();
    const reporter = new ConsoleReporter(sink, { color: false });
    const run = withCases([passed!, failed!, skipped!]);
    reporter.onBegin(runInfo(run));
    reporter.onCaseEnd(failed!);
    await reporter.onEnd(withCases([failed!]));
    assert.match(sink.text, /✗ unknown recipient is rejected/);
  });

  test('prints as cases end when no plan came', async () => {
    const sink = memorySink();
    const reporter = new ConsoleReporter(sink, { color: false });
    reporter.onCaseEnd(failed!);
    assert.match(sink.text, /✗ unknown recipient is rejected/);
    reporter.onCaseEnd(passed!);
    await reporter.onEnd(withCases([passed!, failed!]));
    assert.ok(sink.text.indexOf('unknown recipient') < sink.text.indexOf('greeting and EHLO'));
  });

  test('draws a progress line in place, throttled, and clears it before every block and the summary', async () => {
    const run = withCases([passed!, failed!, skipped!]);
    let clock = 0;
    const sink = memorySink();
    const reporter = new ConsoleReporter(sink, { color: false, progress: true, now: () => clock });
    reporter.onBegin(runInfo(run));
    clock = 50;
    reporter.onCaseBegin(caseInfo(passed!));
    clock = 60;
    reporter.onCaseBegin(caseInfo(failed!));
    clock = 4200;
    reporter.onCaseEnd(passed!);
    clock = 4250;
    reporter.onCaseEnd(failed!);
    clock = 4400;
    reporter.onCaseBegin(caseInfo(skipped!));
    reporter.onCaseEnd(skipped!);
    await reporter.onEnd(run);

    const parts = sink.text.split(CLEAR);
    const status = parts.filter((part) => /^\d+\/\d+ done · /.test(part));
    assert.deepEqual(status, [
      '0/3 done · 0 failed · 0 running · 0.0 s elapsed',
      // 12 ms mean × 2 left ÷ 2 seen running at once.
      '1/3 done · 0 failed · 1 running · 4.2 s elapsed · ETA 12 ms',
      // Case begin at 4.4 s draws; the end right after it waits for the interval, and onEnd cancels that.
      '2/3 done · 1 failed · 1 running · 4.4 s elapsed · ETA 21 ms',
    ]);
    assert.ok(status.every((line) => !line.includes('\n')), 'every status line is cleared before anything else is written');
    assert.equal(parts.filter((part) => !status.includes(part)).join(''), await render(run, false));
    assert.match(parts.at(-1)!, /\n1 passed, 1 failed, 1 skipped\n$/, 'the summary comes after the last clear');
  });

  test('writes no carriage return and no escape code without progress', async () => {
    const sink = memorySink();
    await replay(new ConsoleReporter(sink, { color: false, progress: false }), runResult);
    assert.doesNotMatch(sink.text, /[\r\x1b]/);
  });

  test('summarises each target in an aligned table when there are several', async () => {
    const mx1 = { host: '192.0.2.1', port: 25, name: 'mx1' };
    const flaky = { ...passed!, id: 'flaky', target: mx1, flaky: true, attempts: 2 };
    const cases = [passed!, failed!, skipped!, flaky, { ...failed!, id: 'f2', target: mx1, durationMs: 1500 }];
    const run = { ...withCases(cases), counts: { ...withCases(cases).counts, flaky: 1 } };
    const lines = (await render(run, false)).trimEnd().split('\n');
    assert.deepEqual(lines.slice(-6), [
      'target              passed  failed  skipped  flaky    time',
      '127.0.0.1:2525           1       1        1      0   42 ms',
      'mx1 (192.0.2.1:25)       1       1        0      1  1.51 s',
      '',
      'Ran 5 cases in 1.23 s',
      '2 passed, 2 failed, 1 skipped, 1 flaky',
    ]);
  });

  test('summarises a run of 130,000 targets, more than a call takes arguments', async () => {
    const targets = 130_000;
    const cases = Array.from({ length: targets }, (_, i) => ({ ...passed!, id: `c${i}`, target: { host: '192.0.2.1', port: 25, name: `mx${i}` } }));
    const sink = memorySink();
    // Without onBegin the cases are not printed one by one: only the table and the counts.
    await new ConsoleReporter(sink, { color: false }).onEnd(withCases(cases));
    const lines = sink.text.trimEnd().split('\n');
    assert.equal(lines.length, 1 + 1 + targets + 3);
    assert.equal(lines[1], 'target                   passed  failed  skipped  flaky   time');
    assert.equal(lines.at(-4), 'mx129999 (192.0.2.1:25)       1       0        0      0  12 ms');
  });

  test('leaves the table out for a single target', async () => {
    const text = await render(withCases([passed!, failed!]), false);
    assert.doesNotMatch(text, /^target /m);
  });

  test('marks a case that passed on a retry as flaky', async () => {
    const flaky = { ...passed!, flaky: true, attempts: 3 };
    const run = { ...withCases([flaky]), counts: { ...withCases([flaky]).counts, flaky: 1 } };
    const text = await render(run, false);
    assert.match(text, /^ {2}✓ greeting and EHLO \(12 ms\) \[flaky: passed on attempt 3\]$/m);
    assert.equal(text.trimEnd().split('\n').at(-1), '1 passed, 0 failed, 1 flaky');
    assert.match(await render(run, true), /\x1b\[33m\[flaky: passed on attempt 3\]\x1b\[39m/);
  });

  test("says a file's warning once for each file and target, not under every case", async () => {
    const warnings = ['TLS certificate verification is off (tls.verify: false)'];
    const mx1 = { host: '192.0.2.1', port: 25, name: 'mx1' };
    const cases = [
      { ...passed!, id: 'a', warnings },
      { ...failed!, id: 'b', warnings },
      { ...passed!, id: 'c', target: mx1, warnings },
    ];
    const text = await render(withCases(cases), false);
    assert.equal(text.match(/⚠ TLS certificate verification is off/g)?.length, 2, text);
    const lines = text.split('\n');
    const first = lines.findIndex((line) => line.includes('⚠'));
    assert.match(lines[first - 1]!, /✓ greeting and EHLO/, 'under the first case of the group');
  });

  test('says why a retried case ran again, under its line', async () => {
    const failure = (message: string) => ({ stepIndex: 0, pos: passed!.pos, kind: 'reset' as const, message });
    const earlierAttempts = [
      { startedAt: passed!.startedAt, durationMs: 3, failure: failure('step 1 (greeting): cannot start the session: connection reset') },
      { startedAt: passed!.startedAt, durationMs: 5, failure: failure('step 1 (greeting): the server closed the connection\x1b[2J') },
    ];
    const flaky = { ...passed!, flaky: true, attempts: 3, earlierAttempts };
    const lines = (await render(withCases([flaky]), false)).split('\n');
    const at = lines.findIndex((line) => line.includes('[flaky: passed on attempt 3]'));
    assert.deepEqual(lines.slice(at + 1, at + 3), [
      '    attempt 1: step 1 (greeting): cannot start the session: connection reset',
      '    attempt 2: step 1 (greeting): the server closed the connection\\x1B[2J',
    ]);
  });
});

describe('ConsoleReporter with DNS check steps', () => {
  test('matches the golden output: the verdict, reasons and facts of every check under its case', async () => {
    await assertGolden('console-checks.txt', await render(checkRun, false));
  });

  test('shows a warning of a passed check, in yellow, under the passed case', async () => {
    const lines = (await render({ ...checkRun, cases: [mtaStsCase], counts: { passed: 1, failed: 0, errors: 0, skipped: 0, total: 1 } }, true)).split('\n');
    const at = lines.findIndex((line) => line.includes('✓') && line.includes('policy'));
    assert.equal(lines[at + 1], '    \x1b[33m⚠ mta-sts: warn\x1b[39m');
    assert.equal(lines[at + 2], '      \x1b[33mmax_age is 3600 seconds, under a day\x1b[39m');
    assert.equal(lines[at + 3], '      \x1b[2mrecord id=20260101T000000\x1b[22m');
  });

  test('cuts TLSA data to 16 hex digits', async () => {
    const text = await render(checkRun, false);
    assert.match(text, / 3 1 1 0123456789abcdef… matched no certificate/);
    assert.doesNotMatch(text, /0123456789abcdef0/);
  });
});
