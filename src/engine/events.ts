import type { CaseInfo, CaseResult, RunResult, StepResult } from './results.js';

/** What reporters learn when a run begins. */
export interface RunInfo {
  startedAt: string;
  /** Every case that will run, in order. */
  cases: CaseInfo[];
}

/**
 * Receives the engine's run events; reporters implement it. Every hook is optional; reporters never see sockets.
 * Order: onBegin, then per case onCaseBegin, onStepEnd × steps, onCaseEnd, then onEnd once.
 * onEnd may be async (file reporters write there) and must leave complete output.
 */
export interface Reporter {
  onBegin?(info: RunInfo): void;
  onCaseBegin?(info: CaseInfo): void;
  onStepEnd?(info: CaseInfo, step: StepResult): void;
  onCaseEnd?(result: CaseResult): void;
  onEnd?(result: RunResult): void | Promise<void>;
}
