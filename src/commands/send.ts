import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { writeFileAtomically } from '../atomic-file.js';
import { EXIT, printWarnings, type CliIO } from './io.js';
import type { SendCommand } from './types.js';
import { InputError, ScenarioError, UsageError } from '../errors.js';
import { planWork } from '../engine/plan.js';
import { runWork } from '../engine/run.js';
import type { CaseResult } from '../engine/results.js';
import { LiveTranscript } from '../report/live-transcript.js';
import { prepareReportFiles, type InputFile } from './report-files.js';
import { schemaReference } from '../schema-reference.js';
import { formatAddress } from '../smtp/address.js';
import type { Reply } from '../smtp/types.js';
import { sendScenario, type SendSettings, type StepKey } from '../oneoff/send-scenario.js';
import { swaksCommandLine } from '../oneoff/print-swaks.js';
import { passwordFor } from '../oneoff/password.js';
import { parseTimeout } from '../cli-options.js';

type Input = NodeJS.ReadableStream & { isTTY?: boolean };

/** The scenario's name when it is not saved: its relative paths are from the working folder. */
const UNSAVED_FILE = 'smtpspec-send';

/** `smtpspec send`: one transaction from flags, built as a scenario, run by the planner and driver `run` uses. */
export async function sendCommand(command: SendCommand, io: CliIO, input: Input = process.stdin): Promise<number> {
  if (command.printSwaks) {
    io.stdout.write(`${swaksCommandLine(command)}\n`);
    return EXIT.passed;
  }
  const file = command.save ?? UNSAVED_FILE;
  const folder = dirname(resolve(file));
  if (command.save !== undefined) checkSavePath(command, command.save);
  const target = await targetOf(command, folder, io);
  if ('failed' in target) {
    io.stdout.write(`failed: ${target.failed}\n`);
    return EXIT.failed;
  }
  const settings: SendSettings = {
    ...target,
    from: command.from ?? `${userInfo().username}@${hostname()}`,
    helo: command.helo ?? hostname(),
    ca: command.ca.map((path) => fromFolder(folder, path)),
    ...(command.data !== undefined ? { data: fromFolder(folder, command.data) } : {}),
    attach: command.attach.map((path) => fromFolder(folder, path)),
    date: new Date(),
    ...(command.save !== undefined ? { schema: schemaReference(folder, 'scenario') } : {}),
  };
  const env = await credentialsEnv(command, io, input);
  const built = sendScenario(command, settings);
  const plan = await planned(command, built.text, file, env, io);
  const cases: CaseResult[] = [];
  try {
    const live = new LiveTranscript((line) => io.stdout.write(`${line}\n`), { concurrent: false, showTarget: false });
    await runWork(plan.items, {
      concurrency: 1,
      reporter: { onCaseEnd: (result) => cases.push(result) },
      onTranscript: live.listener,
      ...(io.signal ? { signal: io.signal } : {}),
    });
  } finally {
    await plan.close();
  }
  const result = cases[0];
  if (io.signal?.aborted || !result) {
    io.stderr.write('smtpspec: interrupted; nothing was saved\n');
    return EXIT.interrupted;
  }
  io.stdout.write(`${verdict(result)}\n`);
  if (command.save !== undefined) {
    const saved = sendScenario(command, settings, observedReplies(result, built.keys));
    writeFileAtomically(resolve(command.save), saved.text, { replace: command.force });
    const needed = command.auth ? `SMTP_USER=… ${command.auth.mechanism === 'XOAUTH2' ? 'SMTP_TOKEN' : 'SMTP_PASSWORD'}=… ` : '';
    const embedded = command.embedded ? ' --embedded' : '';
    io.stdout.write(`saved to ${command.save}; replay it with: ${needed}smtpspec run ${command.save}${embedded}\n`);
  }
  return result.status === 'passed' || result.status === 'skipped' ? EXIT.passed : EXIT.failed;
}

/** Refused before connecting: an existing file (without --force), a folder, a file the transaction reads. */
function checkSavePath(command: SendCommand, save: string): void {
  const inputs: InputFile[] = [
    ...command.ca.map((path) => ({ path, what: 'the CA certificate' })),
    ...(command.data !== undefined ? [{ path: command.data, what: 'the message file' }] : []),
    ...command.attach.map((path) => ({ path, what: 'the attachment' })),
  ];
  prepareReportFiles([{ flag: '--save', path: save, noun: 'saved scenario' }], inputs);
  if (existsSync(save) && !command.force) throw new InputError(`--save ${save} already exists (use --force to replace it)`);
}

