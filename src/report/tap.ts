import { yaml as yamlLib } from '../yaml-lib.js';
import { formatPos } from '../errors.js';
import type { CaseInfo, CaseResult, RunResult, StepResult } from '../engine/results.js';
import type { Reporter, RunInfo } from '../engine/events.js';
import type { Sink } from './sink.js';
import { deliveryLines, formatTarget, printable, replyLines } from './format.js';
import { PlanOrder } from './progress.js';
import { checkLines, checkWarnings } from './check-lines.js';

const SUBTEST_INDENT = '    ';
const NOT_RUN = 'not run';

/** A case as it is written: its result, or only its info when it never ran. */
interface Entry {
  info: CaseInfo;
  result?: CaseResult;
}

/** One target's subtest in a run with several targets. */
interface TargetGroup {
  name: string;
  size: number;
  /** Cases of the group written so far. */
  count: number;
  failed: boolean;
}

/**
 * TAP version 14: one subtest per case with one test point per step, closed by a
 * top-level point carrying the same description. Cases are written in onBegin's order, each
 * as soon as every case before it has ended. When onBegin lists more than one target, each
 * target is a top-level subtest of its own (plan = number of targets) holding its cases.
 */
export class TapReporter implements Reporter {
  private headerWritten = false;
  private planned = false;
  private nextId = 1;
  private currentGroup: string | undefined;
  private order: PlanOrder<Entry> | undefined;
  /** Set when the run has several targets: each case id's group, groups in order. */
  private groups: Map<string, TargetGroup> | undefined;
  private announced = new Map<string, CaseInfo>();
  /** Without onBegin: the cases already written, so onEnd writes only the rest. */
  private readonly written = new Set<string>();

  constructor(private readonly sink: Sink) {}

  onBegin(info: RunInfo): void {
    this.announced = new Map(info.cases.map((c) => [c.id, c]));
    const groups = groupByTarget(info.cases);
    if (groups.length > 1) {
      this.groups = new Map(groups.flatMap(([group, cases]) => cases.map((c) => [c.id, group] as const)));
      this.order = new PlanOrder(groups.flatMap(([, cases]) => cases.map((c) => c.id)));
      this.writeHeader(groups.length);
    } else {
      this.order = new PlanOrder(info.cases.map((c) => c.id));
      this.writeHeader(info.cases.length);
    }
  }

  onCaseEnd(result: CaseResult): void {
    this.writeHeader();
    this.release(result.id, { info: result, result });
  }

  async onEnd(result: RunResult): Promise<void> {
    this.writeHeader();
    if (this.order) {
      // Cases announced but never run still need their points, or the plan would not add up.
      const byId = new Map(result.cases.map((c) => [c.id, c]));
      for (const id of this.order.missing()) {
        const late = byId.get(id);
        this.release(id, late ? { info: late, result: late } : { info: this.announced.get(id)! });
      }
    } else {
      for (const item of result.cases) if (!this.written.has(item.id)) this.release(item.id, { info: item, result: item });
    }
    if (!this.planned) this.sink.write(`1..${this.nextId - 1}\n`);
    await this.sink.close();
  }

  private release(id: string, entry: Entry): void {
    this.written.add(id);
    const ready = this.order ? this.order.add(id, entry) : [entry];
    const text = ready.flatMap((item) => this.entryLines(item)).join('\n');
    if (text !== '') this.sink.write(text + '\n');
  }

  private entryLines(entry: Entry): string[] {
    const group = this.groups?.get(entry.info.id);
    if (!group) return this.caseOrNotRun(entry, this.nextId++);
    const lines = group.count === 0 ? [`# Subtest: ${escapeDescription(group.name)}`] : [];
    if (group.count === 0) this.currentGroup = undefined;
    lines.push(...this.caseOrNotRun(entry, ++group.count).map((line) => SUBTEST_INDENT + line));
    if (entry.result?.status === 'failed' || entry.result?.status === 'error') group.failed = true;
    if (group.count < group.size) return lines;
    const point = `${group.failed ? 'not ok' : 'ok'} ${this.nextId++} - ${escapeDescription(group.name)}`;
    return [...lines, `${SUBTEST_INDENT}1..${group.size}`, point];
  }

