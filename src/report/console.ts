import { formatPos } from '../errors.js';
import type { CaseInfo, CaseResult, RunCounts, RunResult, StepResult } from '../engine/results.js';
import type { Reporter, RunInfo } from '../engine/events.js';
import type { Sink } from './sink.js';
import { deliveryLines, describeKind, formatDuration, formatTarget, printable, replyLines, transcriptLine } from './format.js';
import { PlanOrder, ProgressLine, progressText, type ProgressStats } from './progress.js';
import { checkLines } from './check-lines.js';

export interface ConsoleReporterOptions {
  /** ANSI colours; the caller decides (a TTY and no NO_COLOR). Without it the output has no escape codes. */
  color: boolean;
  /** How many of the last transcript entries to show under a failure; 0 hides them. Default 8. */
  transcriptLines?: number;
  /** A live status line rewritten in place (for a terminal). Without it the output has no `\r` and no erase codes. */
  progress?: boolean;
  /** Milliseconds on a monotonic clock; for tests. Default `performance.now`. */
  now?: () => number;
}

type Paint = (text: string) => string;

interface Palette {
  green: Paint;
  red: Paint;
  yellow: Paint;
  dim: Paint;
  bold: Paint;
}

const ansi = (open: number, close: number): Paint => (text) => `\x1b[${open}m${text}\x1b[${close}m`;
const plain: Paint = (text) => text;

const COLORS: Palette = { green: ansi(32, 39), red: ansi(31, 39), yellow: ansi(33, 39), dim: ansi(2, 22), bold: ansi(1, 22) };
const NO_COLORS: Palette = { green: plain, red: plain, yellow: plain, dim: plain, bold: plain };

const DETAIL = '    ';
const ENTRY = '      ';

/**
 * Human-readable output: a heading per scenario file and target, one line per case, details
 * under failures. With onBegin's list, cases print in that order as soon as every case before
 * them has ended; without it, as they end.
 */
export class ConsoleReporter implements Reporter {
  private readonly paint: Palette;
  private readonly transcriptLines: number;
  private readonly now: () => number;
  private readonly progress: ProgressLine | undefined;
  private readonly stats: ProgressStats = { total: 0, done: 0, failed: 0, running: 0, elapsedMs: 0, doneDurationMs: 0, peakRunning: 0 };
  private startedAt: number;
  private order: PlanOrder<CaseResult> | undefined;
  private currentGroup: string | undefined;
  /** Warnings already shown under the current file and target. */
  private readonly groupWarnings = new Set<string>();

  constructor(
    private readonly sink: Sink,
    options: ConsoleReporterOptions,
  ) {
    this.paint = options.color ? COLORS : NO_COLORS;
    this.transcriptLines = Math.max(0, options.transcriptLines ?? 8);
    this.now = options.now ?? (() => performance.now());
    this.startedAt = this.now();
    this.progress = options.progress ? new ProgressLine((text) => sink.write(text), () => this.statusText(), this.now) : undefined;
  }

  onBegin(info: RunInfo): void {
    this.order = new PlanOrder(info.cases.map((c) => c.id));
    this.stats.total = info.cases.length;
    this.startedAt = this.now();
    this.progress?.update();
  }

  onCaseBegin(_info: CaseInfo): void {
    this.stats.running++;
    this.stats.peakRunning = Math.max(this.stats.peakRunning, this.stats.running);
    this.progress?.update();
  }

  onCaseEnd(result: CaseResult): void {
    this.count(result);
    const ready = this.order ? this.order.add(result.id, result) : [result];
    this.print(ready);
    this.progress?.update();
  }

  async onEnd(result: RunResult): Promise<void> {
    this.progress?.stop();
    this.flush(result);
    const total = result.counts.total;
    const ran = `Ran ${total} ${total === 1 ? 'case' : 'cases'} in ${formatDuration(result.durationMs)}`;
    const table = this.targetTable(result.cases);
    // The counts stand alone on the last line: CI log scrapers look for exactly that.
    this.sink.write(`${table.map((line) => `\n${line}`).join('')}\n${ran}\n${summaryLine(result.counts)}\n`);
    await this.sink.close();
  }

  /** Whatever is still held back (a case never ended, or ended out of the plan): printed in plan order. */
  private flush(result: RunResult): void {
    const order = this.order;
    if (!order) return;
    const byId = new Map(result.cases.map((c) => [c.id, c]));
    for (const id of order.missing()) {
      const late = byId.get(id);
      if (late) this.print(order.add(id, late));
    }
    this.print(order.rest());
  }

