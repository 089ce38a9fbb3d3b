import type { CAC } from 'cac';
import { optionalString, parseStrings, parseTimeout } from '../cli-options.js';
import type { RecordCommand } from '../commands/types.js';
import { UsageError } from '../errors.js';
import { parseTarget } from '../scenario/target.js';

/** The `record` command's options, parsed into a plain command. */

export const DEFAULT_OUTPUT = 'recorded.yaml';
export const STDOUT_OUTPUT = '-';

export function recordCommandOf(o: Record<string, unknown>): RecordCommand {
  const targets = parseStrings(o.target, '--target', 'host[:port]');
  if (targets.length !== 1) throw new UsageError('record needs one --target host[:port]');
  const text = targets[0] as string;
  const target = parseTarget(text);
  if (!target || (target.kind !== undefined && target.kind !== 'tcp')) throw new UsageError(`--target expects host[:port], got "${text}"`);
  const ca = parseStrings(o.ca, '--ca', 'a file name');
  if (ca.length > 0 && o.insecure === true) throw new UsageError('use either --ca or --insecure, not both');
  const timeoutText = optionalString(o.timeout, '--timeout');
  const output = optionalString(o.output, '--output');
  if (output !== undefined && o.stdout === true) throw new UsageError('use either --output or --stdout, not both');
  return {
    command: 'record',
    host: target.host,
    port: target.port,
    output: o.stdout === true ? STDOUT_OUTPUT : (output ?? DEFAULT_OUTPUT),
    force: o.force === true,
    loose: o.loose === true,
    ...(timeoutText === undefined ? {} : { timeoutMs: parseTimeout(timeoutText), timeoutText }),
    ca,
    insecure: o.insecure === true,
    color: o.color !== false,
  };
}

export function addRecordCommand(cli: CAC, found: (command: RecordCommand) => void): void {
  cli
    .command('record', 'Type an SMTP session by hand, as with telnet, and save it as a scenario file')
    .option('--target <host[:port]>', 'Server to talk to (default port 25)')
    .option('-o, --output <file>', `Scenario file to write (default ${DEFAULT_OUTPUT})`)
    .option('--stdout', 'Print the scenario on standard output instead (the session is then shown on standard error)')
    .option('--force', 'Replace the output file if it exists')
    .option('--loose', 'Record reply classes (2xx, 5.1.x) instead of exact codes')
    .option('--timeout <duration>', 'Deadline for connecting and for each reply (default 30s)')
    .option('--ca <file>', 'Trust this CA certificate (PEM) for STARTTLS (repeatable); recorded in the file', { type: [String] })
    .option('--insecure', 'Do not verify the certificate after STARTTLS; recorded as tls: { verify: false }')
    .option('--no-color', 'Never colour the session')
    .example('smtpspec record --target mx.example.com -o scenarios/mx.yaml')
    .example('smtpspec record --target 127.0.0.1:2525 -o session.yaml < commands.txt')
    .action((o: Record<string, unknown>) => found(recordCommandOf(o)));
}
