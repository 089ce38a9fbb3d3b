import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Parser, type FinalResults, type Result } from 'tap-parser';
import { TapReporter, escapeDescription } from '../../src/report/tap.js';
import { memorySink } from '../../src/report/sink.js';
import type { RunResult } from '../../src/engine/results.js';
import { hostileLines, runResult } from './fixtures/run.js';
import { replay, runInfo } from './fixtures/replay.js';
import { assertGolden } from './fixtures/golden.js';
import { MX, TLSA_DATA, checkRun } from './fixtures/check-run.js';

/** The fixture with every case on one target: the layout without target subtests. */
const oneTarget: RunResult = {
  ...runResult,
  cases: runResult.cases.map((c) => ({ ...c, target: runResult.cases[0]!.target })),
};

async function render(run: RunResult): Promise<string> {
  const sink = memorySink();
  await replay(new TapReporter(sink), run);
  assert.equal(sink.closed, true, 'onEnd closes the sink');
  return sink.text;
}

interface Parsed {
  results: FinalResults;
  top: Result[];
  children: Result[][];
  extra: string[];
}

function parse(tap: string): Parsed {
  let results: FinalResults | undefined;
  const parsed: Omit<Parsed, 'results'> = { top: [], children: [], extra: [] };
  const parser = new Parser({ strict: true }, (r) => (results = r));
  parser.on('assert', (a: Result) => parsed.top.push(a));
  parser.on('child', (child: Parser) => {
    const asserts: Result[] = [];
    parsed.children.push(asserts);
    child.on('assert', (a: Result) => asserts.push(a));
  });
  parser.on('extra', (line: string) => parsed.extra.push(line));
  parser.end(tap);
  assert.ok(results, 'the parser completed');
  return { results, ...parsed };
}

