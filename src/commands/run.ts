import { EXIT, printWarnings, type CliIO } from './io.js';
import type { RunCommand } from './types.js';
import { internalFault } from '../engine/internal-fault.js';
import { isSystemError } from '../errors.js';
import { planWork, type WorkItem } from '../engine/plan.js';
import { runWork, type TranscriptListener } from '../engine/run.js';
import { collectGarbage, LARGE_PLAN_CASES } from '../engine/heap.js';
import type { Reporter } from '../engine/events.js';
import { ReporterMux, type ReporterFailure } from '../report/multiplex.js';
import { fileSink, streamSink, type Sink } from '../report/sink.js';
import { ConsoleReporter } from '../report/console.js';
import { TapReporter } from '../report/tap.js';
import { JUnitReporter } from '../report/junit.js';
import { JsonReporter } from '../report/json.js';
import { HtmlReporter } from '../report/html.js';
import { NagiosReporter, nagiosExitCode } from '../report/nagios.js';
import { OpenMetricsReporter } from '../report/openmetrics.js';
import { LiveTranscript } from '../report/live-transcript.js';
import { formatTarget } from '../engine/target-label.js';
import { printInternalErrors } from './internal-error.js';
import { prepareReportFiles, scenarioInputs, type InputFile } from './report-files.js';
import { reportFilesOf, ReportLedger, type ReportFile } from './report-ledger.js';
import type { Plan } from '../engine/plan.js';

/** Colour only on a terminal, never with NO_COLOR (https://no-color.org) or --no-color. */
export function useColor(command: RunCommand, io: CliIO): boolean {
  return command.color && io.stdout.isTTY === true && !io.env.NO_COLOR;
}

interface BuiltReporters {
  reporters: Reporter[];
  sinks: Sink[];
  /** With `--reporter nagios`: the reporter, whose status decides the exit code. */
  nagios?: NagiosReporter;
}

function buildReporters(command: RunCommand, io: CliIO, files: ReportFile[], ledger: ReportLedger): BuiltReporters {
  const stdout = streamSink(io.stdout);
  const sinks: Sink[] = [stdout];
  const granularity = command.junitGranularity;
  const reporters: Reporter[] = [];
  if (command.reporter === 'console') {
    reporters.push(new ConsoleReporter(stdout, { color: useColor(command, io), progress: io.stdout.isTTY === true }));
  }
  if (command.reporter === 'tap') reporters.push(new TapReporter(stdout));
  if (command.reporter === 'junit') reporters.push(new JUnitReporter(stdout, { granularity }));
  if (command.reporter === 'json') reporters.push(new JsonReporter(stdout));
  const nagios = command.reporter === 'nagios' ? new NagiosReporter(stdout, { warnDays: command.warnDays, critDays: command.critDays }) : undefined;
  if (nagios) reporters.push(nagios);
  const toFile = (flag: string, make: (sink: Sink) => Reporter) => {
    const report = files.find((file) => file.flag === flag);
    if (!report) return;
    const sink = fileSink(report.path, { onWritten: () => ledger.written(report) });
    sinks.push(sink);
    reporters.push(make(sink));
  };
  toFile('--tap', (sink) => new TapReporter(sink));
  toFile('--junit', (sink) => new JUnitReporter(sink, { granularity }));
  toFile('--json', (sink) => new JsonReporter(sink));
  toFile('--html', (sink) => new HtmlReporter(sink));
  toFile('--openmetrics', (sink) => new OpenMetricsReporter(sink));
  return { reporters, sinks, ...(nagios ? { nagios } : {}) };
}

/** `--verbose`: the live transcript on stderr, so that stdout stays a clean report (TAP, JUnit, JSON). */
function liveTranscript(items: WorkItem[], command: RunCommand, io: CliIO): TranscriptListener {
  const targets = new Set(items.map((item) => formatTarget(item.target)));
  const live = new LiveTranscript((line) => io.stderr.write(`${line}\n`), {
    concurrent: command.concurrency > 1 && items.length > 1,
    showTarget: targets.size > 1,
  });
  return live.listener;
}

/**
 * With `--reporter nagios` the exit code is the plugin guidelines' (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN):
 * the status of the line written, and UNKNOWN for anything that left no status (a fault, a report not written,
 * an interrupted run). Every other reporter keeps smtpspec's own codes.
 */
