import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../src/package-info.js';
import { manifest, scenarioFile, SHORT_TEXT, writeMessage, MANIFEST_FILES } from './fixtures.js';
import { mb, median, ms, ratio, type Row } from './measure.js';
import { openFileLimit, runCommand, startSinkProcess, type CommandResult, type SinkProcess } from './processes.js';
import { profileSummary } from './profile.js';
import type { SinkWindow } from './sink-server.js';

/**
 * The benchmarks of the command as users run it: `smtpspec` as a whole process (start-up, loading,
 * planning, sessions, reports, exit) against the floor client as a whole process, in the same run.
 */

const log = (text: string): void => void process.stdout.write(`  ${text}\n`);
const BIN = fileURLToPath(new URL('../bin/smtpspec.cjs', import.meta.url));
const FLOOR = fileURLToPath(new URL('./floor-process.js', import.meta.url));
const TIMEOUT_MS = 300_000;

export interface BenchContext {
  /** Where a figure misses its target, run the command once more under --cpu-prof and summarise the profile. */
  profile: boolean;
}

/** A folder for one benchmark's files, removed afterwards, and a sink for its sessions. */
async function withSetup<T>(run: (dir: string, sink: SinkProcess) => Promise<T>, sinkOptions = {}): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'smtpspec-bench-'));
  const sink = await startSinkProcess(sinkOptions);
  try {
    return await run(dir, sink);
  } finally {
    await sink.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

interface Measured extends CommandResult {
  window: SinkWindow;
}

/** Runs one command against the sink and returns it with what the sink saw of it; checks the messages. */
async function measured(sink: SinkProcess, messages: number, run: () => Promise<CommandResult>, what: string): Promise<Measured> {
  await sink.window();
  const result = await run();
  const window = await sink.window();
  if (window.messages !== messages) throw new Error(`${what}: the sink got ${window.messages} messages, not ${messages}`);
  return { ...result, window };
}

const smtpspec = (dir: string, args: string[], extra: { nodeFlags?: string[]; expectCode?: number } = {}): Promise<CommandResult> =>
  runCommand(BIN, args, { timeoutMs: TIMEOUT_MS, usageDir: dir, cwd: dir, ...extra });

const floor = (dir: string, job: { port: number; sessions: number; concurrency: number; message: { text: string } | { file: string } }): Promise<CommandResult> =>
  runCommand(FLOOR, [JSON.stringify(job)], { timeoutMs: TIMEOUT_MS, usageDir: dir });

/** Where the command's wall time went, by the sink's clock: before the first connection, the sessions, after the last. */
function phases(result: Measured): { beforeMs: number; sessionsMs: number; afterMs: number } {
  const first = result.window.firstConnectAt ?? result.endedAt;
  const last = result.window.lastCloseAt ?? result.endedAt;
  return { beforeMs: first - result.startedAt, sessionsMs: last - first, afterMs: result.endedAt - last };
}

const phaseText = (result: Measured): string => {
  const p = phases(result);
  return `before the first connection ${ms(p.beforeMs)}, sessions ${ms(p.sessionsMs)}, after the last ${ms(p.afterMs)}`;
};

/** Runs the smtpspec command once more under --cpu-prof and prints the functions with the most samples. */
async function profileOnce(context: BenchContext, dir: string, args: string[], expectCode = 0): Promise<void> {
  if (!context.profile) return;
  const profileDir = join(dir, `profile-${Date.now()}`);
  await mkdir(profileDir);
  await smtpspec(dir, args, { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`], expectCode });
  log(`CPU profile of smtpspec ${args.join(' ').slice(0, 60)} (self time, top functions):`);
  for (const line of await profileSummary(profileDir)) log(`  ${line}`);
}

const COMMAND_SESSIONS = 2_000;
const CONCURRENCY = 64;
/** Rounds of the paired benchmarks; the side that goes first alternates. */
const ROUNDS = 5;

/**
 * `smtpspec run` of 2,000 sessions at concurrency 64 against the floor client's same 2,000 sessions, each a whole
 * process, in paired rounds (each round runs both, one right after the other, the first alternating); the judged
 * figures are the medians of the rounds' ratios of wall time and of the client's CPU time.
 */
async function pairedSessions(name: string, context: BenchContext, plan: (dir: string, port: number) => Promise<string>): Promise<Row> {
  return withSetup(async (dir, sink) => {
    const path = await plan(dir, sink.port);
    const args = ['run', path, '--concurrency', String(CONCURRENCY), '--per-host', String(CONCURRENCY)];
    const runSmtpspec = () => measured(sink, COMMAND_SESSIONS, () => smtpspec(dir, args), 'smtpspec');
    const runFloor = () => measured(sink, COMMAND_SESSIONS, () => floor(dir, { port: sink.port, sessions: COMMAND_SESSIONS, concurrency: CONCURRENCY, message: { text: SHORT_TEXT } }), 'floor client');
    const rounds: { smtpspec: Measured; floor: Measured }[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const floorFirst = round % 2 === 1;
      const first = await (floorFirst ? runFloor() : runSmtpspec());
      const second = await (floorFirst ? runSmtpspec() : runFloor());
      const [f, s] = floorFirst ? [first, second] : [second, first];
      rounds.push({ smtpspec: s, floor: f });
      log(
        `round ${round} (${floorFirst ? 'floor' : 'smtpspec'} first): floor ${ms(f.wallMs)} (CPU ${ms(f.cpuMs)}), smtpspec ${ms(s.wallMs)} (CPU ${ms(s.cpuMs)}) = ${ratio(s.wallMs / f.wallMs)} / CPU ${ratio(s.cpuMs / f.cpuMs)}`,
      );
      log(`  smtpspec: ${phaseText(s)}; floor: ${phaseText(f)}`);
    }
    const wall = median(rounds.map((r) => r.smtpspec.wallMs / r.floor.wallMs));
    const cpu = median(rounds.map((r) => r.smtpspec.cpuMs / r.floor.cpuMs));
    const sessionsOnly = median(rounds.map((r) => phases(r.smtpspec).sessionsMs / phases(r.floor).sessionsMs));
    log(`median ratio: wall ${ratio(wall)}, client CPU ${ratio(cpu)}; the sessions alone (first connection to last close) ${ratio(sessionsOnly)}`);
    const pass = wall <= 1.3 && cpu <= 1.5;
    if (!pass) await profileOnce(context, dir, args);
    return {
      name,
      measured: `wall ${ms(median(rounds.map((r) => r.smtpspec.wallMs)))} vs floor ${ms(median(rounds.map((r) => r.floor.wallMs)))}: median ratio ${ratio(wall)}; client CPU ${ratio(cpu)}`,
      target: 'wall ≤ 1.30×, CPU ≤ 1.50× the floor',
      pass,
    };
  });
}

export const commandManifest = (context: BenchContext): Promise<Row> =>
  pairedSessions(`smtpspec run: manifest of ${COMMAND_SESSIONS} targets, ${MANIFEST_FILES} files, c=${CONCURRENCY}`, context, (dir, port) => manifest(dir, port, COMMAND_SESSIONS));

export const commandFile = (context: BenchContext): Promise<Row> =>
  pairedSessions(`smtpspec run: one file of ${COMMAND_SESSIONS} cases, c=${CONCURRENCY}`, context, (dir, port) => scenarioFile(dir, port, COMMAND_SESSIONS));


export const HELD_OPEN = 10_000;
/** Descriptors each process needs besides one per session. */
const SPARE_DESCRIPTORS = 200;

/** 10,000 sessions open at once (the sink holds every greeting until all are connected): peak RSS of each client. */
export async function heldOpen(context: BenchContext): Promise<Row> {
  const limit = openFileLimit();
  let count = HELD_OPEN;
  if (limit < HELD_OPEN + SPARE_DESCRIPTORS) {
    count = Math.max(1, limit - SPARE_DESCRIPTORS);
    log(`note: ulimit -n is ${limit}, too low for ${HELD_OPEN} sessions; holding ${count} instead (raise it with "ulimit -n 12000")`);
  }
  const sinkOptions = { holdUntil: count, holdMs: 120_000, holdIdleMs: 30_000 };
  const all = String(count);
  const shapes: Record<'floor' | 'file' | 'manifest', (dir: string, port: number) => Promise<{ run: () => Promise<CommandResult>; args?: string[] }>> = {
    floor: async (dir, port) => ({ run: () => floor(dir, { port, sessions: count, concurrency: count, message: { text: SHORT_TEXT } }) }),
    file: async (dir, port) => {
      const args = ['run', await scenarioFile(dir, port, count), '--concurrency', all, '--per-host', all];
      return { run: () => smtpspec(dir, args), args };
    },
    manifest: async (dir, port) => {
      const args = ['run', await manifest(dir, port, count), '--concurrency', all, '--per-host', all];
      return { run: () => smtpspec(dir, args), args };
    },
  };
  const rss: Record<string, number> = {};
  for (const [shape, setup] of Object.entries(shapes)) {
    // A sink of its own for each client, so its count of connections starts at zero.
    await withSetup(async (dir, sink) => {
      const { run, args } = await setup(dir, sink.port);
      const result = await measured(sink, count, run, shape);
      rss[shape] = result.peakRssMb;
      log(`${shape === 'floor' ? 'floor client' : `smtpspec, ${shape}`}: ${result.window.peakOpen} open at once; peak RSS ${mb(result.peakRssMb)}; wall ${ms(result.wallMs)} (${phaseText(result)})`);
      if (args && result.peakRssMb > 500) await profileOnce(context, dir, args);
    }, sinkOptions);
  }
  const file = rss.file!;
  const inManifest = rss.manifest!;
  const base = rss.floor!;
  return {
    name: `${count} sessions open at once: peak RSS, file / manifest`,
    measured: `${mb(file)} / ${mb(inManifest)} vs floor ${mb(base)} (${ratio(file / base)} / ${ratio(inManifest / base)})`,
    target: '≤ 500 MB each',
    pass: file <= 500 && inManifest <= 500 && count === HELD_OPEN,
  };
}

export const BIG_MANIFEST = 10_000;

/** A 10,000-target manifest with 5 scenario files: validate, list, and a run writing all four reports. */
export async function bigManifest(context: BenchContext): Promise<Row> {
  return withSetup(async (dir, sink) => {
    const path = await manifest(dir, sink.port, BIG_MANIFEST);
    const validate = await smtpspec(dir, ['validate', path]);
    log(`validate: ${ms(validate.wallMs)}, peak RSS ${mb(validate.peakRssMb)}`);
    const list = await smtpspec(dir, ['list', path]);
    log(`list:     ${ms(list.wallMs)}, peak RSS ${mb(list.peakRssMb)}`);
    const reports = ['--junit', 'report.xml', '--json', 'report.json', '--tap', 'report.tap', '--html', 'report.html'];
    const runArgs = ['run', path, '--concurrency', String(CONCURRENCY), '--per-host', String(CONCURRENCY), ...reports];
    const run = await measured(sink, BIG_MANIFEST, () => smtpspec(dir, runArgs), 'smtpspec run');
    const { afterMs } = phases(run);
    log(`run with --junit --json --tap --html: ${ms(run.wallMs)}, peak RSS ${mb(run.peakRssMb)}; ${phaseText(run)}`);
    const planned = Math.max(validate.wallMs, list.wallMs);
    const plannedMb = Math.max(validate.peakRssMb, list.peakRssMb);
    const pass = planned <= 2_000 && plannedMb <= 300 && afterMs <= 5_000;
    if (context.profile) {
      if (validate.wallMs > 2_000) await profileOnce(context, dir, ['validate', path]);
      if (afterMs > 5_000) await profileOnce(context, dir, runArgs);
    }
    return {
      name: `manifest of ${BIG_MANIFEST} targets, ${MANIFEST_FILES} files: validate / list; run's reports`,
      measured: `${ms(validate.wallMs)} ${mb(validate.peakRssMb)} / ${ms(list.wallMs)} ${mb(list.peakRssMb)}; ${ms(afterMs)} after the last session`,
      target: '≤ 2 s and ≤ 300 MB; reports ≤ 5 s',
      pass,
    };
  });
}

