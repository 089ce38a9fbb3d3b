import { formatPos } from '../errors.js';
import type { Scenario } from '../scenario/types.js';
import type { ReportLedger } from './report-ledger.js';

/** What every command is given (its streams and environment, CliIO) and the exit codes it returns. */

/** Exit codes: 70 is EX_SOFTWARE of sysexits(3), a bug in smtpspec; 130 is 128 + SIGINT. */
export const EXIT = { passed: 0, failed: 1, unusable: 2, internal: 70, interrupted: 130 } as const;

export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  /** Resolves when the user asks a long-running command (serve) to stop. */
  untilStopped?: Promise<void>;
  /** Aborted on SIGINT / SIGTERM: a run starts no new case, closes its sessions and writes complete reports. */
  signal?: AbortSignal;
  /** The report files a command writes, counted as they are written: what an interrupted run says it leaves. */
  reports?: ReportLedger;
}

/** Warnings never change the exit code; they go to stderr in the same `file:line:col:` form as errors. */
export function printWarnings(scenarios: Scenario[], io: CliIO): void {
  // A manifest loads a file once per target: say each warning once.
  const lines = new Set(scenarios.flatMap((s) => s.warnings.map((w) => `${formatPos(w.pos)}: warning: ${w.message}`)));
  for (const line of lines) io.stderr.write(`${line}\n`);
}