/** A path as the scenario names it: relative to the scenario's folder when it can be. */
function fromFolder(folder: string, path: string): string {
  const shown = relative(folder, resolve(path));
  return isAbsolute(shown) ? shown : shown.split(sep).join('/');
}

function defaultPort(command: SendCommand): number {
  if (command.tls === 'implicit') return 465;
  return command.protocol === 'lmtp' ? 24 : 25;
}

/** The scenario's target: the server, socket or command given, the embedded server (none written), or the MX of the first recipient's domain. */
async function targetOf(command: SendCommand, folder: string, io: CliIO): Promise<Pick<SendSettings, 'target' | 'targetNote'> | { failed: string }> {
  const port = command.port ?? defaultPort(command);
  if (command.embedded) return {};
  if (command.socket !== undefined) return { target: { socket: fromFolder(folder, command.socket) } };
  if (command.pipe) return { target: { exec: command.pipe } };
  if (command.server) return { target: formatAddress(command.server.host, port) };
  const first = command.to[0]!;
  const domain = first.slice(first.lastIndexOf('@') + 1);
  if (!first.includes('@') || domain === '') throw new UsageError(`without --server, the first --to address needs a domain to look its MX up, got "${first}"`);
  const { resolveTargetHosts } = await import('../manifest/mx.js');
  const timeoutMs = command.timeout !== undefined ? (parseTimeout(command.timeout) ?? 30_000) : 30_000;
  const resolution = await resolveTargetHosts(
    { domain, port, mx: 'primary' },
    { timeoutMs, ...(command.dnsServer ? { dnsServer: command.dnsServer } : {}), ...(command.family ? { family: command.family } : {}) },
  );
  if ('error' in resolution) return { failed: resolution.error };
  const host = resolution.hosts[0];
  if (!host) return { failed: `no MX host for ${domain}` };
  if (host.error !== undefined) return { failed: host.error };
  const address = host.addresses?.[0] ?? host.host;
  io.stdout.write(`MX of ${domain}: ${host.host}${address !== host.host ? ` (${address})` : ''}\n`);
  return { target: formatAddress(address, port), targetNote: `${host.implicit ? 'the implicit MX' : 'the MX'} of ${domain}: ${host.host}` };
}

/** The environment the scenario reads its credentials from: the user's, with the login given on the command line. */
async function credentialsEnv(command: SendCommand, io: CliIO, input: Input): Promise<Record<string, string | undefined>> {
  if (!command.auth) return io.env;
  const variable = command.auth.mechanism === 'XOAUTH2' ? 'SMTP_TOKEN' : 'SMTP_PASSWORD';
  const password = await passwordFor(variable, command.authPassword, io.env, input, io.stderr);
  if (password === undefined) throw new UsageError(`--auth needs the password: set ${variable}, or run on a terminal to type it`);
  return { ...io.env, SMTP_USER: command.auth.user, [variable]: password };
}

async function planned(command: SendCommand, text: string, file: string, env: Record<string, string | undefined>, io: CliIO) {
  try {
    return await planWork({
      paths: [],
      sources: [{ text, file }],
      embedded: command.embedded,
      env,
      ...(command.dnsServer ? { dnsServer: command.dnsServer } : {}),
      ...(command.localAddress !== undefined ? { localAddress: command.localAddress } : {}),
      ...(command.family ? { family: command.family } : {}),
      onLoaded: (scenarios) => printWarnings(scenarios, io),
    });
  } catch (error) {
    // The flags made a scenario the loader refuses (a file that cannot be read, a value it does not take): its words, without the positions in a file nobody wrote.
    if (error instanceof ScenarioError) throw new InputError(error.issues.map((issue) => issue.message).join('; '));
    throw error;
  }
}

/** The replies of the steps that passed, by step key: what a saved file expects where no --expect said. */
function observedReplies(result: CaseResult, keys: (StepKey | StepKey[])[]): Map<StepKey, Reply> {
  const observed = new Map<StepKey, Reply>();
  for (const step of result.steps) {
    const key = keys[step.index];
    if (step.status !== 'passed' || key === undefined) continue;
    if (typeof key === 'string') {
      if (step.reply) observed.set(key, step.reply);
    } else key.forEach((each, index) => step.replies?.[index] && observed.set(each, step.replies[index]));
  }
  return observed;
}

/** The one line that ends the output. */
function verdict(result: CaseResult): string {
  const ran = result.steps.filter((step) => step.status !== 'skipped').length;
  if (result.status === 'passed' || result.status === 'skipped') return `passed: every expectation held (${ran} steps, ${Math.round(result.durationMs)} ms)`;
  return `failed: ${result.failure?.message ?? result.status}`;
}
