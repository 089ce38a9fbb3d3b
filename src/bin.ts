import { main } from './cli.js';
import { exitOnUncaughtFaults } from './commands/internal-error.js';
import { EXIT } from './commands/io.js';
import { ReportLedger } from './commands/report-ledger.js';

/** After the first Ctrl-C, how long a run may take to close its sessions and write its reports. */
const GRACE_MS = 5_000;

/** How the launcher hands over the signals it has caught since its first line, and those to come. */
export type TakeSignals = (handler: (signal: NodeJS.Signals) => void) => void;

/**
 * The program, started by the launcher (src/launcher.cjs), which catches SIGINT and SIGTERM from its
 * first line on and hands them over here, those that came during start-up first.
 */
export function start(takeSignals: TakeSignals = listenForSignals): void {
  const stop = new AbortController();
  let stopped: () => void = () => {};
  const untilStopped = new Promise<void>((resolve) => (stopped = resolve));
  const reports = new ReportLedger();

  /** A second signal, or a run that did not stop in time: exit now. Each report is in place whole or not there (atomic-file.ts). */
  const quit = (why: string): void => {
    process.stderr.write(`smtpspec: ${why}\n${reports.summary()}`);
    process.exit(EXIT.interrupted);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stop.signal.aborted) return quit(`${signal} again: quitting now`);
    process.stderr.write(`\nsmtpspec: ${signal}: stopping (closing sessions and finishing output; again to quit at once)\n`);
    stop.abort();
    stopped();
    setTimeout(() => quit(`still not stopped ${GRACE_MS / 1000} s after ${signal}: quitting now`), GRACE_MS).unref();
  };

  exitOnUncaughtFaults(process, process.stderr);
  // An output closed or full (`| head -n 1`, `> /dev/full`) takes nothing more; the command goes on to
  // its report files and its exit code. (The console's own sink stops writing to it: see report/sink.ts.)
  for (const output of [process.stdout, process.stderr]) output.on('error', () => {});
  takeSignals(onSignal);

  // No top-level await: the bundled program is CommonJS (see src/launcher.cjs).
  void main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    untilStopped,
    signal: stop.signal,
    reports,
  }).then((code) => {
    process.exitCode = stop.signal.aborted ? EXIT.interrupted : code;
  });
}

function listenForSignals(handler: (signal: NodeJS.Signals) => void): void {
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
