import { cac } from 'cac';
import { ScenarioError, UsageError, formatIssue, formatPos } from './errors.js';
import { packageVersion } from './package-info.js';
import { parseDuration } from './scenario/duration.js';
import { parseTarget } from './scenario/target.js';
import type { Scenario, Target } from './scenario/types.js';

/**
 * Command-line wiring only: `parseArgs` turns argv into a plain command (pure, testable),
 * `main` runs it and returns the exit code. Heavy modules load only for the command that needs them.
 */

export type StdoutReporter = 'console' | 'tap' | 'junit';

export interface RunCommand {
  command: 'run';
  paths: string[];
  target?: Target;
  embedded: boolean;
  timeoutMs?: number;
  vars: Record<string, string>;
  /** Extra trusted CA files for TLS (`--ca`), added to every file's own. */
  ca: string[];
  reporter: StdoutReporter;
  junitFile?: string;
  tapFile?: string;
  /** false with --no-color; otherwise colour follows the terminal and NO_COLOR. */
  color: boolean;
}

export interface ValidateCommand {
  command: 'validate';
  paths: string[];
  vars: Record<string, string>;
  ca: string[];
}

export interface ServeCommand {
  command: 'serve';
  host: string;
  port: number;
  domain?: string;
}

/** Help or version was printed; nothing else to do. */
export interface DoneCommand {
  command: 'done';
}

export type Command = RunCommand | ValidateCommand | ServeCommand | DoneCommand;

export const EXIT = { passed: 0, failed: 1, unusable: 2, interrupted: 130 } as const;

export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  /** Resolves when the user asks a long-running command (serve) to stop. */
  untilStopped?: Promise<void>;
}

const REPORTERS: readonly StdoutReporter[] = ['console', 'tap', 'junit'];

