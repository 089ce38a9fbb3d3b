import { PassThrough } from 'node:stream';
import type { CliIO } from '../../src/commands/io.js';

export interface Captured {
  io: CliIO;
  stdout(): string;
  stderr(): string;
}

/** CLI io whose stdout and stderr are collected as text. */
export function capture(env: Record<string, string | undefined> = {}): Captured {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  err.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return { io: { stdout: out, stderr: err, env }, stdout: () => stdout, stderr: () => stderr };
}
