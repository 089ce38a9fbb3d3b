import { EXIT, type CliIO } from './io.js';
import { listChecks, type CheckInfo } from '../checks/catalogue.js';

/** `smtpspec checks`: one line per ready-made check, its name padded to a column, then its summary. */
export async function checksCommand(io: CliIO, checks: CheckInfo[] = listChecks()): Promise<number> {
  io.stdout.write(formatChecks(checks));
  return EXIT.passed;
}

export function formatChecks(checks: CheckInfo[]): string {
  const width = Math.max(0, ...checks.map((check) => check.name.length));
  return checks.map((check) => `${check.name.padEnd(width)}  ${check.summary}`.trimEnd() + '\n').join('');
}
