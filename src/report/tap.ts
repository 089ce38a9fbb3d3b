import { stringify } from 'yaml';
import { formatPos } from '../errors.js';
import type { CaseInfo, CaseResult, RunResult, StepResult } from '../engine/results.js';
import type { Reporter, RunInfo } from './reporter.js';
import type { Sink } from './sink.js';
import { formatTarget, printable, replyLines } from './format.js';

const SUBTEST_INDENT = '    ';
const NOT_RUN = 'not run';

/**
 * TAP version 14: one subtest per case with one test point per step, closed by a
 * top-level point carrying the same description. Each case is written when it ends.
 */
export class TapReporter implements Reporter {
  private headerWritten = false;
  private planned = false;
  private nextId = 1;
  private currentGroup: string | undefined;
  private announced: CaseInfo[] = [];
  private readonly reported = new Set<string>();

  constructor(private readonly sink: Sink) {}

  onBegin(info: RunInfo): void {
    this.announced = info.cases;
    this.writeHeader(info.cases.length);
  }

  onCaseEnd(result: CaseResult): void {
    this.writeHeader();
    this.reported.add(result.id);
    this.sink.write(this.caseLines(result).join('\n') + '\n');
  }

  async onEnd(result: RunResult): Promise<void> {
    this.writeHeader();
    for (const item of result.cases) if (!this.reported.has(item.id)) this.onCaseEnd(item);
    // Cases announced but never run still need their points, or the plan would not add up.
    for (const info of this.announced) if (!this.reported.has(info.id)) this.writeNotRun(info);
    if (!this.planned) this.sink.write(`1..${this.nextId - 1}\n`);
    await this.sink.close();
  }

  private writeHeader(plannedCases?: number): void {
    if (this.headerWritten) return;
    this.headerWritten = true;
    this.sink.write('TAP version 14\n');
    if (plannedCases === undefined) return;
    this.planned = true;
    this.sink.write(`1..${plannedCases}\n`);
  }

  private writeNotRun(info: CaseInfo): void {
    this.reported.add(info.id);
    const lines = [...this.groupComment(info), `ok ${this.nextId++} - ${escapeDescription(info.caseName)} # SKIP ${NOT_RUN}`];
    this.sink.write(lines.join('\n') + '\n');
  }

  private caseLines(result: CaseResult): string[] {
    const description = escapeDescription(result.caseName);
    const id = this.nextId++;
    const lines = this.groupComment(result);
    const skip = escapeDescription(result.skipReason ?? NOT_RUN);
    if (result.status === 'skipped') return [...lines, `ok ${id} - ${description} # SKIP ${skip}`];
    for (const warning of result.warnings ?? []) lines.push(`# warning: ${printable(oneLine(warning))}`);
    lines.push(`# Subtest: ${description}`);
    result.steps.forEach((step, i) => lines.push(...stepLines(step, i + 1).map((line) => SUBTEST_INDENT + line)));
    lines.push(`${SUBTEST_INDENT}1..${result.steps.length}`);
    if (result.status === 'passed') return [...lines, `ok ${id} - ${description}`];
    return [...lines, `not ok ${id} - ${description}`, ...diagnostics(caseDiagnostics(result), '  ')];
  }

  private groupComment(info: CaseInfo): string[] {
    const group = `${info.file} (${formatTarget(info.target)})`;
    if (group === this.currentGroup) return [];
    this.currentGroup = group;
    return [`# ${printable(oneLine(group))}`];
  }
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
  };
}

function stepDiagnostics(step: StepResult): Record<string, unknown> {
  const replies = step.replies ?? (step.reply ? [step.reply] : []);
  return {
    message: step.message ?? `step ${step.status}`,
    at: formatPos(step.pos),
    ...(step.sent !== undefined && { sent: step.sent }),
    ...(step.expected !== undefined && { expected: step.expected }),
    ...(replies.length > 0 && { got: replies.flatMap(replyLines) }),
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
  };
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
  const yaml = stringify(data, YAML_OPTIONS).replace(
    YAML_UNPRINTABLE,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return [`${indent}---`, ...yaml.trimEnd().split('\n').map((line) => indent + line), `${indent}...`];
}

function oneLine(text: string): string {
  return text.replace(/\r\n|\r|\n/g, ' ');
}

/** TAP descriptions: one line, `\` and `#` escaped (in that order), controls made visible. */
export function escapeDescription(text: string): string {
  return printable(oneLine(text)).replace(/\\/g, '\\\\').replace(/#/g, '\\#');
}
