import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { GENEROUS_MS } from '../helpers/deadlines.js';
import { sourcePath } from '../helpers/paths.js';

/** Running the built binary without blocking the test process, whose embedded server it talks to. */

export const bin = sourcePath('dist/bin/smtpspec.cjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function smtpspec(args: string[], options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? GENEROUS_MS,
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

/** The date, the port and the schema path change from run to run; everything else must not. */
export function normalise(text: string, port: number): string {
  return text
    .replace(/^# yaml-language-server: \$schema=.*$/m, '# yaml-language-server: $schema=<schema>')
    .replace(/ on \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /, ' on <date> ')
    .replaceAll(`127.0.0.1:${port}`, '127.0.0.1:<port>');
}

/** Compares with a golden file in fixtures/; UPDATE_GOLDEN=1 rewrites it instead. */
export function assertGolden(name: string, actual: string): void {
  const path = sourcePath('test/record/fixtures', name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(path, actual);
  assert.equal(actual, readFileSync(path, 'utf8'), `differs from ${name}`);
}
