import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeMessage } from './fixtures.js';
import type { JobResult } from './jobs.js';
import { mb, median, ms, ratio, type Row } from './measure.js';
import { openFileLimit, runJob, startSinkProcess } from './processes.js';

/**
 * The in-process engine benchmarks: the session engine driven from code on one pre-parsed case, without the
 * command's start-up, loading, planning or reports (commands.ts measures the command as users run it).
 * Each prints its figures as it goes and returns its table row.
 */

const log = (text: string): void => void process.stdout.write(`  ${text}\n`);
const JOB_TIMEOUT_MS = 120_000;

function checkSessions(what: string, result: JobResult): void {
  if (result.failed > 0) throw new Error(`${what}: ${result.failed} sessions failed, e.g. ${result.firstError ?? '?'}`);
}

export const SESSIONS = 2_000;
const CONCURRENCY = 64;

/**
 * Rounds of each client. Each round runs both, one right after the other, and takes the ratio of the two:
 * a slow spell of the machine (other work, a noisy neighbour) then weighs on both sides of a ratio alike.
 * The client that goes first alternates from round to round, so neither always runs on the other's leftovers
 * (thousands of sockets in TIME_WAIT, a warm or cold sink). The judged figure is the median of the ratios.
 */
const SESSION_ROUNDS = 7;

interface SessionRound {
  floor: JobResult;
  smtpspec: JobResult;
}

async function sessionRound(round: number, job: { port: number; sessions: number; concurrency: number }): Promise<SessionRound> {
  const run = async (kind: 'floor-sessions' | 'smtpspec-sessions'): Promise<JobResult> => {
    const result = await runJob({ kind, ...job }, JOB_TIMEOUT_MS);
    checkSessions(kind === 'floor-sessions' ? 'floor client' : 'smtpspec', result);
    return result;
  };
  if (round % 2 === 1) {
    const floor = await run('floor-sessions');
    return { floor, smtpspec: await run('smtpspec-sessions') };
  }
  const smtpspec = await run('smtpspec-sessions');
  return { floor: await run('floor-sessions'), smtpspec };
}

export async function sessions(): Promise<Row> {
  const sink = await startSinkProcess();
  try {
    const job = { port: sink.port, sessions: SESSIONS, concurrency: CONCURRENCY };
    const rounds: SessionRound[] = [];
    for (let round = 1; round <= SESSION_ROUNDS; round++) {
      const { floor, smtpspec } = await sessionRound(round, job);
      rounds.push({ floor, smtpspec });
      const first = round % 2 === 1 ? 'floor first' : 'smtpspec first';
      log(`round ${round} (${first}): floor client ${ms(floor.wallMs)} (CPU ${ms(floor.cpuMs)}), smtpspec ${ms(smtpspec.wallMs)} (CPU ${ms(smtpspec.cpuMs)}) = ${ratio(smtpspec.wallMs / floor.wallMs)}`);
    }
    const ratios = (pick: (result: JobResult) => number | undefined): number => median(rounds.map((r) => (pick(r.smtpspec) ?? NaN) / (pick(r.floor) ?? NaN)));
    const r = ratios((result) => result.wallMs);
    // CPU time is shown, not judged: on a small machine the client's compiler and GC threads share the cores with the server.
    log(`CPU time: median ratio ${ratio(ratios((result) => result.cpuMs))}`);
    // The same 2,000 sessions again in each process: what a session costs once the JIT and the heap have
    // settled. Shown to tell the per-session cost from the warm-up cost; the cold batch above is the one judged.
    log(`again, warm: median ratio ${ratio(ratios((result) => result.warm?.wallMs))} (not judged)`);
    const floorMs = median(rounds.map((round) => round.floor.wallMs));
    const smtpspecMs = median(rounds.map((round) => round.smtpspec.wallMs));
    return {
      name: `in-process engine: ${SESSIONS} sessions at concurrency ${CONCURRENCY}`,
      measured: `median ${ms(smtpspecMs)} vs floor ${ms(floorMs)}; median ratio ${ratio(r)}`,
      target: '≤ 1.30× the floor',
      pass: r <= 1.3,
    };
  } finally {
    await sink.stop();
  }
}

export const HELD_SESSIONS = 5_000;
/** Descriptors each process needs besides one per session (stdio, the event loop, libraries). */
const SPARE_DESCRIPTORS = 200;


