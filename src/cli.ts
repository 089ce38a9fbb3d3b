import { cac, type CAC } from 'cac';
import {
  DEFAULT_MANIFEST_FILE,
  DEFAULT_SCENARIO_FILE,
  initCommandOf,
  listCommandOf,
  includeRootOf,
  oneOf,
  optionalString,
  parseClientAddress,
  parseDnsServer,
  parseGrep,
  parseStrings,
  parseTargets,
  parseTimeout,
  parseSecretNames,
  parseVars,
  parseWholeNumber,
} from './cli-options.js';
import { DEFAULT_CONCURRENCY, DEFAULT_PER_HOST_LIMIT } from './engine/limits.js';
import { parseShard } from './engine/shard-spec.js';
import { InputError, ScenarioError, UsageError, formatIssue, isSystemError } from './errors.js';
import { printInternalErrors } from './commands/internal-error.js';
import { internalFault } from './engine/internal-fault.js';
import { packageVersion } from './package-info.js';
import { EXIT, type CliIO } from './commands/io.js';
import { reportFilesOf } from './commands/report-ledger.js';
import type { Command, MergeCommand, MxCommand, RunCommand, StdoutReporter } from './commands/types.js';
import { addRecordCommand } from './record/options.js';
import { isIP } from './ip.js';
import { isValidHost } from './scenario/target.js';
import { addSendCommand } from './oneoff/send-options.js';

/**
 * Command-line wiring only: `parseArgs` turns argv into a plain command (pure, testable),
 * `main` runs it and returns the exit code. Heavy modules load only for the command that needs them.
 */

const REPORTERS: readonly StdoutReporter[] = ['console', 'tap', 'junit', 'json', 'nagios'];
const COMMANDS = 'run, send, validate, list, init, record, serve, exporter, merge, checks, mx';

function runCommandOf(paths: string[], o: Record<string, unknown>): RunCommand {
  const targets = parseTargets(o.target);
  if (targets.length > 0 && o.embedded) throw new UsageError('use either --target or --embedded, not both');
  const shardText = optionalString(o.shard, '--shard');
  const shard = shardText === undefined ? undefined : parseShard(shardText);
  if (shardText !== undefined && !shard) throw new UsageError(`--shard expects i/n with 1 <= i <= n, such as 2/5, got "${shardText}"`);
  const checks = parseStrings(o.check, '--check');
  if (paths.length === 0 && checks.length === 0) {
    throw new UsageError('run needs scenario files, folders, a manifest or --check NAME');
  }
  return {
    command: 'run',
    paths: paths.map(String),
    checks,
    targets,
    embedded: o.embedded === true,
    timeoutMs: parseTimeout(o.timeout),
    vars: parseVars(o.var),
    secrets: parseSecretNames(o.secret),
    ca: parseStrings(o.ca, '--ca', 'a file name'),
    ...includeRootOf(o),
    reporter: oneOf(o.reporter, '--reporter', REPORTERS),
    junitFile: optionalString(o.junit, '--junit'),
    tapFile: optionalString(o.tap, '--tap'),
    jsonFile: optionalString(o.json, '--json'),
    htmlFile: optionalString(o.html, '--html'),
    ...openmetricsOf(o),
    ...certificateDays(o),
    junitGranularity: oneOf(o.junitGranularity, '--junit-granularity', ['case', 'step'] as const),
    color: o.color !== false,
    concurrency: parseWholeNumber(o.concurrency, '--concurrency', 1),
    perHost: parseWholeNumber(o.perHost, '--per-host', 1),
    grep: parseGrep(o.grep),
    tags: parseStrings(o.tag, '--tag'),
    bail: o.bail === true,
    retries: parseWholeNumber(o.retries, '--retries', 0),
    shard,
    dnsServer: parseDnsServer(o.dnsServer),
    ...parseClientAddress(o),
    ...(o.maxReplyLine === undefined ? {} : { maxReplyLineBytes: parseWholeNumber(o.maxReplyLine, '--max-reply-line', 512) }),
    ...(o.dryRun === true ? { dryRun: true } : {}),
    ...(o.verbose === true ? { verbose: true } : {}),
  };
}

function openmetricsOf(o: Record<string, unknown>): { openmetricsFile?: string } {
  const file = optionalString(o.openmetrics, '--openmetrics');
  return file === undefined ? {} : { openmetricsFile: file };
}

