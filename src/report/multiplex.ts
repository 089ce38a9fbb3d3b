import type { CaseInfo, CaseResult, RunResult, StepResult } from '../engine/results.js';
import type { Reporter, RunInfo } from '../engine/events.js';

export interface ReporterFailure {
  /** The reporter's class name, or `reporter N` (1-based) for a plain object. */
  reporter: string;
  /** `<hook>: <message>`, e.g. `onCaseEnd: disk full`. */
  error: string;
  /** What the hook threw or rejected with: a system error writing the report, or a fault in the reporter. */
  thrown: unknown;
}

/**
 * Fans every event out to several reporters, in order. A reporter that throws or rejects
 * is recorded in `failures` and keeps receiving events; the run and the others go on.
 */
export class ReporterMux implements Reporter {
  readonly failures: ReporterFailure[] = [];

  constructor(private readonly reporters: Reporter[]) {}

  onBegin(info: RunInfo): void {
    this.each('onBegin', (r) => r.onBegin?.(info));
  }

  onCaseBegin(info: CaseInfo): void {
    this.each('onCaseBegin', (r) => r.onCaseBegin?.(info));
  }

  onStepEnd(info: CaseInfo, step: StepResult): void {
    this.each('onStepEnd', (r) => r.onStepEnd?.(info, step));
  }

  onCaseEnd(result: CaseResult): void {
    this.each('onCaseEnd', (r) => r.onCaseEnd?.(result));
  }

  /** Starts every reporter's onEnd in order and waits for all of them. */
  async onEnd(result: RunResult): Promise<void> {
    await Promise.all(
      this.reporters.map(async (reporter, i) => {
        try {
          await reporter.onEnd?.(result);
        } catch (error) {
          this.record(reporter, i, 'onEnd', error);
        }
      }),
    );
  }

  private each(hook: string, call: (reporter: Reporter) => unknown): void {
    this.reporters.forEach((reporter, i) => {
      try {
        const returned = call(reporter);
        // The hooks are typed sync, but an async implementation must not leave an unhandled rejection.
        if (isThenable(returned)) returned.then(undefined, (error) => this.record(reporter, i, hook, error));
      } catch (error) {
        this.record(reporter, i, hook, error);
      }
    });
  }

  private record(reporter: Reporter, index: number, hook: string, error: unknown): void {
    this.failures.push({ reporter: reporterName(reporter, index), error: `${hook}: ${errorMessage(error)}`, thrown: error });
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

function reporterName(reporter: Reporter, index: number): string {
  const name = (reporter as object).constructor?.name;
  return name && name !== 'Object' ? name : `reporter ${index + 1}`;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
