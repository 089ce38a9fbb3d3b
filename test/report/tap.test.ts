import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Parser, type FinalResults, type Result } from 'tap-parser';
import { TapReporter, escapeDescription } from '../../src/report/tap.js';
import { memorySink } from '../../src/report/sink.js';
import type { RunResult } from '../../src/engine/results.js';
import { hostileLines, runResult } from './fixtures/run.js';
import { replay, runInfo } from './fixtures/replay.js';
import { assertGolden } from './fixtures/golden.js';

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
    await assertGolden('tap.txt', await render(runResult));
  });

  test('parses in strict mode with only the expected failures', async () => {
    const tap = await render(runResult);
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
    assert.equal(assertSubtestsClosed(await render(runResult)), 4);
  });

  test('writes one point per step, skipped steps with their reason', async () => {
    const { children } = parse(await render(runResult));
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
    const { children, top } = parse(await render(runResult));
    const hostileStep = children[3]![1]!;
    assert.equal(hostileStep.name, 'send: NOOP # not a directive \\ really');
    const got = (hostileStep.diag as { got: string[] }).got;
    const wire = hostileLines.map((line, i) => `500${i < hostileLines.length - 1 ? '-' : ' '}${line}`);
    assert.deepEqual(got, wire);
    assert.equal((top[4]!.diag as { target: string }).target, '127.0.0.1:2525');
  });

  test('keeps a refused case valid: skipped step points, then a failing point', async () => {
    const { children, top } = parse(await render(runResult));
    assert.deepEqual(children[2]!.map((a) => [a.ok, a.skip]), [[true, 'not run: connection refused'], [true, 'not run: connection refused'], [true, 'not run: connection refused']]);
    assert.deepEqual(top[3]!.diag, {
      message: 'step 1 (greeting): connection refused by 127.0.0.1:2626',
      at: 'scenarios/down.yaml:5:7',
      target: '127.0.0.1:2626',
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
    reporter.onBegin(runInfo(runResult));
    reporter.onCaseEnd(runResult.cases[0]!);
    await reporter.onEnd({ ...runResult, cases: [runResult.cases[0]!] });
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