function certificateDays(o: Record<string, unknown>): { warnDays: number; critDays: number } {
  const warnDays = parseWholeNumber(o.warnDays, '--warn-days', 0);
  const critDays = parseWholeNumber(o.critDays, '--crit-days', 0);
  if (critDays > warnDays) throw new UsageError(`--crit-days (${critDays}) must not be more than --warn-days (${warnDays})`);
  return { warnDays, critDays };
}

function addRunCommand(cli: CAC, found: (command: Command) => void): void {
  cli
    .command('run [...paths]', 'Run scenario files (folders are searched for *.yaml / *.yml), or one manifest')
    .option('--check <name>', 'Run a ready-made check (repeatable; "smtpspec checks" lists them)', { type: [String] })
    .option('--target <host[:port]>', "Server to test instead of each file's target (default port 25); with a manifest: only the targets with this name or tag (repeatable)", { type: [String] })
    .option('--embedded', 'Start the embedded test server and run every case against it')
    .option('--timeout <duration>', 'Default deadline per reply where a file sets none (e.g. 5s; default 30s)')
    .option('--var <name=value>', 'Set a variable (repeatable); overrides the files', { type: [String] })
    .option('--secret <name>', 'The value of this variable or environment variable is secret: shown as **** (repeatable)', { type: [String] })
    .option('--ca <file>', 'Trust this CA certificate (PEM) for TLS, besides the system CAs (repeatable)', { type: [String] })
    .option('--include-root <dir>', "Allow included files anywhere under this folder (default: the scenario file's folder)")
    .option('--reporter <name>', 'What to print on stdout: console, tap, junit, json or nagios (a plugin status line and exit code)', { default: 'console' })
    .option('--junit <file>', 'Also write a JUnit XML report to this file')
    .option('--junit-granularity <level>', 'One JUnit testcase per case or per step', { default: 'case' })
    .option('--tap <file>', 'Also write a TAP report to this file')
    .option('--json <file>', 'Also write the results as JSON to this file (for dashboards and merge)')
    .option('--html <file>', 'Also write a self-contained HTML report to this file')
    .option('--openmetrics <file>', "Also write OpenMetrics text to this file (for node_exporter's textfile collector)")
    .option('--warn-days <n>', 'With --reporter nagios: WARNING when a certificate has fewer days left', { default: 30 })
    .option('--crit-days <n>', 'With --reporter nagios: CRITICAL when a certificate has fewer days left', { default: 14 })
    .option('--concurrency <n>', 'Sessions at once', { default: DEFAULT_CONCURRENCY })
    .option('--per-host <n>', 'Sessions at once to one host', { default: DEFAULT_PER_HOST_LIMIT })
    .option('--grep <regex>', 'Only cases whose "<scenario> › <case>" name matches (case-insensitive)')
    .option('--tag <tag>', 'Only cases with this tag (repeatable: any of them)', { type: [String] })
    .option('--bail', 'Start no new case after the first failure')
    .option('--retries <n>', 'Retry cases that failed on a network error up to n times; they are reported as flaky', { default: 0 })
    .option('--shard <i/n>', 'Run only the i-th of n deterministic slices of the work (for CI matrices)')
    .option('--dns-server <host:port>', 'Ask this DNS server: MX records and host names of mail domains, and the lookups of DNS check steps')
    .option('--local-address <address>', 'Connect from this IP address of this machine (TCP targets)')
    .option('-4, --ipv4', 'Connect over IPv4 only, and look up only A records')
    .option('-6, --ipv6', 'Connect over IPv6 only, and look up only AAAA records')
    .option('--max-reply-line <bytes>', 'Longest reply line accepted (default 8192; RFC 5321 allows 512)')
    .option('--no-color', 'Never colour the console output')
    .option('--dry-run', 'Print what would be sent to each server, in order, and connect to nothing')
    .option('--verbose', 'Print each session as it happens (C: / S: lines, ms since it began) on stderr')
    .example('smtpspec run scenarios/ --target mx.example.com')
    .example('smtpspec run --check open-relay --check starttls --target mx.example.com --var domain=example.com')
    .example('smtpspec run scenarios/ --embedded --junit report.xml')
    .example('smtpspec run fleet.yaml --concurrency 16 --shard 1/4 --json shard-1.json')
    .action((paths: string[], o: Record<string, unknown>) => found(runCommandOf(paths, o)));
}