  private count(result: CaseResult): void {
    const stats = this.stats;
    stats.done++;
    stats.running = Math.max(0, stats.running - 1);
    stats.doneDurationMs += result.durationMs;
    if (result.status === 'failed' || result.status === 'error') stats.failed++;
  }

  private statusText(): string {
    return progressText({ ...this.stats, total: Math.max(this.stats.total, this.stats.done), elapsedMs: this.now() - this.startedAt });
  }

  private print(results: CaseResult[]): void {
    if (results.length === 0) return;
    this.progress?.clear();
    this.sink.write(results.map((result) => this.caseBlock(result).join('\n') + '\n').join(''));
  }

  private caseBlock(result: CaseResult): string[] {
    const heading = this.heading(result);
    if (heading.length > 0) this.groupWarnings.clear();
    const lines = [...heading, this.caseLine(result)];
    for (const warning of result.warnings ?? []) {
      // A file's warning (TLS verification off) comes with each of its cases: said once per file and target.
      if (this.groupWarnings.has(warning)) continue;
      this.groupWarnings.add(warning);
      lines.push(DETAIL + this.paint.yellow(`⚠ ${printable(warning)}`));
    }
    lines.push(...this.earlierAttempts(result));
    // What each mailbox step found (or not), and how long it took to arrive: the figure operators watch.
    for (const step of result.steps) if (step.delivery) lines.push(...deliveryLines(step.delivery).map((line) => DETAIL + this.paint.dim(printable(line))));
    // What each DNS check found; a warning stands out although its step passed.
    for (const step of result.steps) if (step.check) lines.push(...this.checkDetails(step.check));
    if (result.status === 'failed' || result.status === 'error') lines.push(...this.failureDetails(result));
    return lines;
  }

  /** The verdict line painted by the verdict (`⚠` for a warning), the reasons and facts below it. */
  private checkDetails(outcome: NonNullable<StepResult['check']>): string[] {
    // checkLines gives the verdict, then the reasons, then the facts.
    const [verdict, ...rest] = checkLines(outcome).map(printable);
    const { green, yellow, red, dim } = this.paint;
    const head = outcome.verdict === 'warn' ? yellow(`⚠ ${verdict}`) : outcome.verdict === 'pass' ? green(verdict!) : red(verdict!);
    const reasonPaint = outcome.verdict === 'warn' ? yellow : outcome.verdict === 'pass' ? dim : red;
    const detail = rest.map((line, i) => DETAIL + '  ' + (i < outcome.reasons.length ? reasonPaint(line) : dim(line)));
    return [DETAIL + head, ...detail];
  }

  /** Why a retried case was run again: a flaky pass says what went wrong before it. */
  private earlierAttempts(result: CaseResult): string[] {
    return (result.earlierAttempts ?? []).map((attempt, i) => DETAIL + this.paint.yellow(`attempt ${i + 1}: ${printable(attempt.failure.message)}`));
  }

  /** One row per target, only when the run had more than one; empty otherwise. */
  private targetTable(cases: CaseResult[]): string[] {
    const rows = targetRows(cases);
    if (rows.length < 2) return [];
    const header = ['target', 'passed', 'failed', 'skipped', 'flaky', 'time'];
    const cells = rows.map((r) => [printable(r.target), ...[r.passed, r.failed, r.skipped, r.flaky].map(String), formatDuration(r.durationMs)]);
    const [alignedHeader, ...aligned] = alignColumns(header, cells, (column) => column > 0);
    const { bold, red, yellow } = this.paint;
    const body = aligned.map((row, r) => {
      const [target, passed, failed, skipped, flaky, time] = row;
      const paintFailed = rows[r]!.failed > 0 ? red : plain;
      const paintFlaky = rows[r]!.flaky > 0 ? yellow : plain;
      // Paint the number only, not the padding before it.
      const painted = (cell: string, paint: Paint): string => cell.replace(/\S+$/, (value) => paint(value));
      return [target, passed, painted(failed!, paintFailed), skipped, painted(flaky!, paintFlaky), time].join('  ').trimEnd();
    });
    return [bold(alignedHeader!.join('  ').trimEnd()), ...body, ''];
  }

