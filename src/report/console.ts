import { formatPos } from '../errors.js';
import type { CaseResult, RunCounts, RunResult, StepResult } from '../engine/results.js';
import type { Reporter } from './reporter.js';
import type { Sink } from './sink.js';
import { describeKind, formatDuration, formatTarget, printable, replyLines, transcriptLine } from './format.js';

export interface ConsoleReporterOptions {
  /** ANSI colours; the caller decides (a TTY and no NO_COLOR). Without it the output has no escape codes. */
  color: boolean;
  /** How many of the last transcript entries to show under a failure; 0 hides them. Default 8. */
  transcriptLines?: number;
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

/** Human-readable progress: a heading per scenario file and target, one line per case, details under failures. */
export class ConsoleReporter implements Reporter {
  private readonly paint: Palette;
  private readonly transcriptLines: number;
  private currentGroup: string | undefined;

  constructor(
    private readonly sink: Sink,
    options: ConsoleReporterOptions,
  ) {
    this.paint = options.color ? COLORS : NO_COLORS;
    this.transcriptLines = Math.max(0, options.transcriptLines ?? 8);
  }

  onCaseEnd(result: CaseResult): void {
    const lines = [...this.heading(result), this.caseLine(result)];
    for (const warning of result.warnings ?? []) lines.push(DETAIL + this.paint.yellow(`⚠ ${printable(warning)}`));
    if (result.status === 'failed' || result.status === 'error') lines.push(...this.failureDetails(result));
    this.sink.write(lines.join('\n') + '\n');
  }

  async onEnd(result: RunResult): Promise<void> {
    const total = result.counts.total;
    const ran = `Ran ${total} ${total === 1 ? 'case' : 'cases'} in ${formatDuration(result.durationMs)}`;
    // The counts stand alone on the last line: CI log scrapers look for exactly that.
    this.sink.write(`\n${ran}\n${summaryLine(result.counts)}\n`);
    await this.sink.close();
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
        return `  ${green('✓')} ${name} ${took}`;
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

/** `N passed, N failed`, plus `, N skipped` when any were skipped; errors count as failed. */
export function summaryLine(counts: RunCounts): string {
  const base = `${counts.passed} passed, ${counts.failed + counts.errors} failed`;
  return counts.skipped > 0 ? `${base}, ${counts.skipped} skipped` : base;
}
