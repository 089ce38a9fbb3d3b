import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { writeFileAtomically } from '../atomic-file.js';
import { EXIT, type CliIO } from './io.js';
import type { RecordCommand } from './types.js';
import { schemaReference } from '../schema-reference.js';
import { formatAddress } from '../smtp/address.js';
import { caProblem } from '../scenario/files.js';
import { CertificateFiles } from '../smtp/certificate-files.js';
import { DEFAULT_TIMEOUT_MS } from '../scenario/types.js';
import { STDOUT_OUTPUT } from '../record/options.js';
import { recordSession } from '../record/session.js';
import type { RecordedStep } from '../record/steps.js';
import { scenarioText, variablesNeeded, type ScenarioSettings } from '../record/writer.js';

type Input = NodeJS.ReadableStream & { isTTY?: boolean };

/** `smtpspec record`: a session typed by hand becomes a scenario file. */
export async function recordCommand(command: RecordCommand, io: CliIO, input: Input = process.stdin): Promise<number> {
  const toStdout = command.output === STDOUT_OUTPUT;
  // With the scenario on stdout, the session is shown on stderr.
  const display = (toStdout ? io.stderr : io.stdout) as NodeJS.WritableStream & { isTTY?: boolean };
  const path = toStdout ? undefined : resolve(command.output);
  const certificates = new CertificateFiles();
  const problem = (path ? outputProblem(path, command) : undefined) ?? (await caProblem(command.ca, certificates));
  if (problem) {
    io.stderr.write(`smtpspec: ${problem}\n`);
    return EXIT.unusable;
  }
  const outcome = await recordSession({
    host: command.host,
    port: command.port,
    timeoutMs: command.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    tls: command.insecure ? { verify: false } : { verify: true, ca: command.ca.map((file) => resolve(file)), files: certificates.tlsFiles({ ca: command.ca }) },
    input,
    output: display,
    color: command.color && display.isTTY === true && !io.env.NO_COLOR,
    ...(io.signal ? { signal: io.signal } : {}),
  });
  if (outcome.status === 'interrupted') {
    io.stderr.write('smtpspec: interrupted: nothing was written\n');
    return EXIT.interrupted;
  }
  if (outcome.status === 'failed') {
    io.stderr.write(`smtpspec: ${outcome.message}; nothing was written\n`);
    return EXIT.failed;
  }
  const text = scenarioText(outcome.steps, settingsFor(command, path));
  if (!path) {
    io.stdout.write(text);
    return EXIT.passed;
  }
  try {
    writeFileAtomically(path, text, { replace: command.force });
  } catch (error) {
    io.stderr.write(`smtpspec: cannot write ${command.output}: ${reason(error)}\n`);
    return EXIT.unusable;
  }
  display.write(`${summary(outcome.steps, command.output)}\n`);
  return EXIT.passed;
}

/** Checked before connecting, so that a session is never typed for nothing. */
function outputProblem(path: string, command: RecordCommand): string | undefined {
  if (existsSync(path) && !command.force) return `${command.output} already exists (use --force to replace it)`;
  const folder = dirname(path);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) return `cannot write ${command.output}: the folder ${dirname(command.output)} does not exist`;
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    return `cannot write ${command.output}: the folder ${dirname(command.output)} is not writable`;
  }
  return undefined;
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EEXIST') return 'the file appeared during the session (use --force to replace it)';
  return code ?? (error instanceof Error ? error.message : String(error));
}

/** A path as the file should name it: relative to the file's folder when it can be. */
function fromFolder(folder: string, file: string): string {
  const path = relative(folder, file);
  return isAbsolute(path) ? path : path.split(sep).join('/');
}

function settingsFor(command: RecordCommand, path: string | undefined): ScenarioSettings {
  const folder = path ? dirname(path) : process.cwd();
  const settings: ScenarioSettings = {
    target: formatAddress(command.host, command.port),
    host: command.host,
    loose: command.loose,
    date: new Date(),
    schema: schemaReference(folder, 'scenario'),
  };
  if (command.timeoutText !== undefined) settings.timeout = command.timeoutText;
  if (command.insecure) settings.tls = { verify: false };
  else if (command.ca.length > 0) settings.tls = { ca: command.ca.map((file) => fromFolder(folder, resolve(file))) };
  return settings;
}

function summary(steps: RecordedStep[], output: string): string {
  const needed = variablesNeeded(steps);
  const env = needed.length > 0 ? `${needed.map((name) => `${name}=…`).join(' ')} ` : '';
  return `saved ${steps.length} steps to ${output}; replay them with: ${env}smtpspec run ${output}`;
}