  private caseOrNotRun(entry: Entry, id: number): string[] {
    const lines = this.groupComment(entry.info);
    const description = escapeDescription(entry.info.caseName);
    if (!entry.result) return [...lines, `ok ${id} - ${description} # SKIP ${NOT_RUN}`];
    return [...lines, ...caseLines(entry.result, id)];
  }

  private writeHeader(planned?: number): void {
    if (this.headerWritten) return;
    this.headerWritten = true;
    this.sink.write('TAP version 14\n');
    if (planned === undefined) return;
    this.planned = true;
    this.sink.write(`1..${planned}\n`);
  }

  private groupComment(info: CaseInfo): string[] {
    // Within a target's subtest the target is already named.
    const group = this.groups ? info.file : `${info.file} (${formatTarget(info.target)})`;
    if (group === this.currentGroup) return [];
    this.currentGroup = group;
    return [`# ${printable(oneLine(group))}`];
  }
}

/** Cases grouped by target, targets in order of first appearance, cases in their order. */
function groupByTarget(cases: readonly CaseInfo[]): [TargetGroup, CaseInfo[]][] {
  const groups = new Map<string, [TargetGroup, CaseInfo[]]>();
  for (const info of cases) {
    const name = formatTarget(info.target);
    const group = groups.get(name) ?? [{ name, size: 0, count: 0, failed: false }, []];
    group[0].size++;
    group[1].push(info);
    groups.set(name, group);
  }
  return [...groups.values()];
}

function caseLines(result: CaseResult, id: number): string[] {
  const description = escapeDescription(result.caseName);
  const lines: string[] = [];
  const skip = escapeDescription(result.skipReason ?? NOT_RUN);
  if (result.status === 'skipped') return [`ok ${id} - ${description} # SKIP ${skip}`];
  for (const warning of [...(result.warnings ?? []), ...checkWarnings(result)]) lines.push(`# warning: ${printable(oneLine(warning))}`);
  lines.push(`# Subtest: ${description}`);
  result.steps.forEach((step, i) => lines.push(...stepLines(step, i + 1).map((line) => SUBTEST_INDENT + line)));
  lines.push(`${SUBTEST_INDENT}1..${result.steps.length}`);
  if (result.status === 'passed') {
    const flaky = result.flaky ? diagnostics({ flaky: true, attempts: result.attempts ?? 2, ...retriedAfter(result) }, '  ') : [];
    return [...lines, `ok ${id} - ${description}`, ...flaky];
  }
  return [...lines, `not ok ${id} - ${description}`, ...diagnostics(caseDiagnostics(result), '  ')];
}

function stepLines(step: StepResult, id: number): string[] {
  const description = escapeDescription(step.label);
  switch (step.status) {
    case 'passed': {
      const facts = stepFacts(step);
      return [`ok ${id} - ${description}`, ...(Object.keys(facts).length > 0 ? diagnostics(facts, '  ') : [])];
    }
    case 'skipped':
      return [`ok ${id} - ${description} # SKIP ${escapeDescription(step.message ?? NOT_RUN)}`];
    case 'failed':
    case 'error':
      return [`not ok ${id} - ${description}`, ...diagnostics(stepDiagnostics(step), '  ')];
  }
}

