import { UsageError } from '../errors.js';
import type { CaseInfo, CaseResult, RunResult } from '../engine/results.js';
import { formatTarget } from './format.js';
import { HtmlReporter } from './html.js';
import { JsonReporter, recount } from './json.js';
import { JUnitReporter } from './junit.js';
import type { Reporter } from '../engine/events.js';
import { fileSink } from './sink.js';
import { TapReporter } from './tap.js';

/**
 * Combines the results of shards into one run. Cases are sorted by file, case index, then
 * target, so the merged order does not depend on which shard finished first; counts are
 * recomputed (with `flaky` when any shard counted it); the run starts with the earliest
 * shard and lasts until the latest one ended.
 * `sources` names each run in error messages (file names); by default `results 1`, `results 2`, ….
 * Throws a UsageError when there is nothing to merge or a case against a target appears twice.
 */
export function mergeResults(runs: RunResult[], sources?: string[]): RunResult {
  if (runs.length === 0) throw new UsageError('no results to merge');
  rejectDuplicates(runs, (i) => sources?.[i] ?? `results ${i + 1}`);
  const cases = runs.flatMap((run) => run.cases).sort(compareCases);
  const withFlaky = runs.some((run) => run.counts.flaky !== undefined);
  return { ...span(runs), cases, counts: recount(cases, withFlaky) };
}

function rejectDuplicates(runs: RunResult[], sourceOf: (index: number) => string): void {
  const seen = new Map<string, number>();
  runs.forEach((run, i) => {
    for (const item of run.cases) {
      const key = caseKey(item);
      const first = seen.get(key);
      if (first === undefined) {
        seen.set(key, i);
        continue;
      }
      const where = first === i ? `twice in ${sourceOf(i)}` : `in ${sourceOf(first)} and ${sourceOf(i)}`;
      throw new UsageError(
        `case ${key} (${JSON.stringify(item.caseName)}) appears ${where}: each case and target must come from one shard only`,
      );
    }
  });
}

/** `file#caseIndex@target`: a case of a file against one server. */
export function caseKey(item: CaseInfo): string {
  return `${item.file}#${item.caseIndex}@${formatTarget(item.target)}`;
}

// Code-unit order, not localeCompare: the same on every machine whatever its locale.
function compareCases(a: CaseResult, b: CaseResult): number {
  return compareText(a.file, b.file) || a.caseIndex - b.caseIndex || compareText(formatTarget(a.target), formatTarget(b.target));
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** From the earliest start to the latest end; runs whose start is not a date are left out. */
function span(runs: RunResult[]): Pick<RunResult, 'startedAt' | 'durationMs'> {
  const timed = runs
    .map((run) => ({ run, start: Date.parse(run.startedAt) }))
    .filter(({ start }) => Number.isFinite(start));
  if (timed.length === 0) return { startedAt: runs[0]!.startedAt, durationMs: Math.max(...runs.map((r) => r.durationMs)) };
  const earliest = timed.reduce((a, b) => (b.start < a.start ? b : a));
  const end = Math.max(...timed.map(({ run, start }) => start + run.durationMs));
  return { startedAt: earliest.run.startedAt, durationMs: end - earliest.start };
}

/** Where renderMerged writes each report; absent formats are not written. */
export interface MergedOutputs {
  junit?: string;
  json?: string;
  tap?: string;
  html?: string;
}

/**
 * Writes a (merged) run through the usual file reporters, feeding them the events the engine
 * would have sent. Every report is attempted; the first write error is rethrown at the end.
 */
export async function renderMerged(result: RunResult, outputs: MergedOutputs): Promise<void> {
  const reporters: Reporter[] = [
    ...(outputs.junit !== undefined ? [new JUnitReporter(fileSink(outputs.junit))] : []),
    ...(outputs.json !== undefined ? [new JsonReporter(fileSink(outputs.json))] : []),
    ...(outputs.tap !== undefined ? [new TapReporter(fileSink(outputs.tap))] : []),
    ...(outputs.html !== undefined ? [new HtmlReporter(fileSink(outputs.html))] : []),
  ];
  for (const reporter of reporters) replayCases(reporter, result);
  const settled = await Promise.allSettled(reporters.map(async (reporter) => reporter.onEnd?.(result)));
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) throw failure.reason;
}

function replayCases(reporter: Reporter, result: RunResult): void {
  reporter.onBegin?.({ startedAt: result.startedAt, cases: result.cases.map(infoOf) });
  for (const item of result.cases) {
    const info = infoOf(item);
    reporter.onCaseBegin?.(info);
    for (const step of item.steps) reporter.onStepEnd?.(info, step);
    reporter.onCaseEnd?.(item);
  }
}

function infoOf(item: CaseResult): CaseInfo {
  const { id, file, scenarioName, caseName, caseIndex, pos, target } = item;
  return { id, file, scenarioName, caseName, caseIndex, pos, target };
}