export async function memory(): Promise<Row> {
  const limit = openFileLimit();
  let count = HELD_SESSIONS;
  if (limit < HELD_SESSIONS + SPARE_DESCRIPTORS) {
    count = Math.max(1, limit - SPARE_DESCRIPTORS);
    log(`note: ulimit -n is ${limit}, too low for ${HELD_SESSIONS} sessions; holding ${count} instead (raise it with "ulimit -n 8192")`);
  }
  const sink = await startSinkProcess({ holdUntil: count, holdMs: 60_000 });
  try {
    const result = await runJob({ kind: 'smtpspec-hold', port: sink.port, sessions: count }, JOB_TIMEOUT_MS);
    checkSessions('smtpspec', result);
    log(`${count} sessions open at once, all done in ${ms(result.wallMs)}; peak RSS ${mb(result.peakRssMb)}`);
    return {
      name: `in-process engine: ${count} sessions held open`,
      measured: `peak RSS ${mb(result.peakRssMb)}`,
      target: '< 400 MB',
      pass: result.peakRssMb < 400 && count === HELD_SESSIONS,
    };
  } finally {
    await sink.stop();
  }
}

/** Rounds of the retained benchmark; each measures both ways, and the judged figure is the median ratio. */
const RETAINED_ROUNDS = 4;

/**
 * What a run keeps for each finished case until its reports are written, and the CPU its sessions take, with the
 * sessions of the run sharing their replies, transcript entries and step heads (as a run does) and without (each
 * session its own copies).
 */
export async function retained(): Promise<Row> {
  const sink = await startSinkProcess();
  try {
    const job = { kind: 'smtpspec-retained' as const, port: sink.port, sessions: SESSIONS, concurrency: CONCURRENCY };
    const measure = async (shared: boolean): Promise<{ kept: number; cpuMs: number }> => {
      const result = await runJob({ ...job, shared }, JOB_TIMEOUT_MS, ['--expose-gc']);
      checkSessions('smtpspec', result);
      return { kept: result.keptBytesPerCase ?? NaN, cpuMs: result.cpuMs };
    };
    const rounds: { shared: number; unshared: number; cpu: number }[] = [];
    for (let round = 1; round <= RETAINED_ROUNDS; round++) {
      // The side that goes first alternates, as in the session benchmark.
      const first = await measure(round % 2 === 1);
      const second = await measure(round % 2 === 0);
      const [shared, unshared] = round % 2 === 1 ? [first, second] : [second, first];
      rounds.push({ shared: shared.kept, unshared: unshared.kept, cpu: shared.cpuMs / unshared.cpuMs });
      log(
        `round ${round}: a finished case keeps ${kb(shared.kept)} shared, ${kb(unshared.kept)} not = ${ratio(shared.kept / unshared.kept)}; ` +
          `CPU ${ms(shared.cpuMs)} shared, ${ms(unshared.cpuMs)} not = ${ratio(shared.cpuMs / unshared.cpuMs)}`,
      );
    }
    const r = median(rounds.map((round) => round.shared / round.unshared));
    const cpu = median(rounds.map((round) => round.cpu));
    return {
      name: 'in-process engine: heap a run keeps per finished case',
      measured: `shared ${kb(median(rounds.map((round) => round.shared)))} vs unshared ${kb(median(rounds.map((round) => round.unshared)))}; median ratio ${ratio(r)} (CPU ${ratio(cpu)})`,
      target: '≤ 0.60× unshared',
      pass: r <= 0.6,
    };
  } finally {
    await sink.stop();
  }
}

const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;

export const MESSAGE_MB = 100;
/** How far above the floor client's peak RSS smtpspec may go and still count as flat: half the message. */
const FLAT_MARGIN_MB = MESSAGE_MB / 2;

export async function engineStream(): Promise<Row> {
  const dir = await mkdtemp(join(tmpdir(), 'smtpspec-bench-'));
  const sink = await startSinkProcess();
  try {
    const file = join(dir, 'message.eml');
    await writeMessage(file, MESSAGE_MB);
    const floor = await runJob({ kind: 'floor-stream', port: sink.port, file }, JOB_TIMEOUT_MS);
    checkSessions('floor client', floor);
    const smtpspec = await runJob({ kind: 'smtpspec-stream', port: sink.port, file }, JOB_TIMEOUT_MS);
    checkSessions('smtpspec', smtpspec);
    const rate = (result: JobResult): number => MESSAGE_MB / (result.wallMs / 1000);
    const r = rate(smtpspec) / rate(floor);
    log(`floor client: ${rate(floor).toFixed(1)} MB/s, peak RSS ${mb(floor.peakRssMb)}`);
    log(`smtpspec:     ${rate(smtpspec).toFixed(1)} MB/s, peak RSS ${mb(smtpspec.peakRssMb)}`);
    return {
      name: `in-process engine: ${MESSAGE_MB} MB message from a file`,
      measured: `${rate(smtpspec).toFixed(1)} vs floor ${rate(floor).toFixed(1)} MB/s = ${Math.round(r * 100)}%; RSS ${mb(smtpspec.peakRssMb)} vs ${mb(floor.peakRssMb)}`,
      target: `≥ 70% of the floor; RSS ≤ floor + ${FLAT_MARGIN_MB} MB`,
      pass: r >= 0.7 && smtpspec.peakRssMb <= floor.peakRssMb + FLAT_MARGIN_MB,
    };
  } finally {
    await sink.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