function addAuthoringCommands(cli: CAC, found: (command: Command) => void): void {
  cli
    .command('list <...paths>', 'Show the files, cases and tags a run would have, without connecting')
    .option('--target <host[:port]>', 'As for run: the server for scenario files; target names or tags for a manifest', { type: [String] })
    .option('--var <name=value>', 'Set a variable (repeatable)', { type: [String] })
    .option('--secret <name>', 'As for run: this variable or environment variable is secret (repeatable)', { type: [String] })
    .option('--ca <file>', 'Trust this CA certificate (PEM) for TLS (repeatable)', { type: [String] })
    .option('--include-root <dir>', "Allow included files anywhere under this folder (default: the scenario file's folder)")
    .option('--grep <regex>', 'Only cases whose "<scenario> › <case>" name matches (case-insensitive)')
    .option('--tag <tag>', 'Only cases with this tag (repeatable: any of them)', { type: [String] })
    .example('smtpspec list scenarios/ --tag smoke')
    .action((paths: string[], o: Record<string, unknown>) => found(listCommandOf(paths, o)));
  cli
    .command('init [file]', `Write a starter scenario (default ${DEFAULT_SCENARIO_FILE}) or, with --manifest, a starter manifest (default ${DEFAULT_MANIFEST_FILE})`)
    .option('--manifest', 'Write a manifest: several servers, the same scenarios')
    .option('--target <host[:port]>', 'The server to test, written into the file')
    .option('--force', 'Overwrite the file if it exists')
    .example('smtpspec init --target mx.example.com')
    .example('smtpspec init --manifest')
    .action((file: string | undefined, o: Record<string, unknown>) => found(initCommandOf(file, o)));
}