/** tap-parser does not check it: each `# Subtest: X` must be closed by a point at its level described X. */
function assertSubtestsClosed(tap: string): number {
  const lines = tap.split('\n');
  let checked = 0;
  lines.forEach((line, i) => {
    const opened = /^( *)# Subtest: (.*)$/.exec(line);
    if (!opened) return;
    const [, indent, name] = opened;
    const closing = lines.slice(i + 1).find((l) => new RegExp(`^${indent}(not )?ok \\d+`).test(l));
    assert.ok(closing, `subtest "${name}" is closed`);
    assert.equal(/^ *(?:not )?ok \d+ - (.*?)(?: # (?:SKIP|TODO)\b.*)?$/.exec(closing)?.[1], name);
    checked++;
  });
  return checked;
}

describe('TapReporter', () => {
  test('matches the golden output', async () => {
    await assertGolden('tap.txt', await render(oneTarget));
  });

  test('parses in strict mode with only the expected failures', async () => {
    const tap = await render(oneTarget);
    const { results, top, extra } = parse(tap);
    assert.deepEqual(extra, []);
    assert.equal(results.plan.end, runResult.cases.length);
    assert.equal(results.count, 5);
    assert.equal(results.fail, 3);
    assert.equal(results.skip, 1);
    assert.deepEqual(
      results.failures.map((f) => ('tapError' in f && f.tapError) || f.name),
      ['unknown recipient is rejected', 'server is unreachable', 'odd \\ names # are "escaped" and one line'],
    );
    assert.deepEqual(
      top.map((a) => [a.id, a.ok]),
      [[1, true], [2, false], [3, true], [4, false], [5, false]],
    );
  });

  test('closes every subtest with a point of the same description', async () => {
    assert.equal(assertSubtestsClosed(await render(oneTarget)), 4);
  });

  test('writes one point per step, skipped steps with their reason', async () => {
    const { children } = parse(await render(oneTarget));
    const failedCase = children[1]!;
    assert.deepEqual(
      failedCase.map((a) => [a.id, a.ok, a.name, a.skip]),
      [
        [1, true, 'greeting', false],
        [2, true, 'send: EHLO client.test', false],
        [3, true, 'send: MAIL FROM:<alice@example.test>', false],
        [4, false, 'send: RCPT TO:<nobody@example.test>', false],
        [5, true, 'data (2 lines)', 'not run: an earlier step failed'],
        [6, true, 'send: QUIT', 'not run: an earlier step failed'],
      ],
    );
    // tap-parser moves duration_ms out of the diagnostics into `time`.
    assert.equal(failedCase[3]!.time, 5);
    assert.deepEqual(failedCase[3]!.diag, {
      message: runResult.cases[1]!.failure!.message,
      at: 'scenarios/basic.yaml:17:7',
      sent: 'RCPT TO:<nobody@example.test>',
      expected: '250',
      got: ['550 5.1.1 <nobody@example.test>: Recipient address rejected'],
    });
  });

  test('keeps hostile reply text intact in the YAML diagnostics', async () => {
    const { children, top } = parse(await render(oneTarget));
    const hostileStep = children[3]![1]!;
    assert.equal(hostileStep.name, 'send: NOOP # not a directive \\ really');
    const got = (hostileStep.diag as { got: string[] }).got;
    const wire = hostileLines.map((line, i) => `500${i < hostileLines.length - 1 ? '-' : ' '}${line}`);
    assert.deepEqual(got, wire);
    assert.equal((top[4]!.diag as { target: string }).target, '127.0.0.1:2525');
  });

  test('keeps a refused case valid: skipped step points, then a failing point', async () => {
    const { children, top } = parse(await render(oneTarget));
    assert.deepEqual(children[2]!.map((a) => [a.ok, a.skip]), [[true, 'not run: connection refused'], [true, 'not run: connection refused'], [true, 'not run: connection refused']]);
    assert.deepEqual(top[3]!.diag, {
      message: 'step 1 (greeting): connection refused by 127.0.0.1:2626',
      at: 'scenarios/down.yaml:5:7',
      target: '127.0.0.1:2525',
    });
    assert.equal(top[3]!.time, 1);
  });

  test('a case with no steps is an empty but valid subtest', async () => {
    const errored = { ...runResult.cases[3]!, steps: [] };
    const run = { ...runResult, cases: [errored], counts: { passed: 0, failed: 0, errors: 1, skipped: 0, total: 1 } };
    const tap = await render(run);
    assert.match(tap, /^# Subtest: server is unreachable\n {4}1\.\.0\nnot ok 1 - server is unreachable$/m);
    const { results } = parse(tap);
    assert.equal(results.count, 1);
    assert.deepEqual(results.failures.map((f) => f.name), ['server is unreachable']);
  });

  test('announced cases that never ran still fill the plan', async () => {
    const sink = memorySink();
    const reporter = new TapReporter(sink);
    reporter.onBegin(runInfo(oneTarget));
    reporter.onCaseEnd(oneTarget.cases[0]!);
    await reporter.onEnd({ ...oneTarget, cases: [oneTarget.cases[0]!] });
    const { results } = parse(sink.text);
    assert.equal(results.count, 5);
    assert.equal(results.ok, true);
    assert.equal(results.skip, 4);
  });

  test('writes a trailing plan when no onBegin came', async () => {
    const sink = memorySink();
    const reporter = new TapReporter(sink);
    reporter.onCaseEnd(runResult.cases[0]!);
    await reporter.onEnd({ ...runResult, cases: [runResult.cases[0]!] });
    assert.match(sink.text, /^TAP version 14\n/);
    assert.match(sink.text, /\n1\.\.1\n$/);
    assert.equal(parse(sink.text).results.ok, true);
  });

  test('escapes backslash before hash and flattens line breaks', () => {
    assert.equal(escapeDescription('a \\# b # c'), 'a \\\\\\# b \\# c');
    assert.equal(escapeDescription('one\r\ntwo\nthree\rfour'), 'one two three four');
    assert.equal(escapeDescription('bell\x07'), 'bell\\\\x07');
  });
});

describe('TapReporter with several targets', () => {
  const mx1 = { host: '192.0.2.1', port: 25, name: 'mx1' };
  const [passed, failed, skipped, errored, hostile] = runResult.cases;
  const flaky = { ...passed!, id: 'flaky@mx1', target: mx1, flaky: true, attempts: 2 };
  /** Plan order interleaves the targets; the report groups them, first appearance first. */
  const fleet: RunResult = { ...runResult, cases: [passed!, flaky, failed!, errored!, skipped!, hostile!] };

  test('matches the golden output', async () => {
    await assertGolden('tap-targets.txt', await render(fleet));
  });

  test('has one top-level subtest per target, each holding its cases, valid in strict mode', async () => {
    const tap = await render(fleet);
    const { results, top, extra } = parse(tap);
    assert.deepEqual(extra, []);
    assert.equal(results.plan.end, 3);
    assert.deepEqual(
      top.map((a) => [a.id, a.ok, a.name]),
      [[1, false, '127.0.0.1:2525'], [2, true, 'mx1 (192.0.2.1:25)'], [3, false, '127.0.0.1:2626']],
    );
    const topSubtests = tap.split('\n').filter((line) => line.startsWith('# Subtest: '));
    assert.deepEqual(topSubtests, ['# Subtest: 127.0.0.1:2525', '# Subtest: mx1 (192.0.2.1:25)', '# Subtest: 127.0.0.1:2626']);
    const cases = tap.split('\n').filter((line) => /^ {4}(not )?ok \d+ - /.test(line));
    assert.deepEqual(cases, [
      '    ok 1 - greeting and EHLO',
      '    not ok 2 - unknown recipient is rejected',
      '    ok 3 - STARTTLS is offered # SKIP not run',
      '    not ok 4 - odd \\\\ names \\# are "escaped" and one line',
      '    ok 1 - greeting and EHLO',
      '    not ok 1 - server is unreachable',
    ]);
    assert.equal(assertSubtestsClosed(tap), 3 + 4 + 1);
  });

  test('writes in plan order whatever order the cases end in', async () => {
    const sink = memorySink();
    const reporter = new TapReporter(sink);
    reporter.onBegin(runInfo(fleet));
    for (const item of [...fleet.cases].reverse()) reporter.onCaseEnd(item);
    await reporter.onEnd(fleet);
    assert.equal(sink.text, await render(fleet));
  });

  test('streams each target once its cases are done', () => {
    const sink = memorySink();
    const reporter = new TapReporter(sink);
    reporter.onBegin(runInfo(fleet));
    reporter.onCaseEnd(passed!);
    reporter.onCaseEnd(flaky);
    assert.doesNotMatch(sink.text, /^ok \d/m, 'no target is complete yet');
    reporter.onCaseEnd(failed!);
    reporter.onCaseEnd(skipped!);
    reporter.onCaseEnd(hostile!);
    assert.match(sink.text, /^not ok 1 - 127\.0\.0\.1:2525$/m);
    assert.match(sink.text, /^ok 2 - mx1 \(192\.0\.2\.1:25\)$/m, 'the next target had already ended, held back until now');
    assert.doesNotMatch(sink.text, /2626/, 'the last target waits for its case');
  });

  test('fills a target with cases that never ran', async () => {
    const sink = memorySink();
    const reporter = new TapReporter(sink);
    reporter.onBegin(runInfo(fleet));
    reporter.onCaseEnd(passed!);
    await reporter.onEnd({ ...fleet, cases: [passed!] });
    const { results, top } = parse(sink.text);
    assert.equal(results.ok, true);
    assert.deepEqual(top.map((a) => a.ok), [true, true, true]);
    assert.equal(assertSubtestsClosed(sink.text), 3 + 1);
  });

  test('records a flaky case in the diagnostics of its point, not as a directive', async () => {
    const tap = await render(fleet);
    assert.match(tap, /^ {4}ok 1 - greeting and EHLO\n {6}---\n {6}flaky: true\n {6}attempts: 2\n {6}\.\.\.$/m);
    assert.doesNotMatch(tap, /# flaky/i);
  });

  test('lists why a retried case ran again', async () => {
    const earlierAttempts = [{ startedAt: passed!.startedAt, durationMs: 4, failure: { stepIndex: 0, pos: passed!.pos, kind: 'reset' as const, message: 'step 1 (greeting): connection reset' } }];
    const retried = { ...flaky, earlierAttempts };
    const tap = await render({ ...runResult, cases: [retried, { ...errored!, attempts: 2, earlierAttempts }] });
    assert.match(tap, /^ {6}flaky: true\n {6}attempts: 2\n {6}retried_after:\n {8}- "step 1 \(greeting\): connection reset"\n {6}\.\.\.$/m);
    assert.match(tap, /^ {6}duration_ms: 1\n {6}attempts: 2\n {6}retried_after:\n {8}- "step 1 \(greeting\): connection reset"\n {6}\.\.\.$/m);
  });
});

describe('TapReporter with DNS check steps', () => {
  test('matches the golden output', async () => {
    await assertGolden('tap-checks.txt', await render(checkRun));
  });

  test('gives every check step its verdict and lines in the YAML diagnostics, passed or not; a warning is also a comment', async () => {
    // On one target, each case is a subtest of the top level, its steps the points the parser reports as its children.
    const tap = await render({ ...checkRun, cases: checkRun.cases.map((item) => ({ ...item, target: MX })) });
    const { results, children } = parse(tap);
    assert.equal(results.ok, false);
    const checkPoints = children.flat().filter((point) => point.diag && 'check_verdict' in point.diag);
    assert.deepEqual(
      checkPoints.map((point) => [point.name, point.ok, point.diag!['check_verdict']]),
      [
        ['fcrdns', true, 'pass'],
        ['fcrdns', false, 'error'],
        ['dane', false, 'fail'],
        ['mta_sts', true, 'warn'],
        ['tls_rpt', true, 'pass'],
        ['dnsbl', false, 'fail'],
      ],
    );
    assert.deepEqual(checkPoints[4]!.diag!['check'], ['tls-rpt: pass', '_smtp._tls.example.test: rua mailto:tlsrpt@example.test']);
    assert.ok((checkPoints[2]!.diag!['check'] as string[]).includes('TLSA _25._tcp.mx.example.test (NOT authenticated): 3 1 1 0123456789abcdef… matched no certificate of the chain (2 certificates)'));
    assert.ok(!tap.includes(TLSA_DATA), 'hex data cut');
    assert.match(tap, /^# warning: mta-sts: max_age is 3600 seconds, under a day$/m);
  });
});
