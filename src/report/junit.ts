import { createRequire } from 'node:module';
import type { Builder, TestCase, TestSuite } from 'junit-report-builder';
import { formatPos } from '../errors.js';
import type { CaseResult, RunResult, StepResult } from '../engine/results.js';
import type { Reporter } from '../engine/events.js';
import type { Sink } from './sink.js';
import { isTcpTarget } from '../engine/target-label.js';
import { deliveryLines, formatTarget, printable, replyLines, toSeconds, transcriptLine } from './format.js';
import { groupBy } from '../group-by.js';
import { checkLines, checkWarnings } from './check-lines.js';

const builderRoot: Builder = createRequire(import.meta.url)('junit-report-builder');

export interface JUnitReporterOptions {
  /** The `name` of the root `<testsuites>`. Default `smtpspec`. */
  suiteName?: string;
  /** `case` (default): a testcase per case; `step`: a testcase per step, named `<case> › <n>. <step label>`. */
  granularity?: JUnitGranularity;
}

export type JUnitGranularity = 'case' | 'step';

type Outcome =
  | { element: 'failure'; type: 'ExpectationFailed' | 'ProtocolError' | 'TlsError' }
  | { element: 'error'; type: 'TimeoutError' | 'ConnectionError' | 'Interrupted' | 'InternalError' | 'MessageError' | 'MailboxError' | 'CheckError' };

/**
 * JUnit XML, written once at the end: a `testsuite` per (target, scenario file), a `testcase`
 * per case (or per step) with the case's transcript in `system-out`. When a file runs against
 * several targets, its testcase names end with the target's name: `greeting @ mx1`.
 */
export class JUnitReporter implements Reporter {
  private readonly options: Required<JUnitReporterOptions>;

  constructor(
    private readonly sink: Sink,
    options: JUnitReporterOptions = {},
  ) {
    this.options = { suiteName: options.suiteName ?? 'smtpspec', granularity: options.granularity ?? 'case' };
  }

  async onEnd(result: RunResult): Promise<void> {
    this.sink.write(buildJUnit(result, this.options.suiteName, this.options.granularity));
    await this.sink.close();
  }
}

/** The whole document as text, ending with a newline. */
export function buildJUnit(result: RunResult, suiteName = 'smtpspec', granularity: JUnitGranularity = 'case'): string {
  const builder = builderRoot.newBuilder().name(xmlSafe(suiteName));
  const names = new UniqueNames();
  const severalTargets = filesWithSeveralTargets(result.cases);
  const scratch = scratchElement();
  const suites = groupBySuite(result.cases);
  for (const cases of suites) {
    const first = cases[0]!;
    const suite = builder
      .testSuite()
      .name(xmlSafe(`${formatTarget(first.target)} · ${first.file}`))
      .timestamp(utcTimestamp(cases, result.startedAt))
      .time(toSeconds(cases.reduce((sum, c) => sum + c.durationMs, 0)))
      .property('target', xmlSafe(formatTarget(first.target)))
      .property('file', xmlSafe(first.file));
    for (const item of cases) {
      const name = severalTargets.has(item.file) ? `${item.caseName} @ ${targetName(item.target)}` : item.caseName;
      if (granularity === 'step' && item.steps.length > 0) addSteps(suite, item, name, names, scratch);
      else addCase(suite, item, name, names, scratch);
    }
    // Alone, a suite's text would be taken for the only content of `<testsuites>`: the writer indents its tree instead.
    if (suites.length > 1) writeNow(suite, scratch, SUITE_LEVEL);
  }
  return builder.build() + '\n';
}

function addCase(suite: TestSuite, item: CaseResult, name: string, names: UniqueNames, scratch: Element): void {
  const classname = xmlSafe(classnameOf(item.file));
  const testCase = suite
    .testCase()
    .className(classname)
    .name(names.claim(classname, xmlSafe(name)))
    .file(xmlSafe(item.file));
  withLine(testCase, item.pos.line).time(toSeconds(item.durationMs));
  if (item.status === 'skipped') skip(testCase, item.skipReason);
  if (item.status === 'failed' || item.status === 'error') addOutcome(testCase, item);
  addProperties(testCase, item);
  addTranscript(testCase, item);
  writeNow(testCase, scratch, TESTCASE_LEVEL);
}

