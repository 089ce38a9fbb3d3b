#!/usr/bin/env node
import { EXIT, main } from './cli.js';

let stop: () => void = () => {};
const untilStopped = new Promise<void>((resolve) => (stop = resolve));
let interrupted = false;

function onSignal(): void {
  if (interrupted) process.exit(EXIT.interrupted);
  interrupted = true;
  stop();
  process.exitCode = EXIT.interrupted;
  // A run in progress has no graceful stop yet: end now rather than hang.
  setTimeout(() => process.exit(EXIT.interrupted), 1_000).unref();
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  untilStopped,
});
process.exitCode = interrupted ? EXIT.interrupted : code;
