import { spawn } from 'node:child_process';
import { GENEROUS_MS } from './deadlines.js';
import { sourcePath } from './paths.js';

/** Running the built binary without blocking the test process, whose servers it talks to. */

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
}

export function smtpspec(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? GENEROUS_MS,
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}
