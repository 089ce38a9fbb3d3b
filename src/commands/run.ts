import { EXIT, printWarnings, type CliIO, type RunCommand } from '../cli.js';
import { loadScenarios } from '../scenario/load.js';
import { runScenarios } from '../engine/run.js';
import type { Reporter } from '../report/reporter.js';
import { ReporterMux } from '../report/multiplex.js';
import { fileSink, streamSink, type Sink } from '../report/sink.js';
import { ConsoleReporter } from '../report/console.js';
import { TapReporter } from '../report/tap.js';
import { JUnitReporter } from '../report/junit.js';
import { embeddedCaFile, startEmbeddedServer, type EmbeddedServer } from '../server/embedded.js';

/** Colour only on a terminal, never with NO_COLOR (https://no-color.org) or --no-color. */
export function useColor(command: RunCommand, io: CliIO): boolean {
  return command.color && io.stdout.isTTY === true && !io.env.NO_COLOR;
}

function buildReporters(command: RunCommand, io: CliIO): { reporters: Reporter[]; sinks: Sink[] } {
  const stdout = streamSink(io.stdout);
  const sinks: Sink[] = [stdout];
  const reporters: Reporter[] = [];
  if (command.reporter === 'console') reporters.push(new ConsoleReporter(stdout, { color: useColor(command, io) }));
  if (command.reporter === 'tap') reporters.push(new TapReporter(stdout));
  if (command.reporter === 'junit') reporters.push(new JUnitReporter(stdout));
  if (command.tapFile) {
    const sink = fileSink(command.tapFile);
    sinks.push(sink);
    reporters.push(new TapReporter(sink));
  }
  if (command.junitFile) {
    const sink = fileSink(command.junitFile);
    sinks.push(sink);
    reporters.push(new JUnitReporter(sink));
  }
  return { reporters, sinks };
}

export async function runCommand(command: RunCommand, io: CliIO): Promise<number> {
  const scenarios = await loadScenarios(command.paths, {
    vars: command.vars,
    env: io.env,
    defaultTimeoutMs: command.timeoutMs,
    // The embedded server's certificate is trusted when the run targets it.
    ca: command.embedded ? [...command.ca, embeddedCaFile()] : command.ca,
  });
  printWarnings(scenarios, io);
  let server: EmbeddedServer | undefined;
  try {
    if (command.embedded) server = await startEmbeddedServer();
    const target = server ? { host: server.host, port: server.port } : command.target;
    const { reporters, sinks } = buildReporters(command, io);
    const mux = new ReporterMux(reporters);
    const result = await runScenarios(scenarios, { target, reporter: mux });
    await Promise.all(sinks.map((sink) => sink.close()));
    for (const failure of mux.failures) io.stderr.write(`smtpspec: the ${failure.reporter} report failed: ${failure.error}\n`);
    if (mux.failures.length > 0) return EXIT.unusable;
    return result.counts.failed + result.counts.errors === 0 ? EXIT.passed : EXIT.failed;
  } finally {
    await server?.close();
  }
}
