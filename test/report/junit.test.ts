import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SaxesParser } from 'saxes';
import { JUnitReporter, buildJUnit, cdataSafe, classnameOf, outcomeOf, xmlSafe } from '../../src/report/junit.js';
import { memorySink } from '../../src/report/sink.js';
import type { CaseResult, RunResult } from '../../src/engine/results.js';
import type { SmtpErrorKind } from '../../src/smtp/types.js';
import { runResult } from './fixtures/run.js';
import { replay } from './fixtures/replay.js';
import { assertGolden } from './fixtures/golden.js';
import { TLSA_DATA, checkRun } from './fixtures/check-run.js';

interface Element {
  name: string;
  attributes: Record<string, string>;
  children: Element[];
  /** Text and CDATA content, joined. */
  text: string;
}

/** Parses with a strict XML parser (throws on anything not well-formed) into a small tree. */
function parseXml(xml: string): Element {
  const parser = new SaxesParser();
  const stack: Element[] = [{ name: '#document', attributes: {}, children: [], text: '' }];
  parser.on('opentag', (tag) => {
    const element: Element = { name: tag.name, attributes: { ...(tag.attributes as Record<string, string>) }, children: [], text: '' };
    stack.at(-1)!.children.push(element);
    stack.push(element);
  });
  parser.on('closetag', () => void stack.pop());
  parser.on('text', (text) => (stack.at(-1)!.text += text));
  parser.on('cdata', (text) => (stack.at(-1)!.text += text));
  parser.write(xml).close();
  const [root] = stack[0]!.children;
  assert.ok(root);
  return root;
}

const all = (element: Element, name: string): Element[] => [
  ...element.children.filter((c) => c.name === name),
  ...element.children.flatMap((c) => all(c, name)),
];
const child = (element: Element, name: string): Element | undefined => element.children.find((c) => c.name === name);

async function render(run: RunResult, suiteName?: string): Promise<string> {
  const sink = memorySink();
  await replay(new JUnitReporter(sink, suiteName === undefined ? {} : { suiteName }), run);
  assert.equal(sink.closed, true, 'onEnd closes the sink');
  return sink.text;
}

