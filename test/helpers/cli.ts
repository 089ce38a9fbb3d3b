import { spawn } from 'node:child_process';
import { GENEROUS_MS } from './deadlines.js';
import { sourcePath } from './paths.js';

/** Running programs, the built smtpspec among them, without blocking the test process, whose servers they talk to. */

export const bin = sourcePath('dist/bin/smtpspec.cjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Written to its standard input, which is then closed. */
  input?: string;
  /** Added to the environment (NO_COLOR is set). */
  env?: Record<string, string>;
  cwd?: string;
  /** It is killed after this long: a deadline the test does not mean to reach. */
  timeoutMs?: number;
  /** Runs the command through the shell (Windows needs it for npm.cmd and npx.cmd). */
  shell?: boolean;
}

/** Runs a program to its end and collects what it prints; a signal that ended it is said in stderr. */
export function run(command: string, args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? GENEROUS_MS,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.shell ? { shell: true } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, stdout, stderr: signal === null ? stderr : `${stderr}\n(${command} stopped by ${signal})` }));
    child.stdin.on('error', () => {}); // a program that exits without reading its input
    child.stdin.end(options.input ?? '');
  });
}

/** Runs the built smtpspec. */
export function smtpspec(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return run(process.execPath, [bin, ...args], options);
}