const STREAM_ROUNDS = 5;

/**
 * One message from a file, 100 MB and 10 MB, `smtpspec run` against the floor client, whole processes. The rate is
 * the message size over the session's time as the sink saw it (connection to close), so start-up does not count.
 */
export async function stream(context: BenchContext): Promise<Row> {
  return withSetup(async (dir, sink) => {
    const sizes = [10, 100];
    const rate = (megabytes: number, result: Measured): number => megabytes / (phases(result).sessionsMs / 1000);
    const figures: Record<number, { rates: number[]; smtpspecMb: number[]; floorMb: number[]; args: string[] }> = {};
    for (const megabytes of sizes) {
      const message = join(dir, `message-${megabytes}.eml`);
      await writeMessage(message, megabytes);
      const file = join(dir, `stream-${megabytes}.yaml`);
      await writeFile(
        file,
        `name: stream\ntarget: 127.0.0.1:${sink.port}\ntimeout: 60s\ncases:\n  - name: big message\n    steps:\n      - expect: 220\n      - send: EHLO bench.invalid\n        expect: 250\n      - send: MAIL FROM:<bench@bench.invalid>\n        expect: 250\n      - send: RCPT TO:<user@example.test>\n        expect: 250\n      - send: DATA\n        expect: 354\n      - data: { file: message-${megabytes}.eml }\n        expect: 250\n      - send: QUIT\n        expect: 221\n`,
      );
      const args = ['run', file];
      const rounds = megabytes === 100 ? STREAM_ROUNDS : 1;
      const f = { rates: [] as number[], smtpspecMb: [] as number[], floorMb: [] as number[], args };
      for (let round = 1; round <= rounds; round++) {
        const runFloor = () => measured(sink, 1, () => floor(dir, { port: sink.port, sessions: 1, concurrency: 1, message: { file: message } }), 'floor client');
        const runSmtpspec = () => measured(sink, 1, () => smtpspec(dir, args), 'smtpspec');
        const floorFirst = round % 2 === 1;
        const first = await (floorFirst ? runFloor() : runSmtpspec());
        const second = await (floorFirst ? runSmtpspec() : runFloor());
        const [fl, s] = floorFirst ? [first, second] : [second, first];
        f.rates.push(rate(megabytes, s) / rate(megabytes, fl));
        f.smtpspecMb.push(s.peakRssMb);
        f.floorMb.push(fl.peakRssMb);
        log(
          `${megabytes} MB, round ${round}: floor ${rate(megabytes, fl).toFixed(1)} MB/s (RSS ${mb(fl.peakRssMb)}, wall ${ms(fl.wallMs)}), ` +
            `smtpspec ${rate(megabytes, s).toFixed(1)} MB/s (RSS ${mb(s.peakRssMb)}, wall ${ms(s.wallMs)}) = ${Math.round((100 * rate(megabytes, s)) / rate(megabytes, fl))}%`,
        );
      }
      figures[megabytes] = f;
    }
    const share = median(figures[100]!.rates);
    const small = median(figures[10]!.smtpspecMb);
    const big = median(figures[100]!.smtpspecMb);
    const floorGrowth = median(figures[100]!.floorMb) - median(figures[10]!.floorMb);
    const flat = big - small <= floorGrowth + 10;
    const pass = share >= 0.9 && flat;
    if (!pass) await profileOnce(context, dir, figures[100]!.args);
    return {
      name: '100 MB message from a file (sessions by the sink\'s clock)',
      measured: `${Math.round(share * 100)}% of the floor's rate; smtpspec RSS ${mb(small)} at 10 MB, ${mb(big)} at 100 MB (floor +${mb(floorGrowth)})`,
      target: '≥ 90%; RSS flat from 10 to 100 MB',
      pass,
    };
  });
}