/** What every step that read a reply records, passed or not: its latency and what it captured. */
function stepFacts(step: StepResult): Record<string, unknown> {
  return {
    ...(step.latencyMs !== undefined && { latency_ms: step.latencyMs }),
    ...(step.captures && { captures: step.captures }),
    ...(step.tls && { tls: { protocol: step.tls.protocol, cipher: step.tls.cipher, subject: step.tls.subject, issuer: step.tls.issuer, not_after: step.tls.validTo, verified: step.tls.verified } }),
    ...(step.delivery && { delivery: deliveryLines(step.delivery) }),
    ...(step.check && { check_verdict: step.check.verdict, check: checkLines(step.check) }),
  };
}

function stepDiagnostics(step: StepResult): Record<string, unknown> {
  // got: the reply that was checked against expected (a pipeline's failing command's); every reply follows when there were several.
  const got = step.reply ? [step.reply] : (step.replies ?? []);
  const several = step.reply && step.replies && step.replies.length > 1 ? step.replies : undefined;
  return {
    message: step.message ?? `step ${step.status}`,
    at: formatPos(step.pos),
    ...(step.sent !== undefined && { sent: step.sent }),
    ...(step.expected !== undefined && { expected: step.expected }),
    ...(got.length > 0 && { got: got.flatMap(replyLines) }),
    ...(several && { replies: several.flatMap(replyLines) }),
    duration_ms: step.durationMs,
    ...stepFacts(step),
  };
}

function caseDiagnostics(result: CaseResult): Record<string, unknown> {
  return {
    message: result.failure?.message ?? `case ${result.status}`,
    at: formatPos(result.failure?.pos ?? result.pos),
    target: formatTarget(result.target),
    duration_ms: result.durationMs,
    ...(result.attempts !== undefined && { attempts: result.attempts }),
    ...retriedAfter(result),
  };
}

/** The failures that made a case run again, oldest first. */
function retriedAfter(result: CaseResult): Record<string, unknown> {
  const earlier = result.earlierAttempts ?? [];
  return earlier.length > 0 ? { retried_after: earlier.map((attempt) => attempt.failure.message) } : {};
}

// Every string is written as a JSON-style double-quoted scalar: one line each, whatever the reply held.
const YAML_OPTIONS = {
  defaultStringType: 'QUOTE_DOUBLE',
  defaultKeyType: 'PLAIN',
  doubleQuotedAsJSON: true,
  lineWidth: 0,
} as const;

// Characters JSON leaves raw but YAML does not count as printable (or some readers take as line breaks),
// and bidirectional controls, which would disguise the text where the TAP is shown raw.
const YAML_UNPRINTABLE = /[\x7F-\x9F\u200E\u200F\u202A-\u202E\u2028\u2029\u2066-\u2069\uFFFE\uFFFF]/g;

/** A YAML diagnostics block, `---` to `...`, indented relative to its test point. */
function diagnostics(data: Record<string, unknown>, indent: string): string[] {
  const yaml = (numbersOnly(data) ?? yamlLib.stringify(data, YAML_OPTIONS)).replace(
    YAML_UNPRINTABLE,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return [`${indent}---`, ...yaml.trimEnd().split('\n').map((line) => indent + line), `${indent}...`];
}

const PLAIN_KEY = /^[a-z_]+$/;

/**
 * The YAML of a block whose values are all finite numbers under plain keys (a passed step's `latency_ms`, at every
 * step of a run), written as the yaml package writes it (`key: ` and the number as JSON has it), without its cost.
 */
function numbersOnly(data: Record<string, unknown>): string | undefined {
  let yaml = '';
  for (const key in data) {
    const value = data[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || !PLAIN_KEY.test(key)) return undefined;
    yaml += `${key}: ${Object.is(value, -0) ? '-0' : JSON.stringify(value)}\n`;
  }
  return yaml === '' ? undefined : yaml;
}

function oneLine(text: string): string {
  return text.replace(/\r\n|\r|\n/g, ' ');
}

/** TAP descriptions: one line, `\` and `#` escaped (in that order), controls made visible. */
export function escapeDescription(text: string): string {
  return printable(oneLine(text)).replace(/\\/g, '\\\\').replace(/#/g, '\\#');
}