function mxCommandOf(domains: string[], o: Record<string, unknown>): MxCommand {
  const port = Number(o.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port expects a number from 1 to 65535, got "${String(o.port)}"`);
  const invalid = domains.map(String).find((domain) => !isValidHost(domain) || isIP(domain) !== 0);
  if (invalid !== undefined) throw new UsageError(`mx expects mail domains such as example.com, got "${invalid}"`);
  return {
    command: 'mx',
    domains: domains.map(String),
    checks: parseStrings(o.check, '--check'),
    port,
    dnsServer: parseDnsServer(o.dnsServer),
    timeoutMs: parseTimeout(o.timeout),
    vars: parseVars(o.var),
    ca: parseStrings(o.ca, '--ca', 'a file name'),
    jsonFile: optionalString(o.json, '--json'),
    junitFile: optionalString(o.junit, '--junit'),
  };
}

function addMxCommand(cli: CAC, found: (command: Command) => void): void {
  cli
    .command('mx <...domains>', 'Run the ready-made checks against every MX host of each domain and print one table')
    .option('--check <name>', 'Run only this ready-made check (repeatable; default: all of them)', { type: [String] })
    .option('--port <port>', 'Connect to each MX host on this port', { default: 25 })
    .option('--dns-server <host:port>', 'Look up the MX records and host names with this DNS server')
    .option('--timeout <duration>', 'Deadline per reply (e.g. 5s; default 30s)')
    .option('--var <name=value>', "Set a check's variable (repeatable); domain is each domain's own", { type: [String] })
    .option('--ca <file>', 'Trust this CA certificate (PEM) for TLS, besides the system CAs (repeatable)', { type: [String] })
    .option('--json <file>', 'Also write the table as JSON to this file')
    .option('--junit <file>', "Also write the checks' results as JUnit XML to this file")
    .example('smtpspec mx example.com --check greeting --check starttls')
    .action((domains: string[], o: Record<string, unknown>) => found(mxCommandOf(domains, o)));
}

function buildCli(found: (command: Command) => void) {
  const cli = cac('smtpspec');
  addRunCommand(cli, found);
  addRecordCommand(cli, found);
  addSendCommand(cli, found);
  cli
    .command('validate <...paths>', 'Check scenario files without connecting to any server')
    .option('--var <name=value>', 'Set a variable (repeatable)', { type: [String] })
    .option('--ca <file>', 'Trust this CA certificate (PEM) for TLS (repeatable)', { type: [String] })
    .option('--include-root <dir>', "Allow included files anywhere under this folder (default: the scenario file's folder)")
    .example('smtpspec validate scenarios/')
    .action((paths: string[], o: Record<string, unknown>) => {
      found({ command: 'validate', paths: paths.map(String), vars: parseVars(o.var), ca: parseStrings(o.ca, '--ca', 'a file name'), ...includeRootOf(o) });
    });
  addAuthoringCommands(cli, found);
  addMxCommand(cli, found);
  cli
    .command('checks', 'List the ready-made checks (run them with run --check NAME)')
    .action(() => found({ command: 'checks' }));
  cli
    .command('merge <...reports>', 'Combine JSON results of several runs (shards) into one set of reports')
    .option('--junit <file>', 'Write the merged JUnit XML report here')
    .option('--json <file>', 'Write the merged JSON results here')
    .option('--tap <file>', 'Write the merged TAP report here')
    .option('--html <file>', 'Write the merged HTML report here')
    .example('smtpspec merge shard-*.json --junit report.xml')
    .action((paths: string[], o: Record<string, unknown>) => {
      const command: MergeCommand = {
        command: 'merge',
        paths: paths.map(String),
        junitFile: optionalString(o.junit, '--junit'),
        jsonFile: optionalString(o.json, '--json'),
        tapFile: optionalString(o.tap, '--tap'),
        htmlFile: optionalString(o.html, '--html'),
      };
      if (!command.junitFile && !command.jsonFile && !command.tapFile && !command.htmlFile) {
        throw new UsageError('merge needs at least one of --junit, --json, --tap or --html');
      }
      found(command);
    });
  cli
    .command('serve', 'Run the embedded SMTP server on its own and log what it receives')
    .option('--port <port>', 'Port to listen on', { default: 2525 })
    .option('--host <host>', 'Address to listen on', { default: '127.0.0.1' })
    .option('--domain <domain>', 'Local domain whose recipients are accepted (default example.test)')
    .option('--mail-root <dir>', 'Deliver accepted mail into Maildirs under DIR, one per local part (default: a temporary folder, removed when serve stops)')
    .example('smtpspec serve --port 2525')
    .action((o: Record<string, unknown>) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new UsageError(`--port expects a number from 0 to 65535, got "${String(o.port)}"`);
      }
      const mailRoot = optionalString(o.mailRoot, '--mail-root');
      found({ command: 'serve', host: String(o.host), port, domain: optionalString(o.domain, '--domain'), ...(mailRoot === undefined ? {} : { mailRoot }) });
    });
  addExporterCommand(cli, found);
  cli.help();
  cli.version(packageVersion());
  return cli;
}

function addExporterCommand(cli: CAC, found: (command: Command) => void): void {
  cli
    .command('exporter', 'Answer Prometheus probes over HTTP: GET /probe?target=HOST[:PORT]&check=NAME runs that check and answers metrics')
    .option('--listen <host:port>', 'Address to listen on', { default: '127.0.0.1:9125' })
    .option('--scenarios <dir>', 'Allow probes of the scenario files in this folder (&scenario=FILE)')
    .option('--var <name=value>', 'Set a variable for every probe (repeatable)', { type: [String] })
    .option('--ca <file>', 'Trust this CA certificate (PEM) for TLS (repeatable)', { type: [String] })
    .option('--dns-server <host:port>', 'Ask this DNS server: MX records of mail domains, and the lookups of DNS checks')
    .example('smtpspec exporter --listen 127.0.0.1:9125 --var domain=example.com')
    .action((o: Record<string, unknown>) => {
      const listen = String(o.listen);
      const colon = listen.lastIndexOf(':');
      const port = Number(listen.slice(colon + 1));
      const host = listen.slice(0, Math.max(colon, 0)).replace(/^\[(.*)\]$/, '$1');
      if (colon < 1 || !/^[0-9]{1,5}$/.test(listen.slice(colon + 1)) || port > 65535 || !isValidHost(host)) {
        throw new UsageError(`--listen expects host:port, such as 127.0.0.1:9125, got "${listen}"`);
      }
      const scenariosDir = optionalString(o.scenarios, '--scenarios');
      const dnsServer = parseDnsServer(o.dnsServer);
      found({
        command: 'exporter',
        host,
        port,
        vars: parseVars(o.var),
        ca: parseStrings(o.ca, '--ca', 'a file name'),
        ...(scenariosDir === undefined ? {} : { scenariosDir }),
        ...(dnsServer ? { dnsServer } : {}),
      });
    });
}

/** Turns argv (without node and script) into a command. Throws UsageError for unusable input. */
export function parseArgs(args: string[]): Command {
  let command: Command | undefined;
  const cli = buildCli((c) => (command = c));
  let unknown: string | undefined;
  cli.addEventListener('command:*', (event) => (unknown = String((event as CustomEvent).detail)));
  try {
    const parsed = cli.parse(['node', 'smtpspec', ...args], { run: false });
    if (parsed.options.help || parsed.options.version) return { command: 'done' };
    if (unknown !== undefined) throw new UsageError(`unknown command "${unknown}" (commands: ${COMMANDS})`);
    if (!cli.matchedCommand) throw new UsageError(`no command given (commands: ${COMMANDS})`);
    cli.runMatchedCommand();
  } catch (error) {
    if ((error as Error).name === 'CACError') throw new UsageError((error as Error).message);
    throw error;
  }
  if (!command) throw new UsageError(`no command given (commands: ${COMMANDS})`);
  return command;
}

function writeLine(stream: NodeJS.WritableStream, text: string): void {
  stream.write(`${text}\n`);
}

/** Runs the CLI and returns its exit code; never throws. A stack is printed only for a fault in smtpspec itself. */
export async function main(args: string[], io: CliIO): Promise<number> {
  try {
    return await runParsed(args, io);
  } catch (error) {
    const code = reportError(error, io);
    if (!asksForNagios(args)) return code;
    // A Nagios plugin says UNKNOWN (3) on stdout when it cannot check: unusable input, or a fault in smtpspec.
    const { nagiosUnknownLine, nagiosExitCode } = await import('./report/nagios.js');
    io.stdout.write(nagiosUnknownLine(code === EXIT.internal ? 'internal error in smtpspec (see its error output)' : unknownReason(error)));
    return nagiosExitCode('UNKNOWN');
  }
}

/** `--reporter nagios` on run, read from argv itself: input too broken to parse still gets the plugin's UNKNOWN. */
function asksForNagios(args: string[]): boolean {
  if (args[0] !== 'run') return false;
  return args.some((arg, i) => arg === '--reporter=nagios' || (arg === '--reporter' && args[i + 1] === 'nagios'));
}

function unknownReason(error: unknown): string {
  if (error instanceof ScenarioError) return error.issues[0] ? formatIssue(error.issues[0]) : 'the scenarios are not usable';
  if (error instanceof UsageError || error instanceof InputError || isSystemError(error)) return (error as Error).message;
  return 'unusable input (see the error output)';
}

async function runParsed(args: string[], io: CliIO): Promise<number> {
  const command = parseArgs(args);
  // The reports it writes are known from here on: a signal at any later moment can say which are written.
  if ((command.command === 'run' && !command.dryRun) || command.command === 'mx') for (const report of reportFilesOf(command)) io.reports?.expect(report);
  switch (command.command) {
    case 'done':
      return EXIT.passed;
    case 'run':
      if (command.dryRun) return await (await import('./commands/dry-run.js')).dryRunCommand(await withChecks(command), io);
      return await (await import('./commands/run.js')).runCommand(await withChecks(command), io);
    case 'list':
      return await (await import('./commands/list.js')).listCommand(command, io);
    case 'init':
      return await (await import('./commands/init.js')).initCommand(command, io);
    case 'checks':
      return await (await import('./commands/checks.js')).checksCommand(io);
    case 'validate':
      return await (await import('./commands/validate.js')).validateCommand(command, io);
    case 'serve':
      return await (await import('./commands/serve.js')).serveCommand(command, io);
    case 'exporter':
      return await (await import('./commands/exporter.js')).exporterCommand(command, io);
    case 'merge':
      return await (await import('./commands/merge.js')).mergeCommand(command, io);
    case 'record':
      return await (await import('./commands/record.js')).recordCommand(command, io);
    case 'mx':
      return await (await import('./commands/mx.js')).mxCommand(command, io);
    case 'send':
      return await (await import('./commands/send.js')).sendCommand(command, io);
  }
}

/** `--check` names become the checks' files, shown relative to the working folder when they are under it. */
async function withChecks(command: RunCommand): Promise<RunCommand> {
  if (command.checks.length === 0) return command;
  const { resolveChecks } = await import('./checks/catalogue.js');
  const { shownPath } = await import('./scenario/files.js');
  return { ...command, paths: [...command.paths, ...resolveChecks(command.checks).map((path) => shownPath(path))] };
}

function reportError(error: unknown, io: CliIO): number {
  if (error instanceof ScenarioError) {
    for (const issue of error.issues) writeLine(io.stderr, formatIssue(issue));
    return EXIT.unusable;
  }
  if (error instanceof UsageError) {
    writeLine(io.stderr, `smtpspec: ${error.message}`);
    writeLine(io.stderr, 'Run "smtpspec --help" for usage.');
    return EXIT.unusable;
  }
  // A file or folder the user named, as the system met it: `EACCES: permission denied, scandir 'x'`.
  if (error instanceof InputError || isSystemError(error)) {
    writeLine(io.stderr, `smtpspec: ${error.message}`);
    return EXIT.unusable;
  }
  printInternalErrors(io.stderr, [internalFault(error, (text) => text)]);
  return EXIT.internal;
}
