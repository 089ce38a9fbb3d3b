import { EXIT, printWarnings, type CliIO } from './io.js';
import type { MxCommand } from './types.js';
import { internalFault } from '../engine/internal-fault.js';
import { isSystemError } from '../errors.js';
import { DEFAULT_CONCURRENCY, DEFAULT_PER_HOST_LIMIT } from '../engine/limits.js';
import { planWork } from '../engine/plan.js';
import { runWork } from '../engine/run.js';
import { listChecks, resolveChecks } from '../checks/catalogue.js';
import { ReporterMux } from '../report/multiplex.js';
import { fileSink, streamSink, type Sink } from '../report/sink.js';
import { JUnitReporter } from '../report/junit.js';
import { MxTableReporter } from '../report/mx-table.js';
import type { Reporter } from '../engine/events.js';
import { yaml } from '../yaml-lib.js';
import { printInternalErrors } from './internal-error.js';
import { prepareReportFiles } from './report-files.js';
import { reportFilesOf, ReportLedger } from './report-ledger.js';

/**
 * `smtpspec mx DOMAIN…`: a manifest made in memory, one `domain:` target per domain with the checks
 * asked for (all of them by default), planned and run as `run` plans and runs a manifest: each MX
 * host of each domain (or the implicit MX) is a target of its own. What it prints is one table,
 * a row per MX host.
 */

/** How the manifest made in memory is named in messages. */
const MANIFEST_NAME = 'smtpspec mx';

/** The manifest for the command, as YAML text: each domain once, its own `domain` variable for the checks that take one. */
export function mxManifest(command: MxCommand): string {
  // An unknown name is a usage error naming the check that was likely meant, before any lookup.
  if (command.checks.length > 0) resolveChecks(command.checks);
  const checks = command.checks.length > 0 ? command.checks : listChecks().map((check) => check.name);
  const domains = [...new Map(command.domains.map((domain) => [domain.toLowerCase().replace(/\.$/, ''), domain])).keys()];
  return yaml.stringify({
    checks,
    targets: domains.map((domain) => ({ name: domain, domain, port: command.port, vars: { domain } })),
  });
}

export async function mxCommand(command: MxCommand, io: CliIO): Promise<number> {
  const files = reportFilesOf(command);
  const ledger = io.reports ?? new ReportLedger();
  for (const file of files) ledger.expect(file);
  const plan = await planWork({
    paths: [],
    manifestSource: { file: MANIFEST_NAME, text: mxManifest(command) },
    vars: command.vars,
    ca: command.ca,
    env: io.env,
    ...(command.timeoutMs ? { timeoutMs: command.timeoutMs } : {}),
    ...(command.dnsServer ? { dnsServer: command.dnsServer } : {}),
    onLoaded: (scenarios) => printWarnings(scenarios, io),
  });
  try {
    prepareReportFiles(files, command.ca.map((path) => ({ path, what: 'the CA certificate' })));
    const sinks: Sink[] = [streamSink(io.stdout)];
    const reporters: Reporter[] = [new MxTableReporter(sinks[0]!)];
    for (const file of files) {
      const sink = fileSink(file.path, { onWritten: () => ledger.written(file) });
      sinks.push(sink);
      reporters.push(file.flag === '--json' ? new MxTableReporter(sink, { json: true }) : new JUnitReporter(sink, { granularity: 'case' }));
    }
    const mux = new ReporterMux(reporters);
    const faults: { where: string; stack: string }[] = [];
    const result = await runWork(plan.items, {
      concurrency: DEFAULT_CONCURRENCY,
      perHostLimit: DEFAULT_PER_HOST_LIMIT,
      reporter: mux,
      ...(io.signal ? { signal: io.signal } : {}),
      onInternalFault: (info, fault) => faults.push({ where: `in ${info.id}`, stack: fault.stack }),
    });
    await Promise.allSettled(sinks.map((sink) => sink.close()));
    for (const failure of mux.failures) {
      if (isSystemError(failure.thrown)) io.stderr.write(`smtpspec: the ${failure.reporter} report failed: ${failure.error}\n`);
      else faults.push({ where: `in the ${failure.reporter} report`, stack: internalFault(failure.thrown, (text) => text).stack });
    }
    if (io.signal?.aborted) io.stderr.write(ledger.summary());
    if (faults.length > 0) {
      printInternalErrors(io.stderr, faults);
      return EXIT.internal;
    }
    if (mux.failures.length > 0) return EXIT.unusable;
    if (io.signal?.aborted) return EXIT.interrupted;
    return result.counts.failed + result.counts.errors === 0 ? EXIT.passed : EXIT.failed;
  } finally {
    await plan.close();
  }
}
