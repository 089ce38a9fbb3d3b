import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Job, JobResult } from './jobs.js';
import { createInterface } from 'node:readline';
import type { SinkOptions, SinkWindow } from './sink-server.js';

/** Starting the benchmark's child processes, each with a deadline. */

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));
const SINK = fileURLToPath(new URL('./sink-process.js', import.meta.url));

/** The longest a sink may live: longer than the whole benchmark. */
const SINK_LIFETIME_MS = 10 * 60_000;

export interface SinkProcess {
  port: number;
  /** What the sink saw since the last call: connections, the first connection and the last close. */
  window(): Promise<SinkWindow>;
  stop(): Promise<void>;
}

/** Collects a child's stdout; rejects if it does not exit within timeoutMs. */
function output(child: ChildProcess, timeoutMs: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not finish within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${what} exited with ${String(code)}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

/** `nodeFlags`: options for the worker's node, such as `--expose-gc`. */
export async function runJob(job: Job, timeoutMs: number, nodeFlags: string[] = []): Promise<JobResult> {
  const child = spawn(process.execPath, [...nodeFlags, WORKER, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout = await output(child, timeoutMs, job.kind);
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as JobResult;
}

export async function startSinkProcess(options: SinkOptions = {}, timeoutMs = 10_000): Promise<SinkProcess> {
  const child = spawn(process.execPath, [SINK, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const lifetime = setTimeout(() => child.kill('SIGKILL'), SINK_LIFETIME_MS);
  lifetime.unref();
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => waiting.shift()?.(line));
  const nextLine = (what: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the sink did not answer (${what}) within ${timeoutMs} ms`)), timeoutMs);
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  const port = await Promise.race([
    nextLine('its port').then((line) => (JSON.parse(line) as { port: number }).port),
    exited.then(() => Promise.reject(new Error('the sink exited before listening'))),
  ]).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    port,
    window: async () => {
      const answer = nextLine('window');
      child.stdin!.write('window\n');
      return JSON.parse(await answer) as SinkWindow;
    },
    stop: async () => {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      clearTimeout(lifetime);
    },
  };
}

export interface CommandResult {
  /** From spawning to exit, as Date.now() times (to line up with the sink's). */
  startedAt: number;
  endedAt: number;
  wallMs: number;
  /** The process's own CPU time (user and system, all its threads) and peak RSS, start-up included. */
  cpuMs: number;
  peakRssMb: number;
  exitCode: number | null;
}

const USAGE = fileURLToPath(new URL('./usage.js', import.meta.url));
let usageFiles = 0;

/**
 * Runs `node [nodeFlags] script args…` as a whole process, as a user would, its stdout discarded; rejects if it
 * does not exit within timeoutMs or exits with a code other than `expectCode`.
 */
export async function runCommand(
  script: string,
  args: string[],
  options: { timeoutMs: number; usageDir: string; nodeFlags?: string[]; cwd?: string; expectCode?: number },
): Promise<CommandResult> {
  const usageFile = `${options.usageDir}/usage-${process.pid}-${++usageFiles}.json`;
  const startedAt = Date.now();
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', pathToFileURL(USAGE).href, script, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: options.cwd,
    env: { ...process.env, BENCH_USAGE_FILE: usageFile },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${basename(script)} ${args[0] ?? ''} did not finish within ${options.timeoutMs / 1000} s`));
    }, options.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
  const wallMs = performance.now() - started;
  const endedAt = Date.now();
  if (exitCode !== (options.expectCode ?? 0)) {
    throw new Error(`${basename(script)} ${args.join(' ').slice(0, 80)} exited with ${String(exitCode)}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  const usage = JSON.parse(await readFile(usageFile, 'utf8')) as { cpuMs: number; peakRssMb: number };
  await rm(usageFile, { force: true });
  return { startedAt, endedAt, wallMs, exitCode, ...usage };
}

/** The soft limit on open files that child processes inherit. */
export function openFileLimit(): number {
  const out = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 5_000 }).stdout.trim();
  return out === 'unlimited' ? Infinity : Number(out) || 1024;
}