const STARTUP_RUNS = 20;

/** `smtpspec validate` of one file against `node -e 0`, whole processes, interleaved. */
export async function startup(context: BenchContext): Promise<Row> {
  const dir = await mkdtemp(join(tmpdir(), 'smtpspec-bench-'));
  try {
    const file = join(packageRoot(), 'scenarios', 'basic-conversation.yaml');
    const bare: number[] = [];
    const validate: number[] = [];
    const spawnTime = (args: string[]): number => {
      const started = performance.now();
      const result = spawnSync(process.execPath, args, { stdio: 'ignore', timeout: 10_000 });
      if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${String(result.status)}`);
      return performance.now() - started;
    };
    for (let run = 0; run < STARTUP_RUNS; run++) {
      // Interleaved, the first alternating, so a busy moment on the machine weighs on both alike.
      if (run % 2 === 0) bare.push(spawnTime(['-e', '0']));
      validate.push(spawnTime([BIN, 'validate', file]));
      if (run % 2 === 1) bare.push(spawnTime(['-e', '0']));
    }
    const r = median(validate) / median(bare);
    log(`node -e 0: median ${ms(median(bare))}; smtpspec validate: median ${ms(median(validate))} (${STARTUP_RUNS} runs each)`);
    if (r > 1.3) await profileOnce(context, dir, ['validate', file]);
    return {
      name: 'smtpspec validate one.yaml (start-up)',
      measured: `${ms(median(validate))} vs node -e 0 ${ms(median(bare))} = ${ratio(r)}`,
      target: '≤ 1.30× node -e 0',
      pass: r <= 1.3,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
