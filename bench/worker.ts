import { once } from 'node:events';
import { withTargets, type WorkItem } from '../src/engine/plan.js';
import { runCase } from '../src/engine/run-case.js';
import type { RunResult } from '../src/engine/results.js';
import { runWork } from '../src/engine/run.js';
import { parseScenario } from '../src/scenario/load.js';
import { classicCase, FROM, TO } from './fixtures.js';
import { floorPool, type FloorOptions } from './floor-client.js';
import type { Job, JobResult } from './jobs.js';

/**
 * One measurement in a process of its own, so its peak RSS is the client's alone.
 * Usage: node worker.js '<job as JSON>'; prints one JobResult as JSON.
 */

const TIMEOUT = '60s';
/**
 * Sessions run before the timed part of the session benchmarks, so both sides have loaded their
 * code and opened connections before the clock starts. It is not a JIT warm-up: most of smtpspec's
 * code is still being optimised during the timed part, as it would be in a real run.
 */
const WARM_UP_SESSIONS = 64;

function classicScenario(port: number, message: string): string {
  return `name: bench\ntarget: 127.0.0.1:${port}\ntimeout: ${TIMEOUT}\ncases:\n${classicCase('classic transaction', message)}`;
}

function holdScenario(port: number): string {
  return `name: hold
target: 127.0.0.1:${port}
timeout: ${TIMEOUT}
cases:
  - name: held session
    steps:
      - expect: 220
      - send: NOOP
        expect: 250
      - send: QUIT
        expect: 221
`;
}

const SHORT_MESSAGE = '"Subject: bench\\n\\nA short message.\\n"';
const SHORT_TEXT = 'Subject: bench\n\nA short message.\n';

/** The file's one case, planned once, as a run plans it: every session of a run shares the same parsed scenario. */
function planItem(yaml: string): WorkItem {
  const [item] = withTargets([parseScenario(yaml, 'bench.yaml')]);
  return item!;
}

function workItems(item: WorkItem, count: number): WorkItem[] {
  return Array.from({ length: count }, () => item);
}

function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

async function timed(run: () => Promise<{ passed: number; failed: number; firstError?: string }>): Promise<JobResult> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const outcome = await run();
  const used = process.cpuUsage(cpu);
  return { wallMs: performance.now() - started, cpuMs: (used.user + used.system) / 1000, peakRssMb: peakRssMb(), ...outcome };
}

/** The judged measurement, then the same work again in the same process (shown beside it, not judged). */
async function twice(run: () => Promise<{ passed: number; failed: number; firstError?: string }>): Promise<JobResult> {
  const first = await timed(run);
  const again = await timed(run);
  if (again.failed > 0) return again;
  return { ...first, warm: { wallMs: again.wallMs, cpuMs: again.cpuMs } };
}

function batchOutcome(result: RunResult): { passed: number; failed: number; firstError?: string } {
  const bad = result.cases.find((c) => c.status !== 'passed');
  const message = bad?.failure?.message ?? bad?.steps.find((s) => s.status !== 'passed')?.message;
  return { passed: result.counts.passed, failed: result.counts.total - result.counts.passed, ...(bad ? { firstError: message ?? bad.status } : {}) };
}

async function smtpspecBatch(items: WorkItem[], concurrency: number): Promise<RunResult> {
  return runWork(items, { concurrency, perHostLimit: concurrency });
}

/** The run's own runCase, each session on its own: no records or step heads shared between sessions. */
const unshared: typeof runCase = (scenario, kase, target, options) => runCase(scenario, kase, target, { ...options, shared: undefined, heads: undefined });

/** Heap after a full collection (the worker runs with --expose-gc). */
function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('the retained benchmark needs node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** What a run keeps for each finished case: the heap while it holds `sessions` results, less the heap before. */
async function retained(item: WorkItem, sessions: number, concurrency: number, shared: boolean): Promise<JobResult> {
  const options = { concurrency, perHostLimit: concurrency, ...(shared ? {} : { runCase: unshared }) };
  await runWork(workItems(item, WARM_UP_SESSIONS), options);
  const before = heapAfterGc();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const run = await runWork(workItems(item, sessions), options);
  const used = process.cpuUsage(cpu);
  const wallMs = performance.now() - started;
  const keptBytesPerCase = (heapAfterGc() - before) / sessions;
  // The results are read after the heap is measured, so they are alive while it is.
  return { wallMs, cpuMs: (used.user + used.system) / 1000, peakRssMb: peakRssMb(), keptBytesPerCase, ...batchOutcome(run) };
}

async function run(job: Job): Promise<JobResult> {
  const floor = (message: FloorOptions['message']): FloorOptions => ({ host: '127.0.0.1', port: job.port, from: FROM, to: TO, message, timeoutMs: 60_000 });
  switch (job.kind) {
    case 'floor-sessions': {
      await floorPool(floor({ text: SHORT_TEXT }), WARM_UP_SESSIONS, job.concurrency);
      return twice(() => floorPool(floor({ text: SHORT_TEXT }), job.sessions, job.concurrency));
    }
    case 'smtpspec-sessions': {
      // The warm-up and the timed sessions come from one parse, as all the sessions of one run do.
      const item = planItem(classicScenario(job.port, SHORT_MESSAGE));
      await smtpspecBatch(workItems(item, WARM_UP_SESSIONS), job.concurrency);
      const items = workItems(item, job.sessions);
      // Each batch's results are dropped before the next, as a second run would drop the first's.
      return twice(async () => batchOutcome(await smtpspecBatch(items, job.concurrency)));
    }
    case 'smtpspec-hold': {
      const items = workItems(planItem(holdScenario(job.port)), job.sessions);
      return timed(async () => batchOutcome(await smtpspecBatch(items, job.sessions)));
    }
    case 'smtpspec-retained':
      return retained(planItem(classicScenario(job.port, SHORT_MESSAGE)), job.sessions, job.concurrency, job.shared);
    case 'floor-stream':
      return timed(() => floorPool(floor({ file: job.file }), 1, 1));
    case 'smtpspec-stream': {
      const items = workItems(planItem(classicScenario(job.port, `{ file: ${JSON.stringify(job.file)} }`)), 1);
      return timed(async () => batchOutcome(await smtpspecBatch(items, 1)));
    }
  }
}

const result = await run(JSON.parse(process.argv[2] ?? '{}') as Job);
if (!process.stdout.write(`${JSON.stringify(result)}\n`)) await once(process.stdout, 'drain');
process.exit(0);