function parseVars(raw: unknown): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const item of ([] as unknown[]).concat(raw ?? [])) {
    const text = String(item);
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UsageError(`--var expects name=value, got "${text}"`);
    vars[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return vars;
}

function parseFiles(raw: unknown, name: string): string[] {
  return ([] as unknown[]).concat(raw ?? []).map((item) => {
    if (item === true || item === '') throw new UsageError(`${name} needs a file name`);
    return String(item);
  });
}

function parseTimeoutOption(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const ms = parseDuration(String(raw));
  if (ms === undefined || ms <= 0) {
    throw new UsageError(`--timeout expects a duration such as 500ms, 30s or 2m, got "${String(raw)}"`);
  }
  return ms;
}

function parseTargetOption(raw: unknown): Target | undefined {
  if (raw === undefined) return undefined;
  const target = parseTarget(String(raw));
  if (!target) throw new UsageError(`--target expects host[:port], got "${String(raw)}"`);
  return target;
}

function optionalString(raw: unknown, name: string): string | undefined {
  if (raw === undefined) return undefined;
  if (raw === true || raw === '') throw new UsageError(`${name} needs a value`);
  return String(raw);
}

function buildCli(found: (command: Command) => void) {
  const cli = cac('smtpspec');
  cli
    .command('run <...paths>', 'Run scenario files (folders are searched for *.yaml / *.yml)')
    .option('--target <host[:port]>', "Server to test, overriding each file's target (default port 25)")
    .option('--embedded', 'Start the embedded test server and run every case against it')
    .option('--timeout <duration>', 'Default deadline per reply where a file sets none (e.g. 5s; default 30s)')
    .option('--var <name=value>', 'Set a variable (repeatable); overrides the files', { type: [String] })
    .option('--ca <file>', 'Trust this CA certificate (PEM) for TLS, besides the system CAs (repeatable)', { type: [String] })
    .option('--reporter <name>', 'What to print on stdout: console, tap or junit', { default: 'console' })
    .option('--junit <file>', 'Also write a JUnit XML report to this file')
    .option('--tap <file>', 'Also write a TAP report to this file')
    .option('--no-color', 'Never colour the console output')
    .example('smtpspec run scenarios/ --target mx.example.com')
    .example('smtpspec run scenarios/ --embedded --junit report.xml')
    .action((paths: string[], o: Record<string, unknown>) => {
      const reporter = String(o.reporter) as StdoutReporter;
      if (!REPORTERS.includes(reporter)) {
        throw new UsageError(`--reporter must be one of ${REPORTERS.join(', ')}, got "${String(o.reporter)}"`);
      }
      const target = parseTargetOption(o.target);
      if (target && o.embedded) throw new UsageError('use either --target or --embedded, not both');
      found({
        command: 'run',
        paths: paths.map(String),
        target,
        embedded: o.embedded === true,
        timeoutMs: parseTimeoutOption(o.timeout),
        vars: parseVars(o.var),
        ca: parseFiles(o.ca, '--ca'),
        reporter,
        junitFile: optionalString(o.junit, '--junit'),
        tapFile: optionalString(o.tap, '--tap'),
        color: o.color !== false,
      });
    });
  cli
    .command('validate <...paths>', 'Check scenario files without connecting to any server')
    .option('--var <name=value>', 'Set a variable (repeatable)', { type: [String] })
    .option('--ca <file>', 'Trust this CA certificate (PEM) for TLS (repeatable)', { type: [String] })
    .example('smtpspec validate scenarios/')
    .action((paths: string[], o: Record<string, unknown>) => {
      found({ command: 'validate', paths: paths.map(String), vars: parseVars(o.var), ca: parseFiles(o.ca, '--ca') });
    });
  cli
    .command('serve', 'Run the embedded SMTP server on its own and log what it receives')
    .option('--port <port>', 'Port to listen on', { default: 2525 })
    .option('--host <host>', 'Address to listen on', { default: '127.0.0.1' })
    .option('--domain <domain>', 'Local domain whose recipients are accepted (default example.test)')
    .example('smtpspec serve --port 2525')
    .action((o: Record<string, unknown>) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new UsageError(`--port expects a number from 0 to 65535, got "${String(o.port)}"`);
      }
      found({ command: 'serve', host: String(o.host), port, domain: optionalString(o.domain, '--domain') });
    });
  cli.help();
  cli.version(packageVersion());
  return cli;
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
    if (unknown !== undefined) throw new UsageError(`unknown command "${unknown}" (commands: run, validate, serve)`);
    if (!cli.matchedCommand) throw new UsageError('no command given (commands: run, validate, serve)');
    cli.runMatchedCommand();
  } catch (error) {
    if ((error as Error).name === 'CACError') throw new UsageError((error as Error).message);
    throw error;
  }
  if (!command) throw new UsageError('no command given (commands: run, validate, serve)');
  return command;
}

/** Warnings never change the exit code; they go to stderr in the same `file:line:col:` form as errors. */
export function printWarnings(scenarios: Scenario[], io: CliIO): void {
  for (const scenario of scenarios) {
    for (const warning of scenario.warnings) writeLine(io.stderr, `${formatPos(warning.pos)}: warning: ${warning.message}`);
  }
}

function writeLine(stream: NodeJS.WritableStream, text: string): void {
  stream.write(`${text}\n`);
}

/** Runs the CLI and returns its exit code; never throws, never prints a stack trace. */
export async function main(args: string[], io: CliIO): Promise<number> {
  try {
    const command = parseArgs(args);
    switch (command.command) {
      case 'done':
        return EXIT.passed;
      case 'run':
        return await (await import('./commands/run.js')).runCommand(command, io);
      case 'validate':
        return await (await import('./commands/validate.js')).validateCommand(command, io);
      case 'serve':
        return await (await import('./commands/serve.js')).serveCommand(command, io);
    }
  } catch (error) {
    return reportError(error, io);
  }
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
  writeLine(io.stderr, `smtpspec: ${error instanceof Error ? error.message : String(error)}`);
  return EXIT.unusable;
}