describe('JUnitReporter', () => {
  test('matches the golden output', async () => {
    await assertGolden('junit.xml', await render(runResult));
  });

  test('is well-formed with one suite per file and target, and counts that add up', async () => {
    const root = parseXml(await render(runResult));
    assert.equal(root.name, 'testsuites');
    assert.deepEqual(
      { ...root.attributes },
      { name: 'smtpspec', tests: '5', failures: '2', errors: '1', skipped: '1' },
    );
    const suites = all(root, 'testsuite');
    assert.deepEqual(
      suites.map((s) => [s.attributes['name'], s.attributes['tests'], s.attributes['timestamp'], s.attributes['time']]),
      [
        ['127.0.0.1:2525 · scenarios/basic.yaml', '3', '2025-01-02T03:04:05', '0.042'],
        ['127.0.0.1:2626 · scenarios/down.yaml', '1', '2025-01-02T03:04:05', '0.001'],
        ['127.0.0.1:2525 · scenarios/hostile.yaml', '1', '2025-01-02T03:04:05', '0.008'],
      ],
    );
    const properties = all(suites[1]!, 'property').map((p) => [p.attributes['name'], p.attributes['value']]);
    assert.deepEqual(properties, [['target', '127.0.0.1:2626'], ['file', 'scenarios/down.yaml']]);
  });

  test('describes every case: classname, name, file, line, time, outcome and transcript', async () => {
    const cases = all(parseXml(await render(runResult)), 'testcase');
    assert.deepEqual(
      cases.map((c) => [c.attributes['classname'], c.attributes['name'], c.attributes['file'], c.attributes['line'], c.attributes['time']]),
      [
        ['scenarios.basic', 'greeting and EHLO', 'scenarios/basic.yaml', '3', '0.012'],
        ['scenarios.basic', 'unknown recipient is rejected', 'scenarios/basic.yaml', '10', '0.03'],
        ['scenarios.basic', 'STARTTLS is offered', 'scenarios/basic.yaml', '25', '0'],
        ['scenarios.down', 'server is unreachable', 'scenarios/down.yaml', '3', '0.001'],
        ['scenarios.hostile', 'odd \\ names # are "escaped"\nand one line', 'scenarios/hostile.yaml', '3', '0.008'],
      ],
    );
    assert.deepEqual(cases.map((c) => c.children.map((e) => e.name)), [
      ['system-out'],
      ['failure', 'system-out'],
      ['skipped'],
      ['error', 'system-out'],
      ['failure', 'system-out'],
    ]);
    const failure = child(cases[1]!, 'failure')!;
    assert.equal(failure.attributes['type'], 'ExpectationFailed');
    assert.equal(failure.attributes['message'], runResult.cases[1]!.failure!.message);
    assert.deepEqual(failure.text.split('\n').slice(0, 1), ['scenarios/basic.yaml:17:7']);
    assert.match(failure.text, /^expected: 250$/m);
    assert.match(failure.text, /^got: 550 5\.1\.1 <nobody@example\.test>: Recipient address rejected$/m);
    const error = child(cases[3]!, 'error')!;
    assert.equal(error.attributes['type'], 'ConnectionError');
    assert.equal(error.text.split('\n')[0], 'scenarios/down.yaml:5:7');
    const transcript = child(cases[0]!, 'system-out')!.text.split('\n');
    assert.equal(transcript[0], '[+0.000s] * connected to 127.0.0.1:2525');
    assert.equal(transcript[2], '[+0.003s] C: EHLO client.test');
    assert.equal(transcript.length, runResult.cases[0]!.transcript.length + 1);
  });

  test('shows controls in reply text as escapes, one line per transcript entry, every "]]>" intact', async () => {
    const hostile = all(parseXml(await render(runResult)), 'testcase')[4]!;
    const out = child(hostile, 'system-out')!.text;
    assert.equal(out.split('\n').length, runResult.cases[4]!.transcript.length + 1);
    assert.match(out, /500-5\.5\.2 bad: "quoted" 'single' # hash \\ back \]\]> <tag> & amp\n/);
    assert.match(out, /500 end \]\]> again \\u\{202E\}reversed\n/);
    assert.match(out, /\\x1B\[31mred\\x1B\[0m NUL\\x00 BEL\\x07 DEL\\x7F C1\\x85\\x9B lone\\u\{D800\} nonchar\\u\{FFFE\}\n/);
    assert.match(out, /500-line\\nbreak and cr\\r here\\ttab\n/);
    const failure = child(hostile, 'failure')!;
    assert.equal(failure.text.split('\n')[0], 'scenarios/hostile.yaml:6:7');
    assert.match(failure.text, /got: 500-5\.5\.2 bad: .* \]\]> <tag> & amp\n/);
    assert.match(failure.text, /\n {5}500 end \]\]> again/);
    assert.match(failure.attributes['message']!, /# hash \\ back \]\]> <tag> & amp/);
  });

  test('strips characters XML 1.0 forbids from attributes', async () => {
    const [, failed] = runResult.cases;
    const failure = { ...failed!.failure!, message: 'got \x1b[1mbold\x00 \uD800 \uFFFF end' };
    const odd = { ...failed!, caseName: 'nul\x00 esc\x1b lone\uDC00 tab\t ok', failure };
    const testCase = all(parseXml(buildJUnit({ ...runResult, cases: [odd] })), 'testcase')[0]!;
    assert.equal(testCase.attributes['name'], 'nul esc lone tab\t ok');
    assert.equal(child(testCase, 'failure')!.attributes['message'], 'got [1mbold   end');
  });

  test('names the target in each case of a file run against several targets, not a number', () => {
    const [first, second] = runResult.cases;
    const mx1 = { kind: 'tcp' as const, host: '192.0.2.1', port: 25, name: 'mx1' };
    const mx2 = { host: '192.0.2.2', port: 25, name: 'mx2' };
    const unnamed = { host: 'mx.example.test', port: 25 };
    const cases = [mx1, mx2, unnamed].flatMap((target) => [first!, second!].map((item) => ({ ...item, id: `${item.id}@${target.host}`, target })));
    const root = parseXml(buildJUnit({ ...runResult, cases: [...cases, runResult.cases[3]!] }));
    const names = all(root, 'testcase').map((c) => `${c.attributes['classname']} / ${c.attributes['name']}`);
    assert.deepEqual(names, [
      'scenarios.basic / greeting and EHLO @ mx1',
      'scenarios.basic / unknown recipient is rejected @ mx1',
      'scenarios.basic / greeting and EHLO @ mx2',
      'scenarios.basic / unknown recipient is rejected @ mx2',
      'scenarios.basic / greeting and EHLO @ mx.example.test:25',
      'scenarios.basic / unknown recipient is rejected @ mx.example.test:25',
      // A file run against one target keeps its plain names.
      'scenarios.down / server is unreachable',
    ]);
    assert.deepEqual(all(root, 'testsuite').map((s) => s.attributes['name']), [
      'mx1 (192.0.2.1:25) · scenarios/basic.yaml',
      'mx2 (192.0.2.2:25) · scenarios/basic.yaml',
      'mx.example.test:25 · scenarios/basic.yaml',
      '127.0.0.1:2626 · scenarios/down.yaml',
    ]);
  });

  test('still makes (classname, name) unique when a name repeats on one target: CI tools drop duplicates', () => {
    const [first, second] = runResult.cases;
    const literal = { ...second!, caseName: 'greeting and EHLO (2)' };
    const root = parseXml(buildJUnit({ ...runResult, cases: [first!, literal, first!] }));
    const names = all(root, 'testcase').map((c) => c.attributes['name']);
    assert.deepEqual(names, ['greeting and EHLO', 'greeting and EHLO (2)', 'greeting and EHLO (3)']);
  });

  test('gives <skipped> the reason a case or step did not run', () => {
    const skippedCase = { ...runResult.cases[2]!, skipReason: 'condition not met: ${starttls} == yes' };
    const caseLevel = all(parseXml(buildJUnit({ ...runResult, cases: [skippedCase] })), 'skipped');
    assert.deepEqual(caseLevel.map((e) => e.attributes['message']), ['condition not met: ${starttls} == yes']);
    const stepLevel = all(parseXml(buildJUnit({ ...runResult, cases: [runResult.cases[1]!] }, 'smtpspec', 'step')), 'skipped');
    assert.deepEqual(stepLevel.map((e) => e.attributes['message']), ['not run: an earlier step failed', 'not run: an earlier step failed']);
    const bare = all(parseXml(buildJUnit({ ...runResult, cases: [runResult.cases[2]!] })), 'skipped');
    assert.deepEqual(bare.map((e) => ({ ...e.attributes })), [{}], 'no reason known, no message');
  });

  test('maps each failure kind to an element and type', () => {
    const table: [CaseResult['status'], 'expectation' | SmtpErrorKind | undefined, string][] = [
      ['failed', 'expectation', 'failure ExpectationFailed'],
      ['failed', 'protocol', 'failure ProtocolError'],
      ['error', 'limit', 'failure ProtocolError'],
      ['error', 'timeout', 'error TimeoutError'],
      ['error', 'connect-timeout', 'error TimeoutError'],
      ['error', 'refused', 'error ConnectionError'],
      ['error', 'dns', 'error ConnectionError'],
      ['error', 'reset', 'error ConnectionError'],
      ['error', 'closed', 'error ConnectionError'],
      ['error', 'network', 'error ConnectionError'],
      ['failed', undefined, 'failure ExpectationFailed'],
      ['error', undefined, 'error ConnectionError'],
    ];
    for (const [status, kind, want] of table) {
      const failure = kind && { stepIndex: 0, pos: { file: 'f', line: 1, col: 1 }, kind, message: 'm' };
      const outcome = outcomeOf(failure ? { status, failure } : { status });
      assert.equal(`${outcome.element} ${outcome.type}`, want, `${status} ${kind}`);
    }
  });

  test('uses the suite name and a UTC timestamp whatever the local zone', async () => {
    const root = parseXml(await render({ ...runResult, cases: [{ ...runResult.cases[0]!, startedAt: '2025-06-30T23:59:58.900+02:00' }] }, 'mail checks'));
    assert.equal(root.attributes['name'], 'mail checks');
    assert.equal(all(root, 'testsuite')[0]!.attributes['timestamp'], '2025-06-30T21:59:58');
  });

  test('indents a case alike whether its suite is alone in the document or one of several', () => {
    const only = buildJUnit({ ...runResult, cases: [runResult.cases[0]!] });
    const several = buildJUnit(runResult);
    const testcase = (xml: string): string => xml.slice(xml.indexOf('    <testcase '), xml.indexOf('</testcase>') + '</testcase>'.length);
    assert.match(testcase(only), /^ {4}<testcase [^\n]*>\n {6}<system-out>/);
    assert.equal(testcase(only), testcase(several));
    assert.match(only, /^<\?xml [^\n]*\?>\n<testsuites [^\n]*>\n {2}<testsuite [^\n]*>\n {4}<properties>\n/);
    assert.match(only, /\n {4}<\/testcase>\n {2}<\/testsuite>\n<\/testsuites>\n$/);
  });

  test('numbers a name repeated thousands of times in turn, past names already taken', () => {
    const base = runResult.cases[0]!;
    const names = ['same', 'same', 'same (3)', ...Array<string>(3000).fill('same'), 'same (3)'];
    const cases = names.map((caseName, i) => ({ ...base, id: `c${i}`, caseName }));
    const root = parseXml(buildJUnit({ ...runResult, cases }));
    const written = all(root, 'testcase').map((c) => c.attributes['name']);
    const expected = ['same', 'same (2)', 'same (3)', ...Array.from({ length: 3000 }, (_, i) => `same (${i + 4})`), 'same (3) (2)'];
    assert.deepEqual(written, expected);
  });

  test('writes an empty but valid document for an empty run', async () => {
    const root = parseXml(buildJUnit({ ...runResult, cases: [], counts: { passed: 0, failed: 0, errors: 0, skipped: 0, total: 0 } }));
    assert.equal(root.attributes['tests'], '0');
    assert.equal(all(root, 'testsuite').length, 0);
  });
});