/** A testcase per step; the case's own properties and transcript go with its last step. */
function addSteps(suite: TestSuite, item: CaseResult, name: string, names: UniqueNames, scratch: Element): void {
  const classname = xmlSafe(classnameOf(item.file));
  item.steps.forEach((step, i) => {
    const testCase = suite
      .testCase()
      .className(classname)
      .name(names.claim(classname, xmlSafe(`${name} › ${step.index + 1}. ${step.label}`)))
      .file(xmlSafe(item.file));
    withLine(testCase, step.pos.line).time(toSeconds(step.durationMs));
    addStepOutcome(testCase, item, step);
    addStepProperties(testCase, step);
    if (i === item.steps.length - 1) {
      addCaseProperties(testCase, item);
      addTranscript(testCase, item);
    }
    writeNow(testCase, scratch, TESTCASE_LEVEL);
  });
}

/** The case's failure belongs to the step it names, even when that step is marked skipped (never connected). */
function addStepOutcome(testCase: TestCase, item: CaseResult, step: StepResult): void {
  const failing = item.failure?.stepIndex === step.index && (item.status === 'failed' || item.status === 'error');
  if (failing) return addOutcome(testCase, item);
  if (step.status === 'skipped') return skip(testCase, step.message ?? item.skipReason);
  if (step.status === 'passed') return;
  const message = xmlSafe(step.message ?? `step ${step.status}`);
  const body = cdataSafe(xmlSafe(stepBody(step, step.message ?? `step ${step.status}`)));
  if (step.status === 'failed') testCase.failure(message, 'ExpectationFailed').stacktrace(body);
  else testCase.error(message, 'ConnectionError', body);
}

function addTranscript(testCase: TestCase, item: CaseResult): void {
  const notes = [
    ...(item.skipReason ? [`skipped: ${item.skipReason}`] : []),
    ...[...(item.warnings ?? []), ...checkWarnings(item)].map((warning) => `warning: ${warning}`),
  ];
  const transcript = [...notes, ...item.transcript.map((entry) => transcriptLine(entry))].map(printable).join('\n');
  if (transcript !== '') testCase.standardOutput(cdataSafe(xmlSafe(transcript + '\n')));
}

const propertyOf =
  (testCase: TestCase) =>
  (name: string, value: string | number): void =>
    void testCase.property(xmlSafe(name), xmlSafe(String(value)));

/** Per-step latencies, captured variables, warnings, TLS facts and retries, as testcase properties. */
function addProperties(testCase: TestCase, item: CaseResult): void {
  const property = propertyOf(testCase);
  for (const warning of item.warnings ?? []) property('warning', warning);
  for (const step of item.steps) {
    if (step.latencyMs !== undefined) property(`step ${step.index + 1} latency_ms`, step.latencyMs);
    for (const [name, value] of Object.entries(step.captures ?? {})) property(`capture ${name}`, value);
    addDelivery(property, step, `step ${step.index + 1} `);
    addCheck(property, step, `step ${step.index + 1} `);
  }
  addCaseFacts(testCase, item);
}

function addStepProperties(testCase: TestCase, step: StepResult): void {
  const property = propertyOf(testCase);
  if (step.latencyMs !== undefined) property('latency_ms', step.latencyMs);
  for (const [name, value] of Object.entries(step.captures ?? {})) property(`capture ${name}`, value);
  addDelivery(property, step, '');
  addCheck(property, step, '');
}

/** A mailbox step's finding: its lines, and the time the message took to arrive as a number. */
function addDelivery(property: (name: string, value: string | number) => void, step: StepResult, prefix: string): void {
  if (!step.delivery) return;
  for (const line of deliveryLines(step.delivery)) property(`${prefix}delivery`, line);
  const arrived = step.delivery.found?.arrivedAfterMs;
  if (arrived !== undefined) property(`${prefix}arrived_ms`, arrived);
}

/** A DNS check step's verdict as a property of its own, for a CI filter, then its lines (whole hex data). */
function addCheck(property: (name: string, value: string | number) => void, step: StepResult, prefix: string): void {
  if (!step.check) return;
  property(`${prefix}check_verdict`, step.check.verdict);
  for (const line of checkLines(step.check, { hex: 'whole' })) property(`${prefix}check`, line);
}

function addCaseProperties(testCase: TestCase, item: CaseResult): void {
  for (const warning of item.warnings ?? []) propertyOf(testCase)('warning', warning);
  addCaseFacts(testCase, item);
}

