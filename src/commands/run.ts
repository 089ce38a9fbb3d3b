import { EXIT, printWarnings, type CliIO, type RunCommand } from '../cli.js';
import { UsageError } from '../errors.js';
import { filterItems } from '../engine/filter.js';
import { runBatch } from '../engine/run-batch.js';
import { planRun, type WorkItem } from '../engine/run.js';
import { selectShard, shardKey } from '../engine/shard.js';
import { isManifestFile, loadManifest } from '../manifest/manifest.js';
import { planManifest } from '../manifest/plan.js';
import type { Reporter } from '../report/reporter.js';
import { ReporterMux } from '../report/multiplex.js';
import { fileSink, streamSink, type Sink } from '../report/sink.js';
import { ConsoleReporter } from '../report/console.js';
import { TapReporter } from '../report/tap.js';
import { JUnitReporter } from '../report/junit.js';
import { JsonReporter } from '../report/json.js';
import { HtmlReporter } from '../report/html.js';
import { loadScenarios } from '../scenario/load.js';
import { parseTarget } from '../scenario/target.js';
import type { Scenario, Target } from '../scenario/types.js';
import { embeddedCaFile, startEmbeddedServer, type EmbeddedServer } from '../server/embedded.js';

/** Colour only on a terminal, never with NO_COLOR (https://no-color.org) or --no-color. */
export function useColor(command: RunCommand, io: CliIO): boolean {
  return command.color && io.stdout.isTTY === true && !io.env.NO_COLOR;
}

function buildReporters(command: RunCommand, io: CliIO): { reporters: Reporter[]; sinks: Sink[] } {
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
  const toFile = (file: string | undefined, make: (sink: Sink) => Reporter) => {
    if (!file) return;
    const sink = fileSink(file);
    sinks.push(sink);
    reporters.push(make(sink));
  };
  toFile(command.tapFile, (sink) => new TapReporter(sink));
  toFile(command.junitFile, (sink) => new JUnitReporter(sink, { granularity }));
  toFile(command.jsonFile, (sink) => new JsonReporter(sink));
  toFile(command.htmlFile, (sink) => new HtmlReporter(sink));
  return { reporters, sinks };
}

interface Planned {
  items: WorkItem[];
  scenarios: Scenario[];
  server?: EmbeddedServer;
}

function manifestPathOf(paths: string[]): string | undefined {
  const manifests = paths.filter((path) => isManifestFile(path));
  if (manifests.length === 0) return undefined;
  if (paths.length > 1) throw new UsageError(`a manifest runs on its own: run ${manifests[0]} without other files`);
  return manifests[0];
}

async function planFromManifest(path: string, command: RunCommand, io: CliIO): Promise<Planned> {
  if (command.embedded) throw new UsageError('--embedded does not go with a manifest: the manifest names the servers');
  const manifest = await loadManifest(path);
  return planManifest(manifest, {
    vars: command.vars,
    env: io.env,
    ca: command.ca,
    ...(command.timeoutMs ? { defaultTimeoutMs: command.timeoutMs } : {}),
    ...(command.dnsServer ? { dnsServer: command.dnsServer } : {}),
    only: command.targets,
  });
}

async function planFromFiles(command: RunCommand, io: CliIO): Promise<Planned> {
  if (command.targets.length > 1) throw new UsageError('--target names one server when running scenario files');
  const scenarios = await loadScenarios(command.paths, {
    vars: command.vars,
    env: io.env,
    defaultTimeoutMs: command.timeoutMs,
    // The embedded server's certificate is trusted when the run targets it.
    ca: command.embedded ? [...command.ca, embeddedCaFile()] : command.ca,
  });
  let target: Target | undefined = command.targets[0] === undefined ? undefined : parseTarget(command.targets[0]);
  const server = command.embedded ? await startEmbeddedServer() : undefined;
  if (server) target = { host: server.host, port: server.port };
  try {
    return { items: planRun(scenarios, target), scenarios, ...(server ? { server } : {}) };
  } catch (error) {
    await server?.close();
    throw error;
  }
}

/** The work after --grep, --tag and --shard; filters that leave nothing are a usage error, an empty shard is not. */
function selectWork(items: WorkItem[], command: RunCommand): WorkItem[] {
  let selected = filterItems(items, { ...(command.grep ? { grep: command.grep } : {}), tags: command.tags });
  if (selected.length === 0 && items.length > 0) {
    throw new UsageError('no case matches the --grep / --tag filters');
  }
  if (command.shard) selected = selectShard(selected, command.shard, shardKey);
  return selected;
}

export async function runCommand(command: RunCommand, io: CliIO): Promise<number> {
  const manifestPath = manifestPathOf(command.paths);
  const planned = manifestPath ? await planFromManifest(manifestPath, command, io) : await planFromFiles(command, io);
  try {
    printWarnings(planned.scenarios, io);
    const items = selectWork(planned.items, command);
    const { reporters, sinks } = buildReporters(command, io);
    const mux = new ReporterMux(reporters);
    const result = await runBatch(items, {
      concurrency: command.concurrency,
      perHostLimit: command.perHost,
      bail: command.bail,
      retries: command.retries,
      reporter: mux,
      ...(io.signal ? { signal: io.signal } : {}),
      ...(command.maxReplyLineBytes ? { limits: { maxLineBytes: command.maxReplyLineBytes } } : {}),
    });
    await Promise.all(sinks.map((sink) => sink.close()));
    for (const failure of mux.failures) io.stderr.write(`smtpspec: the ${failure.reporter} report failed: ${failure.error}\n`);
    if (mux.failures.length > 0) return EXIT.unusable;
    if (io.signal?.aborted) return EXIT.interrupted;
    return result.counts.failed + result.counts.errors === 0 ? EXIT.passed : EXIT.failed;
  } finally {
    await planned.server?.close();
  }
}