describe('JUnit helpers', () => {
  test('classnameOf turns a path into dotted packages without the extension', () => {
    assert.equal(classnameOf('scenarios/basic.yaml'), 'scenarios.basic');
    assert.equal(classnameOf('./a/b.c.yml'), 'a.b.c');
    assert.equal(classnameOf('..\\up\\x.yaml'), '_.up.x');
    assert.equal(classnameOf('/abs/dir/file'), 'abs.dir.file');
    assert.equal(classnameOf('.hidden'), '.hidden');
  });

  test('xmlSafe removes only what XML 1.0 forbids', () => {
    assert.equal(xmlSafe('a\x00b\x1bc\td\ne\rf\uFFFEg\uD800h\uDC00i'), 'abc\td\ne\rfghi');
    assert.equal(xmlSafe('pair \uD83D\uDE00 kept'), 'pair \uD83D\uDE00 kept');
  });

  test('cdataSafe splits every "]]>" after the first', () => {
    assert.equal(cdataSafe('a]]>b]]>c]]>'), 'a]]>b]]]]><![CDATA[>c]]]]><![CDATA[>');
    assert.equal(cdataSafe('no end marker'), 'no end marker');
  });
});

describe('JUnitReporter at fleet scale', () => {
  const [passed, failed] = runResult.cases;
  const mx1 = { host: '192.0.2.1', port: 25, name: 'mx1' };

  test('names each suite target first, with target and file properties', () => {
    const root = parseXml(buildJUnit({ ...runResult, cases: [{ ...passed!, target: mx1 }] }));
    const suite = all(root, 'testsuite')[0]!;
    assert.equal(suite.attributes['name'], 'mx1 (192.0.2.1:25) · scenarios/basic.yaml');
    const properties = child(suite, 'properties')!.children.map((p) => [p.attributes['name'], p.attributes['value']]);
    assert.deepEqual(properties, [['target', 'mx1 (192.0.2.1:25)'], ['file', 'scenarios/basic.yaml']]);
  });

  test('matches the golden output with a testcase per step', async () => {
    const sink = memorySink();
    await replay(new JUnitReporter(sink, { granularity: 'step' }), runResult);
    await assertGolden('junit-steps.xml', sink.text);
  });

  test('writes a testcase per step, each outcome on its own step', () => {
    const root = parseXml(buildJUnit(runResult, 'smtpspec', 'step'));
    const steps = runResult.cases.reduce((sum, c) => sum + c.steps.length, 0);
    assert.equal(steps, 16);
    assert.deepEqual({ ...root.attributes }, { name: 'smtpspec', tests: '16', failures: '2', errors: '1', skipped: '6' });
    const cases = all(root, 'testcase');
    const keys = cases.map((c) => `${c.attributes['classname']}\n${c.attributes['name']}`);
    assert.equal(new Set(keys).size, keys.length, '(classname, name) is unique');
    const outcome = (c: Element): string => c.children.map((e) => e.name).filter((n) => n !== 'system-out' && n !== 'properties').join() || 'passed';
    const rejected = cases.filter((c) => c.attributes['name']!.startsWith('unknown recipient is rejected › '));
    assert.deepEqual(rejected.map((c) => [c.attributes['name'], outcome(c), c.attributes['time']]), [
      ['unknown recipient is rejected › 1. greeting', 'passed', '0.003'],
      ['unknown recipient is rejected › 2. send: EHLO client.test', 'passed', '0.002'],
      ['unknown recipient is rejected › 3. send: MAIL FROM:<alice@example.test>', 'passed', '0.002'],
      ['unknown recipient is rejected › 4. send: RCPT TO:<nobody@example.test>', 'failure', '0.005'],
      ['unknown recipient is rejected › 5. data (2 lines)', 'skipped', '0'],
      ['unknown recipient is rejected › 6. send: QUIT', 'skipped', '0'],
    ]);
    assert.equal(child(rejected[3]!, 'failure')!.attributes['message'], failed!.failure!.message);
    assert.deepEqual(rejected.map((c) => child(c, 'system-out') !== undefined), [false, false, false, false, false, true], 'the transcript goes with the last step');
    assert.match(child(rejected[5]!, 'system-out')!.text, /C: RCPT TO:<nobody@example\.test>/);
    const refused = cases.filter((c) => c.attributes['name']!.startsWith('server is unreachable › '));
    assert.deepEqual(refused.map(outcome), ['error', 'skipped', 'skipped'], 'a refused connection fails the step it names');
    assert.equal(child(refused[0]!, 'error')!.attributes['type'], 'ConnectionError');
    assert.equal(rejected[0]!.attributes['classname'], 'scenarios.basic');
  });

  test('keeps step names unique when a case name repeats', () => {
    const root = parseXml(buildJUnit({ ...runResult, cases: [passed!, { ...passed!, id: 'again' }] }, 'smtpspec', 'step'));
    const names = all(root, 'testcase').map((c) => c.attributes['name']);
    assert.equal(names.length, 6);
    assert.equal(new Set(names).size, 6);
    assert.equal(names[3], 'greeting and EHLO › 1. greeting (2)');
  });

  test('marks a flaky case with properties and still passes it', () => {
    const failure = { stepIndex: 0, pos: passed!.pos, kind: 'reset' as const, message: 'step 1 (greeting): connection reset' };
    const flaky = { ...passed!, flaky: true, attempts: 2, earlierAttempts: [{ startedAt: passed!.startedAt, durationMs: 4, failure }] };
    for (const granularity of ['case', 'step'] as const) {
      const root = parseXml(buildJUnit({ ...runResult, cases: [flaky] }, 'smtpspec', granularity));
      const last = all(root, 'testcase').at(-1)!;
      const properties = Object.fromEntries(all(last, 'property').map((p) => [p.attributes['name'], p.attributes['value']]));
      assert.equal(properties['flaky'], 'true', granularity);
      assert.equal(properties['attempts'], '2', granularity);
      assert.equal(properties['attempt 1'], 'step 1 (greeting): connection reset', granularity);
      assert.equal(root.attributes['failures'], '0');
      assert.equal(root.attributes['errors'], '0');
    }
  });
});