function addCaseFacts(testCase: TestCase, item: CaseResult): void {
  const property = propertyOf(testCase);
  if (item.flaky) property('flaky', 'true');
  if (item.attempts !== undefined) property('attempts', item.attempts);
  item.earlierAttempts?.forEach((attempt, i) => property(`attempt ${i + 1}`, attempt.failure.message));
  if (item.tls) {
    property('tls protocol', item.tls.protocol);
    property('tls cipher', item.tls.cipher);
    property('tls subject', item.tls.subject);
    property('tls issuer', item.tls.issuer);
    property('tls not_after', item.tls.validTo);
    property('tls verified', String(item.tls.verified));
  }
}

function addOutcome(testCase: TestCase, item: CaseResult): void {
  const outcome = outcomeOf(item);
  const message = xmlSafe(item.failure?.message ?? `case ${item.status}`);
  const body = cdataSafe(xmlSafe(failureBody(item)));
  if (outcome.element === 'failure') testCase.failure(message, outcome.type).stacktrace(body);
  else testCase.error(message, outcome.type, body);
}

/** Which element and type a failed case gets; the failure kind decides, the status only when it is missing. */
export function outcomeOf(item: Pick<CaseResult, 'status' | 'failure'>): Outcome {
  switch (item.failure?.kind) {
    case 'expectation':
      return { element: 'failure', type: 'ExpectationFailed' };
    case 'protocol':
    case 'limit':
      return { element: 'failure', type: 'ProtocolError' };
    case 'tls':
      return { element: 'failure', type: 'TlsError' };
    case 'timeout':
    case 'connect-timeout':
      return { element: 'error', type: 'TimeoutError' };
    case 'refused':
    case 'dns':
    case 'reset':
    case 'closed':
    case 'network':
      return { element: 'error', type: 'ConnectionError' };
    case 'interrupted':
      return { element: 'error', type: 'Interrupted' };
    case 'internal':
      return { element: 'error', type: 'InternalError' };
    case 'message':
      return { element: 'error', type: 'MessageError' };
    case 'mailbox':
      return { element: 'error', type: 'MailboxError' };
    case 'check':
      return { element: 'error', type: 'CheckError' };
    case undefined:
      return item.status === 'error'
        ? { element: 'error', type: 'ConnectionError' }
        : { element: 'failure', type: 'ExpectationFailed' };
  }
}

/** Starts with `file:line:col` of the failing step, so CI annotations can point at it. */
function failureBody(item: CaseResult): string {
  const failure = item.failure;
  const message = failure?.message ?? `case ${item.status}`;
  const step = failure && item.steps.find((s) => s.index === failure.stepIndex);
  if (step) return stepBody(step, message, failure.pos);
  return [formatPos(failure?.pos ?? item.pos), message].map(printable).join('\n');
}

function stepBody(step: StepResult, message: string, pos = step.pos): string {
  const lines = [formatPos(pos), message];
  if (step.sent !== undefined) lines.push(`sent: ${step.sent}`);
  if (step.expected !== undefined) lines.push(`expected: ${step.expected}`);
  if (step.reply) lines.push(...replyLines(step.reply).map((line, i) => (i === 0 ? 'got: ' : '     ') + line));
  if (step.check) lines.push(...checkLines(step.check, { hex: 'whole' }));
  // One line per item: line breaks and controls inside reply text become visible escapes.
  return lines.map(printable).join('\n');
}

/** The files run against more than one target, whose cases would otherwise share their names. */
function filesWithSeveralTargets(cases: CaseResult[]): Set<string> {
  const targets = new Map<string, Set<string>>();
  for (const item of cases) targets.set(item.file, (targets.get(item.file) ?? new Set()).add(formatTarget(item.target)));
  return new Set([...targets].filter(([, of]) => of.size > 1).map(([file]) => file));
}

/** A target as a case name ends with it: its name when it has one (`mx1`), else where it is. */
function targetName(target: CaseResult['target']): string {
  return isTcpTarget(target) && target.name ? target.name : formatTarget(target);
}

/**
 * `line="…"` after `file`, which GitLab and GitHub annotations read: junit-report-builder 5 has no
 * setter for it, and writes the attributes its nodes hold, in the order they were set.
 */
function withLine(testCase: TestCase, line: number): TestCase {
  (testCase as unknown as { _attributes: Record<string, number> })._attributes['line'] = line;
  return testCase;
}

