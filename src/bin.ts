#!/usr/bin/env node
import { main } from './cli.js';
import { exitOnUncaughtFaults } from './commands/internal-error.js';
import { EXIT } from './commands/io.js';

/** After the first Ctrl-C, how long a run may take to close its sessions and write its reports. */
const GRACE_MS = 5_000;

const stop = new AbortController();
let stopped: () => void = () => {};
const untilStopped = new Promise<void>((resolve) => (stopped = resolve));

function onSignal(signal: NodeJS.Signals): void {
  if (stop.signal.aborted) process.exit(EXIT.interrupted); // a second Ctrl-C: leave now
  process.stderr.write(`\nsmtpspec: ${signal}: stopping (closing sessions and finishing output; again to quit at once)\n`);
  stop.abort();
  stopped();
  setTimeout(() => process.exit(EXIT.interrupted), GRACE_MS).unref();
}
exitOnUncaughtFaults(process, process.stderr);
// An output closed or full (`| head -n 1`, `> /dev/full`) takes nothing more; the command goes on to
// its report files and its exit code. (The console's own sink stops writing to it: see report/sink.ts.)
for (const output of [process.stdout, process.stderr]) output.on('error', () => {});
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

// No top-level await: the bundled program is CommonJS (see src/launcher.cjs).
void main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  untilStopped,
  signal: stop.signal,
}).then((code) => {
  process.exitCode = stop.signal.aborted ? EXIT.interrupted : code;
});
