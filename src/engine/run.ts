import { UsageError } from '../errors.js';
import type { Case, Scenario, Target } from '../scenario/types.js';
import type { Reporter } from './events.js';
import type { CaseInfo, CaseResult, RunCounts, RunResult, TranscriptEntry } from './results.js';

/** One unit of work: a case of a scenario against a target. */
export interface WorkItem {
  scenario: Scenario;
  kase: Case;
  target: Target;
}

export interface RunOptions {
  /** Overrides every file's own target (`--target`, `--embedded`). */
  target?: Target;
  reporter?: Reporter;
  /** Each transcript entry as it is recorded, masked (a live view such as `--verbose`). */
  onTranscript?: (info: CaseInfo, entry: TranscriptEntry) => void;
}

/** Pairs every case with its target; a file without a target and no override is unusable input. */
export function planRun(scenarios: Scenario[], override?: Target): WorkItem[] {
  const missing = scenarios.filter((s) => !override && !s.target).map((s) => s.file);
  if (missing.length > 0) {
    throw new UsageError(
      `no target for ${missing.join(', ')}: add "target: host[:port]" to the file, or pass --target or --embedded`,
    );
  }
  return scenarios.flatMap((scenario) =>
    scenario.cases.map((kase) => ({ scenario, kase, target: (override ?? scenario.target)! })),
  );
}

export function countResults(cases: CaseResult[]): RunCounts {
  const counts: RunCounts = { passed: 0, failed: 0, errors: 0, skipped: 0, total: cases.length };
  for (const c of cases) {
    if (c.status === 'passed') counts.passed++;
    else if (c.status === 'failed') counts.failed++;
    else if (c.status === 'error') counts.errors++;
    else counts.skipped++;
  }
  return counts;
}

/** Runs every case in order, one session at a time, reporting as it goes. */
export async function runScenarios(scenarios: Scenario[], options: RunOptions = {}): Promise<RunResult> {
  const items = planRun(scenarios, options.target);
  // Loaded here, not at the top: planning (list, dry runs) needs none of the protocol code.
  const { caseInfo, runCase } = await import('./run-case.js');
  const reporter = options.reporter ?? {};
  const startedAt = new Date().toISOString();
  const started = performance.now();
  reporter.onBegin?.({ startedAt, cases: items.map((w) => caseInfo(w.scenario, w.kase, w.target)) });

  const cases: CaseResult[] = [];
  for (const { scenario, kase, target } of items) {
    const info = caseInfo(scenario, kase, target);
    reporter.onCaseBegin?.(info);
    const listener = options.onTranscript;
    const result = await runCase(scenario, kase, target, {
      onStepEnd: (step) => reporter.onStepEnd?.(info, step),
      info,
      ...(listener ? { onTranscript: (entry: TranscriptEntry) => listener(info, entry) } : {}),
    });
    cases.push(result);
    reporter.onCaseEnd?.(result);
  }

  const result: RunResult = {
    startedAt,
    durationMs: Math.round(performance.now() - started),
    cases,
    counts: countResults(cases),
  };
  await reporter.onEnd?.(result);
  return result;
}