type Element = ReturnType<TestCase['build']>;

/** Where a testcase is built before its suite is: a `<testsuite>` of a document made as the builder makes its own. */
function scratchElement(): Element {
  return builderRoot.newBuilder().testSuite().build();
}

// How deep a suite and a testcase sit in the document: under `<testsuites>`, and under a `<testsuite>`.
const SUITE_LEVEL = 1;
const TESTCASE_LEVEL = 2;

/**
 * Writes a complete testcase or suite at once with the builder's own writer, at the indentation it has in the
 * document, and leaves the text in its place: the document then holds text, not a tree of nodes for every case,
 * which made the builder's memory and garbage collection grow with the run. A suite still counts its testcases
 * (failures, errors, skipped) from what they were told; the text goes in as raw XML, which the writer indents and
 * ends as it would the element. A suite always has `<properties>` before its testcases, so the writer never takes
 * a testcase's text for the only content of its suite.
 */
function writeNow(node: TestCase | TestSuite, scratch: Element, level: number): void {
  const element = node.build(scratch);
  const text = element.toString({ pretty: true, offset: level });
  element.remove();
  const raw = text.slice('  '.repeat(level).length, text.endsWith('\n') ? -1 : undefined);
  node.build = (parent: Element): Element => parent.raw(raw);
}

/** `<skipped message="…"/>`: junit-report-builder 5 writes a bare `<skipped/>`, so the message goes onto the element it built. */
function skip(testCase: TestCase, message: string | undefined): void {
  testCase.skipped();
  if (message === undefined) return;
  const build = testCase.build.bind(testCase);
  testCase.build = (parent: Element): Element => {
    const element = build(parent);
    const skipped = element.children.find((node): node is Element => 'name' in node && node.name === 'skipped');
    skipped?.att('message', xmlSafe(printable(message)));
    return element;
  };
}

/** Cases grouped by (target, file), groups in order of first appearance. */
function groupBySuite(cases: CaseResult[]): CaseResult[][] {
  return [...groupBy(cases, (item) => `${item.file}\n${formatTarget(item.target)}`).values()];
}

/** The earliest start as a UTC string without zone, which is what JUnit readers expect. */
function utcTimestamp(cases: CaseResult[], fallback: string): string {
  const starts = cases.map((c) => Date.parse(c.startedAt)).filter(Number.isFinite);
  if (starts.length === 0) starts.push(Date.parse(fallback));
  // Not Math.min(...starts): a suite of some 100,000 cases is more arguments than a call can take.
  const earliest = starts.reduce((a, b) => Math.min(a, b));
  return new Date(Number.isFinite(earliest) ? earliest : 0).toISOString().slice(0, 19);
}

/** `scenarios/basic.yaml` → `scenarios.basic`: folders become packages, the extension goes. */
export function classnameOf(file: string): string {
  const segments = file.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  const last = segments.pop() ?? '';
  const stem = last.replace(/\.[^.]+$/, '') || last;
  return [...segments.map((s) => (s === '..' ? '_' : s)), stem].join('.');
}

/** Keeps (classname, name) unique across the document: CI tools drop duplicates. */
class UniqueNames {
  private readonly taken = new Set<string>();
  /** Per name asked for, the number its last claim reached: the ones below it stay taken, so a repeated name costs no search. */
  private readonly reached = new Map<string, number>();

  claim(classname: string, name: string): string {
    const key = `${classname}\n${name}`;
    let n = this.reached.get(key) ?? 1;
    let candidate = n === 1 ? name : `${name} (${n})`;
    while (this.taken.has(`${classname}\n${candidate}`)) candidate = `${name} (${++n})`;
    this.reached.set(key, n);
    this.taken.add(`${classname}\n${candidate}`);
    return candidate;
  }
}

// Not allowed anywhere in XML 1.0: C0 controls except tab/LF/CR, lone surrogates, U+FFFE, U+FFFF.
const XML_INVALID =
  /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function xmlSafe(text: string): string {
  return text.replace(XML_INVALID, '');
}

/**
 * junit-report-builder splits only the first `]]>` of a CDATA text (a non-global replace).
 * Split every later one here, so the builder's own split of the first completes the job.
 */
export function cdataSafe(text: string): string {
  let seen = 0;
  return text.replace(/]]>/g, (match) => (seen++ === 0 ? match : ']]]]><![CDATA[>'));
}