export async function runCommand(command: RunCommand, io: CliIO): Promise<number> {
  if (command.reporter !== 'nagios') return runAndReport(command, io);
  const built: { nagios?: NagiosReporter } = {};
  const code = await runAndReport(command, io, built);
  const status = built.nagios?.status;
  return status !== undefined && (code === EXIT.passed || code === EXIT.failed) ? nagiosExitCode(status) : nagiosExitCode('UNKNOWN');
}

async function runAndReport(command: RunCommand, io: CliIO, built: { nagios?: NagiosReporter } = {}): Promise<number> {
  if (command.dryRun) return (await import('./dry-run.js')).dryRunCommand(command, io);
  const files = reportFilesOf(command);
  const ledger = io.reports ?? new ReportLedger();
  for (const file of files) ledger.expect(file);
  const plan = await planWork({ ...command, env: io.env, onLoaded: (scenarios) => printWarnings(scenarios, io) });
  try {
    const { items } = plan;
    // The sessions of a large plan reuse the memory its parse left, rather than grow on top of it.
    if (items.length >= LARGE_PLAN_CASES) collectGarbage();
    prepareReportFiles(files, runInputs(plan, command));
    const { reporters, sinks, nagios } = buildReporters(command, io, files, ledger);
    if (nagios) built.nagios = nagios;
    const mux = new ReporterMux(reporters);
    const faults: { where: string; stack: string }[] = [];
    const result = await runWork(items, {
      concurrency: command.concurrency,
      perHostLimit: command.perHost,
      bail: command.bail,
      retries: command.retries,
      reporter: mux,
      ...(io.signal ? { signal: io.signal } : {}),
      ...(command.maxReplyLineBytes ? { limits: { maxLineBytes: command.maxReplyLineBytes } } : {}),
      ...(command.verbose ? { onTranscript: liveTranscript(items, command, io) } : {}),
      onInternalFault: (info, fault) => faults.push({ where: `in ${info.id}`, stack: fault.stack }),
    });
    const failures = [...mux.failures, ...(await unreportedSinkFailures(sinks, mux))];
    // A report that could not be written is the system's answer (disk full, no permission); anything else a reporter threw is a fault in smtpspec.
    const shown = new Set<string>();
    for (const failure of failures) {
      if (isSystemError(failure.thrown)) io.stderr.write(`smtpspec: the ${failure.reporter} report failed: ${failure.error}\n`);
      // A reporter keeps receiving events after a fault, and may meet the same one at every case: its stack once.
      else if (!shown.has(`${failure.reporter} ${failure.error}`)) {
        shown.add(`${failure.reporter} ${failure.error}`);
        faults.push({ where: `in the ${failure.reporter} report`, stack: internalFault(failure.thrown, (text) => text).stack });
      }
    }
    // Interrupted: which reports are complete, and which are not there.
    if (io.signal?.aborted) io.stderr.write(ledger.summary());
    if (faults.length > 0) {
      printInternalErrors(io.stderr, faults);
      return EXIT.internal;
    }
    if (failures.length > 0) return EXIT.unusable;
    if (io.signal?.aborted) return EXIT.interrupted;
    return result.counts.failed + result.counts.errors === 0 ? EXIT.passed : EXIT.failed;
  } finally {
    await plan.close();
  }
}

/** Every file the run reads: a report must not be written over any of them. */
function runInputs(plan: Plan, command: RunCommand): InputFile[] {
  return [
    ...(plan.manifest ? [{ path: plan.manifest, what: 'the manifest' }] : []),
    ...command.ca.map((path) => ({ path, what: 'the CA certificate' })),
    ...scenarioInputs(plan.scenarios),
  ];
}

/**
 * Closes every sink. Reporters close their own in onEnd, where a failure is recorded by the mux already; one a
 * reporter left open (it failed before closing it) is closed here, and its failure, not seen before, returned.
 */
async function unreportedSinkFailures(sinks: Sink[], mux: ReporterMux): Promise<ReporterFailure[]> {
  const closed = await Promise.allSettled(sinks.map((sink) => sink.close()));
  const seen = new Set(mux.failures.map((failure) => failure.thrown));
  return closed.flatMap((outcome) =>
    outcome.status === 'rejected' && !seen.has(outcome.reason)
      ? [{ reporter: 'file', error: `close: ${outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason)}`, thrown: outcome.reason }]
      : [],
  );
}