  private heading(result: CaseResult): string[] {
    const target = formatTarget(result.target);
    const group = `${result.file}\n${target}`;
    if (group === this.currentGroup) return [];
    const blank = this.currentGroup === undefined ? [] : [''];
    this.currentGroup = group;
    return [...blank, `${this.paint.bold(printable(result.file))}  ${this.paint.dim(`(${target})`)}`];
  }

  private caseLine(result: CaseResult): string {
    const { green, red, dim } = this.paint;
    const name = printable(result.caseName);
    const took = `(${formatDuration(result.durationMs)})`;
    switch (result.status) {
      case 'passed':
        return `  ${green('✓')} ${name} ${took}${result.flaky ? ' ' + this.paint.yellow(`[flaky: passed on attempt ${result.attempts ?? 2}]`) : ''}`;
      case 'failed':
        return `  ${red('✗')} ${name} ${took}`;
      case 'error': {
        const cause = result.failure ? describeKind(result.failure.kind) : 'error';
        return `  ${red('✗')} ${name} ${took} ${red(`[${cause}]`)}`;
      }
      case 'skipped':
        return dim(`  - ${name} (skipped${result.skipReason ? `: ${printable(result.skipReason)}` : ''})`);
    }
  }

  private failureDetails(result: CaseResult): string[] {
    const failure = result.failure;
    const lines: string[] = [];
    if (failure) {
      lines.push(DETAIL + this.paint.red(printable(failure.message)), `${DETAIL}at ${printable(formatPos(failure.pos))}`);
      const step = result.steps.find((s) => s.index === failure.stepIndex);
      if (step) lines.push(...expectedAndGot(step));
    }
    return [...lines, ...this.transcript(result)];
  }

  private transcript(result: CaseResult): string[] {
    const all = result.transcript;
    if (this.transcriptLines === 0 || all.length === 0) return [];
    const shown = all.slice(-this.transcriptLines);
    const title = shown.length === all.length ? 'transcript:' : `transcript (last ${shown.length} of ${all.length}):`;
    return [DETAIL + title, ...shown.map((entry) => ENTRY + this.paint.dim(printable(transcriptLine(entry))))];
  }
}

function expectedAndGot(step: StepResult): string[] {
  const lines: string[] = [];
  if (step.expected !== undefined) lines.push(`${DETAIL}expected: ${printable(step.expected)}`);
  if (step.reply) {
    const [first, ...rest] = replyLines(step.reply).map(printable);
    lines.push(`${DETAIL}got:      ${first}`, ...rest.map((line) => `${DETAIL}          ${line}`));
  } else if (step.expected !== undefined) {
    lines.push(`${DETAIL}got:      no reply`);
  }
  return lines;
}

/** `N passed, N failed`, then `, N skipped` and `, N flaky` when there were any; errors count as failed. */
export function summaryLine(counts: RunCounts): string {
  const parts = [`${counts.passed} passed`, `${counts.failed + counts.errors} failed`];
  if (counts.skipped > 0) parts.push(`${counts.skipped} skipped`);
  if ((counts.flaky ?? 0) > 0) parts.push(`${counts.flaky} flaky`);
  return parts.join(', ');
}

/**
 * The header and rows of a table with every column as wide as its widest cell: padded on the left
 * where `rightAligned` says so (numbers), on the right elsewhere. Join each row's cells with two spaces.
 */
export function alignColumns(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: (column: number) => boolean): string[][] {
  // Not Math.max(...): a run of some 100,000 targets is more arguments than a call can take.
  const widths = header.map((h, i) => rows.reduce((width, row) => Math.max(width, row[i]!.length), h.length));
  return [header, ...rows].map((row) => row.map((cell, i) => (rightAligned(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))));
}

export interface TargetRow {
  target: string;
  passed: number;
  failed: number;
  skipped: number;
  flaky: number;
  /** The cases' durations added up (time spent in sessions, not wall-clock time). */
  durationMs: number;
}

/** Counts per target, targets in order of first appearance; errors count as failed. */
export function targetRows(cases: readonly CaseResult[]): TargetRow[] {
  const rows = new Map<string, TargetRow>();
  for (const item of cases) {
    const target = formatTarget(item.target);
    let row = rows.get(target);
    if (!row) rows.set(target, (row = { target, passed: 0, failed: 0, skipped: 0, flaky: 0, durationMs: 0 }));
    if (item.status === 'passed') row.passed++;
    else if (item.status === 'skipped') row.skipped++;
    else row.failed++;
    if (item.flaky) row.flaky++;
    row.durationMs += item.durationMs;
  }
  return [...rows.values()];
}