describe('JUnitReporter with DNS check steps', () => {
  test('matches the golden output', async () => {
    const sink = memorySink();
    await replay(new JUnitReporter(sink), checkRun);
    await assertGolden('junit-checks.xml', sink.text);
  });

  test('a check_verdict property and the check lines per check step; the lines in the failure body; a warning in system-out', () => {
    const root = parseXml(buildJUnit(checkRun));
    const testcases = root.children.flatMap((suite) => suite.children.filter((child) => child.name === 'testcase'));
    const properties = (testcase: Element) => testcase.children.find((child) => child.name === 'properties')?.children.map((p) => [p.attributes['name'], p.attributes['value']]) ?? [];
    const verdicts = testcases.map((testcase) => properties(testcase).find(([name]) => name === 'step 2 check_verdict' || name === 'step 1 check_verdict')?.[1]);
    assert.deepEqual(verdicts, ['pass', 'error', 'fail', 'warn', 'pass', 'fail']);
    const dane = testcases[2]!;
    const failure = dane.children.find((child) => child.name === 'failure');
    assert.ok(failure?.text.includes(`3 1 1 ${TLSA_DATA} matched no certificate of the chain`), 'the whole hex data in the failure body');
    assert.ok(properties(dane).some(([name, value]) => name === 'step 2 check' && value === 'TLSA _25._tcp.mx.example.test (NOT authenticated): 1 1 1 ab12 unusable: usage 1 (PKIX, not for SMTP)'));
    const error = testcases[1]!.children.find((child) => child.name === 'error');
    assert.equal(error?.attributes['type'], 'CheckError');
    const out = testcases[3]!.children.find((child) => child.name === 'system-out');
    assert.match(out?.text ?? '', /^warning: mta-sts: max_age is 3600 seconds, under a day$/m);
  });

  test('with a testcase per step: the verdict property of the check step itself', () => {
    const root = parseXml(buildJUnit(checkRun, 'smtpspec', 'step'));
    const testcases = root.children.flatMap((suite) => suite.children.filter((child) => child.name === 'testcase'));
    const dnsbl = testcases.find((testcase) => testcase.attributes['name']?.endsWith('2. dnsbl'));
    const props = dnsbl?.children.find((child) => child.name === 'properties')?.children.map((p) => [p.attributes['name'], p.attributes['value']]);
    assert.deepEqual(props?.filter(([name]) => name === 'check_verdict'), [['check_verdict', 'fail']]);
    assert.ok(props?.some(([name, value]) => name === 'check' && value === 'zen.example.test: listed (127.0.0.2): spam source'));
  });
});
