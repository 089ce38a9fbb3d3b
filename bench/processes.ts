import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Job, JobResult } from './jobs.js';
import type { SinkOptions } from './sink-server.js';

/** Starting the benchmark's child processes, each with a deadline. */

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));
const SINK = fileURLToPath(new URL('./sink-process.js', import.meta.url));

/** The longest a sink may live: longer than the whole benchmark. */
const SINK_LIFETIME_MS = 10 * 60_000;

export interface SinkProcess {
  port: number;
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
  const exited = output(child, SINK_LIFETIME_MS, 'sink').catch(() => {});
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the sink did not start within ${timeoutMs} ms`)), timeoutMs);
    child.stdout!.once('data', (text: Buffer | string) => {
      clearTimeout(timer);
      resolve((JSON.parse(String(text)) as { port: number }).port);
    });
    child.once('exit', () => reject(new Error('the sink exited before listening')));
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  return {
    port,
    stop: async () => {
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
