import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { lstatSync, readdirSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { EXIT, type CliIO } from './io.js';
import type { ExporterCommand } from './types.js';
import { InputError, ScenarioError, UsageError, formatIssue, isSystemError } from '../errors.js';
import { planWork } from '../engine/plan.js';
import { runWork } from '../engine/run.js';
import { parseTarget } from '../scenario/target.js';
import { parseDuration } from '../scenario/duration.js';
import { listChecks } from '../checks/catalogue.js';
import type { RunResult } from '../engine/results.js';
import { buildOpenMetrics, formatOpenMetrics, type MetricFamily } from '../report/openmetrics.js';

/**
 * `smtpspec exporter`: an HTTP endpoint in the multi-target style of Prometheus' blackbox_exporter.
 * `GET /probe?target=HOST[:PORT]&check=NAME` (or `&scenario=FILE` from the --scenarios folder) plans and
 * runs that scenario against that target, and answers the run's OpenMetrics text with `probe_success` and
 * `probe_duration_seconds`; `GET /metrics` answers the exporter's own counters. Prometheus does the scheduling.
 */

export const DEFAULT_LISTEN = { host: '127.0.0.1', port: 9125 };
export const DEFAULT_PROBE_TIMEOUT_MS = 30_000;
/** The longest deadline `?timeout=` may ask for. */
export const MAX_PROBE_TIMEOUT_MS = 300_000;

const CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export interface ExporterOptions {
  host?: string;
  /** 0 for any free port. */
  port?: number;
  /** `--scenarios DIR`: the only folder `?scenario=` names files in. */
  scenariosDir?: string;
  /** `--var`: variables for every probe. */
  vars?: Record<string, string>;
  /** `--ca`: CA files trusted for TLS. */
  ca?: string[];
  /** `--dns-server`: where mail domains and DNS checks are looked up. */
  dnsServer?: { host: string; port: number };
  /** For `${env:…}` in scenarios. */
  env?: Record<string, string | undefined>;
  /** One line per probe that could not be run (a fault), for the operator. */
  log?: (line: string) => void;
}

export interface RunningExporter {
  host: string;
  port: number;
  /** Stops listening, ends the probes under way, and resolves once the server is closed. */
  close(): Promise<void>;
}

interface Counters {
  probes: number;
  failures: number;
  badRequests: number;
}

/** A probe's request, checked: the target, the scenario file to run, and its deadline. */
interface ProbeRequest {
  target: string;
  file: string;
  timeoutMs: number;
}

/** A request the exporter refuses with 400 and one sentence. */
class BadProbeError extends Error {}

export async function startExporter(options: ExporterOptions = {}): Promise<RunningExporter> {
  const counters: Counters = { probes: 0, failures: 0, badRequests: 0 };
  const stopping = new AbortController();
  const log = options.log ?? (() => {});
  const server = createServer((request, response) => {
    handle(request, response, options, counters, stopping.signal).catch((error: unknown) => {
      log(`smtpspec exporter: ${request.url ?? ''}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      answer(response, 500, 'text/plain; charset=utf-8', 'internal error in smtpspec\n');
    });
  });
  server.requestTimeout = MAX_PROBE_TIMEOUT_MS + 30_000;
  const host = options.host ?? DEFAULT_LISTEN.host;
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_LISTEN.port, host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host,
    port,
    close: () =>
      new Promise<void>((resolvePromise) => {
        stopping.abort();
        server.close(() => resolvePromise());
        server.closeIdleConnections();
      }),
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, options: ExporterOptions, counters: Counters, stopping: AbortSignal): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://exporter.invalid');
  if (request.method !== 'GET' && request.method !== 'HEAD') return answer(response, 405, 'text/plain; charset=utf-8', 'only GET is answered\n');
  if (url.pathname === '/metrics') return answer(response, 200, CONTENT_TYPE, formatOpenMetrics(exporterFamilies(counters)));
  if (url.pathname !== '/probe') return answer(response, 404, 'text/plain; charset=utf-8', 'not found: ask for /probe?target=HOST[:PORT]&check=NAME or /metrics\n');
  let probe: ProbeRequest;
  try {
    probe = probeRequestOf(url.searchParams, options);
  } catch (error) {
    if (!(error instanceof BadProbeError)) throw error;
    counters.badRequests++;
    return answer(response, 400, 'text/plain; charset=utf-8', `${error.message}\n`);
  }
  counters.probes++;
  const started = performance.now();
  let result: RunResult;
  try {
    result = await runProbe(probe, options, stopping);
  } catch (error) {
    const sentence = unusableSentence(error);
    if (sentence === undefined) throw error;
    counters.failures++;
    counters.badRequests++;
    return answer(response, 400, 'text/plain; charset=utf-8', `${sentence}\n`);
  }
  const success = probeSucceeded(result);
  if (!success) counters.failures++;
  const durationSeconds = (performance.now() - started) / 1000;
  answer(response, 200, CONTENT_TYPE, buildOpenMetrics(result, probeFamilies(success, durationSeconds)));
}

function answer(response: ServerResponse, status: number, contentType: string, body: string): void {
  if (response.headersSent) return void response.end();
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** The probe's parameters, or a BadProbeError naming the one that is wrong. */
export function probeRequestOf(params: URLSearchParams, options: Pick<ExporterOptions, 'scenariosDir'>): ProbeRequest {
  for (const name of new Set(params.keys())) {
    if (!['target', 'scenario', 'check', 'timeout'].includes(name)) throw new BadProbeError(`unknown parameter "${name}" (use target, check or scenario, and timeout)`);
    if (params.getAll(name).length > 1) throw new BadProbeError(`the parameter "${name}" is given more than once`);
  }
  const targetText = params.get('target');
  if (!targetText) throw new BadProbeError('target is missing: ask for /probe?target=HOST[:PORT]&check=NAME');
  const target = parseTarget(targetText);
  if (!target) throw new BadProbeError(`target expects host[:port], got "${printableParam(targetText)}"`);
  const check = params.get('check');
  const scenario = params.get('scenario');
  if ((check === null) === (scenario === null)) throw new BadProbeError('give either check=NAME or scenario=FILE, one of them');
  const file = check !== null ? checkFile(check) : scenarioFile(scenario!, options.scenariosDir);
  return { target: targetText, file, timeoutMs: timeoutOf(params.get('timeout')) };
}

function checkFile(name: string): string {
  const found = listChecks().find((check) => check.name === name);
  if (!found) throw new BadProbeError(`there is no check named "${printableParam(name)}" ("smtpspec checks" lists them)`);
  return found.path;
}

/** A file directly in the --scenarios folder, named as listed there: never a path from the query string. */
function scenarioFile(name: string, dir: string | undefined): string {
  if (dir === undefined) throw new BadProbeError('scenario= needs the exporter started with --scenarios DIR; use check=NAME');
  const listed = readdirSync(dir, { withFileTypes: true }).find((entry) => entry.name === name && entry.isFile() && ['.yaml', '.yml'].includes(extname(entry.name)));
  if (!listed) throw new BadProbeError(`there is no scenario file "${printableParam(name)}" in the scenarios folder`);
  const path = join(resolve(dir), listed.name);
  if (!lstatSync(path).isFile()) throw new BadProbeError(`the scenario "${printableParam(name)}" is not a regular file`);
  return path;
}

/** `?timeout=`: seconds (`10`, `2.5`) or a duration (`10s`, `500ms`); at most MAX_PROBE_TIMEOUT_MS. */
function timeoutOf(text: string | null): number {
  if (text === null) return DEFAULT_PROBE_TIMEOUT_MS;
  const ms = /^[0-9]+(\.[0-9]+)?$/.test(text) ? Number(text) * 1000 : parseDuration(text);
  if (ms === undefined || !(ms > 0)) throw new BadProbeError(`timeout expects seconds or a duration such as 10s, got "${printableParam(text)}"`);
  return Math.min(ms, MAX_PROBE_TIMEOUT_MS);
}

function printableParam(text: string): string {
  const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return JSON.stringify(shown).slice(1, -1);
}

/** Plans the scenario against the target and runs it within the probe's deadline. */
async function runProbe(probe: ProbeRequest, options: ExporterOptions, stopping: AbortSignal): Promise<RunResult> {
  const deadline = AbortSignal.any([AbortSignal.timeout(probe.timeoutMs), stopping]);
  const plan = await planWork({
    paths: [probe.file],
    targets: [probe.target],
    vars: options.vars ?? {},
    ca: options.ca ?? [],
    timeoutMs: probe.timeoutMs,
    ...(options.env ? { env: options.env } : {}),
    ...(options.dnsServer ? { dnsServer: options.dnsServer } : {}),
  });
  try {
    if (plan.manifest) throw new InputError(`${probe.file} is a manifest; a probe runs a scenario file`);
    return await runWork(plan.items, { signal: deadline });
  } finally {
    await plan.close();
  }
}

/** The one sentence for a scenario the probe cannot use; undefined for anything else (a fault). */
function unusableSentence(error: unknown): string | undefined {
  if (error instanceof ScenarioError) return error.issues[0] ? formatIssue(error.issues[0]) : 'the scenario is not usable';
  if (error instanceof UsageError || error instanceof InputError || isSystemError(error)) return error.message;
  return undefined;
}

/** Passed: at least one case ran, and every case that ran passed. */
export function probeSucceeded(result: RunResult): boolean {
  const ran = result.cases.filter((item) => item.status !== 'skipped');
  return ran.length > 0 && ran.every((item) => item.status === 'passed');
}

function probeFamilies(success: boolean, durationSeconds: number): MetricFamily[] {
  return [
    { name: 'probe_success', type: 'gauge', help: 'Whether the probe passed: every case that ran passed.', samples: [{ labels: [], value: success ? 1 : 0 }] },
    { name: 'probe_duration_seconds', type: 'gauge', unit: 'seconds', help: 'How long the probe took.', samples: [{ labels: [], value: durationSeconds }] },
  ];
}

function exporterFamilies(counters: Counters): MetricFamily[] {
  return [
    { name: 'smtpspec_exporter_probes', type: 'counter', help: 'Probes run.', samples: [{ labels: [], value: counters.probes }] },
    { name: 'smtpspec_exporter_probe_failures', type: 'counter', help: 'Probes that did not pass, or whose scenario was not usable.', samples: [{ labels: [], value: counters.failures }] },
    { name: 'smtpspec_exporter_bad_requests', type: 'counter', help: 'Requests answered with 400.', samples: [{ labels: [], value: counters.badRequests }] },
  ];
}

/** The command: listens until SIGINT or SIGTERM, then stops (exit 130, like serve). */
export async function exporterCommand(command: ExporterCommand, io: CliIO): Promise<number> {
  if (command.scenariosDir !== undefined) {
    let folder = false;
    try {
      folder = lstatSync(command.scenariosDir).isDirectory();
    } catch {
      folder = false;
    }
    if (!folder) throw new InputError(`--scenarios ${command.scenariosDir} is not a folder`);
  }
  const exporter = await startExporter({
    host: command.host,
    port: command.port,
    vars: command.vars,
    ca: command.ca,
    ...(command.dnsServer ? { dnsServer: command.dnsServer } : {}),
    env: io.env,
    log: (line) => io.stderr.write(`${line}\n`),
    ...(command.scenariosDir === undefined ? {} : { scenariosDir: command.scenariosDir }),
  }).catch((error: unknown) => {
    if (!isSystemError(error)) throw error;
    const reason = error.code === 'EADDRINUSE' ? 'the address is already in use' : error.message;
    throw new InputError(`cannot listen on ${command.host}:${command.port}: ${reason}`);
  });
  io.stdout.write(`listening on http://${exporter.host}:${exporter.port}/ (GET /probe?target=HOST[:PORT]&check=NAME, GET /metrics)\n`);
  await (io.untilStopped ?? new Promise<never>(() => {}));
  io.stdout.write('stopping\n');
  await exporter.close();
  return EXIT.interrupted;
}
