import { UsageError } from '../errors.js';
import type { Reporter } from './events.js';
import { assertServer } from '../scenario/target.js';
import type { ServerTarget } from '../scenario/types.js';
import { SharedRecords } from '../smtp/shared-records.js';
import { Transcript } from '../smtp/transcript.js';
import type { ParserLimits } from '../smtp/reply-parser.js';
import { defaultHostKey, HostLimiter, WaitingItems } from './host-limiter.js';
import { DEFAULT_CONCURRENCY, DEFAULT_PER_HOST_LIMIT } from './limits.js';
import { planWork, type PlanOptions, type WorkItem } from './plan.js';
import type { InternalFault } from './internal-fault.js';
import { countResults, type CaseInfo, type CaseResult, type EarlierAttempt, type FailureKind, type RunResult, type StepResult, type TranscriptEntry } from './results.js';
import { skippedStep } from './case-progress.js';
import { caseInfo, caseSecrets, runCase, type RunCaseOptions } from './run-case.js';
import { StepHeads } from './step-label.js';
import { SessionSignals } from './session-signals.js';

/**
 * Running planned work: many sessions at once within limits overall and per host, retries after
 * network errors, --bail, interruption, and the reporter's events as cases begin and end.
 */

export { DEFAULT_CONCURRENCY, DEFAULT_PER_HOST_LIMIT } from './limits.js';
/** The skip reason of cases that never started because an earlier one failed. */
export const BAIL_REASON = 'not run: --bail';
/** The skip reason of cases that never started because the run was interrupted (SIGINT, SIGTERM). */
export const INTERRUPTED_REASON = 'not run: the run was interrupted';

export interface RunOptions {
  /** Sessions at once overall. Default 8. */
  concurrency?: number;
  /** Sessions at once to one host (see `hostKey`). Default 2. */
  perHostLimit?: number;
  /** What counts as one host; default: the TCP host whatever the port, the socket path, the command line. */
  hostKey?: (target: ServerTarget) => string;
  /** After the first failed or errored case, start no new case; the rest are skipped with BAIL_REASON. */
  bail?: boolean;
  /** Reruns of a case that ended in a network error; expectation failures are never rerun. Default 0. */
  retries?: number;
  /**
   * onBegin once with every case, then per case onCaseBegin, onStepEnd × steps, onCaseEnd (cases
   * interleave), then onEnd once. Only the final attempt's steps are reported.
   */
  reporter?: Reporter;
  /** Replaces the engine's runCase (for tests of the scheduling alone). */
  runCase?: typeof runCase;
  /** Aborting it stops the run: no new case starts, running sessions are closed, reports are still complete. */
  signal?: AbortSignal;
  /** Reply size limits (line length, lines per reply); defaults in the reply parser. */
  limits?: ParserLimits;
  /** Each transcript entry as it is recorded, masked; `attempt` counts from 1 and tells retried sessions apart. */
  onTranscript?: TranscriptListener;
  /** A fault in smtpspec ended a case (kind `internal`): its masked stack, for a bug report. */
  onInternalFault?: (info: CaseInfo, fault: InternalFault) => void;
}

export type TranscriptListener = (info: CaseInfo, entry: TranscriptEntry, attempt: number) => void;

interface Settings {
  concurrency: number;
  perHostLimit: number;
  hostKey: (target: ServerTarget) => string;
  bail: boolean;
  retries: number;
  reporter: Reporter;
  runCase: typeof runCase;
  signal: AbortSignal | undefined;
  /** The run's signal passed on to each session, through one listener on it. */
  sessionSignals: SessionSignals | undefined;
  limits: ParserLimits | undefined;
  onTranscript: TranscriptListener | undefined;
  onInternalFault: ((info: CaseInfo, fault: InternalFault) => void) | undefined;
  /** The replies and transcript entries this run's sessions share; dropped with the run. */
  shared: SharedRecords;
  /** The heads of the run's steps, made once for all its sessions. */
  heads: StepHeads;
}

/** The causes worth another try: the network, not the server's answers, nor a fault in smtpspec (`internal`). */
const RETRYABLE = new Set<FailureKind>(['refused', 'reset', 'closed', 'timeout', 'connect-timeout', 'dns', 'network']);

export function isRetryable(result: CaseResult): boolean {
  const kind = result.failure?.kind;
  return result.status === 'error' && kind !== undefined && RETRYABLE.has(kind);
}

function wholeNumber(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) throw new UsageError(`${name} must be a whole number of at least ${min}, not ${value}`);
  return value;
}

function settingsOf(options: RunOptions): Settings {
  return {
    concurrency: wholeNumber('concurrency', options.concurrency ?? DEFAULT_CONCURRENCY, 1),
    perHostLimit: wholeNumber('per-host limit', options.perHostLimit ?? DEFAULT_PER_HOST_LIMIT, 1),
    hostKey: options.hostKey ?? defaultHostKey,
    bail: options.bail ?? false,
    retries: wholeNumber('retries', options.retries ?? 0, 0),
    reporter: options.reporter ?? {},
    runCase: options.runCase ?? runCase,
    signal: options.signal,
    sessionSignals: options.signal ? new SessionSignals(options.signal) : undefined,
    limits: options.limits,
    onTranscript: options.onTranscript,
    onInternalFault: options.onInternalFault,
    shared: new SharedRecords(),
    heads: new StepHeads(),
  };
}

/**
 * Runs the items concurrently within the limits. `cases` of the result follow the order
 * of `items`, whatever order the cases finished in. Rejects only if a reporter throws, or
 * for a bug: an item planned for showing (a placeholder target).
 */
export async function runWork(items: WorkItem[], options: RunOptions = {}): Promise<RunResult> {
  const settings = settingsOf(options);
  const keys = items.map((item) => {
    assertServer(item.target);
    return settings.hostKey(item.target);
  });
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const infos = uniqueIds(items.map((item) => caseInfo(item.scenario, item.kase, item.target)));
  settings.reporter.onBegin?.({ startedAt, cases: infos });
  let cases: CaseResult[];
  try {
    cases = await schedule(items, infos, keys, settings);
  } finally {
    settings.sessionSignals?.dispose();
  }
  const result: RunResult = {
    startedAt,
    durationMs: Math.round(performance.now() - started),
    cases,
    counts: { ...countResults(cases), flaky: cases.filter((c) => c.flaky).length },
  };
  await settings.reporter.onEnd?.(result);
  return result;
}

/**
 * Case ids name one case each, for reporters that order, group and look up by them: the same
 * case planned twice against the same target (through the library) gets ` (2)`, ` (3)`… after
 * its id the second time and on, in plan order.
 */
function uniqueIds(infos: CaseInfo[]): CaseInfo[] {
  const taken = new Set(infos.map((info) => info.id));
  const seen = new Set<string>();
  return infos.map((info) => {
    if (!seen.has(info.id)) {
      seen.add(info.id);
      return info;
    }
    let count = 2;
    while (taken.has(`${info.id} (${count})`)) count++;
    const id = `${info.id} (${count})`;
    taken.add(id);
    return { ...info, id };
  });
}

/** Starts the earliest waiting item whose host has room, whenever a session slot is free. */
function schedule(items: WorkItem[], infos: CaseInfo[], keys: string[], s: Settings): Promise<CaseResult[]> {
  const results = new Array<CaseResult>(items.length);
  const limiter = new HostLimiter(s.perHostLimit);
  const hasRoom = (key: string): boolean => limiter.canAcquire(key);
  const waiting = new WaitingItems(keys);
  let running = 0;
  let bailed = false;

  return new Promise((resolve, reject) => {
    const pump = (): void => {
      const stopReason = s.signal?.aborted ? INTERRUPTED_REASON : bailed ? BAIL_REASON : undefined;
      if (stopReason) for (const index of waiting.takeAll()) results[index] = reportNotRun(items[index]!, infos[index]!, s.reporter, stopReason);
      while (running < s.concurrency) {
        const index = waiting.take(hasRoom);
        if (index === undefined) break;
        limiter.acquire(keys[index]!);
        running++;
        runItem(items[index]!, infos[index]!, s)
          .then((result) => {
            results[index] = result;
            running--;
            limiter.release(keys[index]!);
            if (s.bail && (result.status === 'failed' || result.status === 'error')) bailed = true;
            pump();
          })
          .catch(reject);
      }
      if (running === 0 && waiting.size === 0) resolve(results);
    };
    pump();
  });
}

/** One case, begun and ended for the reporter; run again after a network error while retries are left. */
async function runItem(item: WorkItem, info: CaseInfo, s: Settings): Promise<CaseResult> {
  if (item.skip !== undefined) return reportNotRun(item, info, s.reporter, item.skip);
  s.reporter.onCaseBegin?.(info);
  if (s.retries > 0) return runWithRetries(item, info, s);
  const result = await runAttempt(item, info, s, 1, undefined);
  s.reporter.onCaseEnd?.(result);
  return result;
}

/** One session of a case, with a signal of its own that the run's interruption aborts. */
async function runAttempt(item: WorkItem, info: CaseInfo, s: Settings, attempt: number, held: StepResult[] | undefined): Promise<CaseResult> {
  const session = s.sessionSignals?.take();
  try {
    const options = attemptOptions(info, s, attempt, held, session?.signal);
    if (item.dnsServer) options.dnsServer = item.dnsServer;
    return await s.runCase(item.scenario, item.kase, item.target, options);
  } finally {
    session?.release();
  }
}

/** An attempt's hooks; `held` collects its steps when it may be retried, so reporters see one attempt per case. */
function attemptOptions(info: CaseInfo, s: Settings, attempt: number, held: StepResult[] | undefined, signal: AbortSignal | undefined): RunCaseOptions {
  const { reporter, onTranscript, onInternalFault } = s;
  const options: RunCaseOptions = { info, shared: s.shared, heads: s.heads };
  if (held) options.onStepEnd = (step) => held.push(step);
  else if (reporter.onStepEnd) options.onStepEnd = (step) => reporter.onStepEnd?.(info, step);
  if (signal) options.signal = signal;
  if (s.limits) options.limits = s.limits;
  if (onTranscript) options.onTranscript = (entry) => onTranscript(info, entry, attempt);
  if (onInternalFault) options.onInternalFault = (fault) => onInternalFault(info, fault);
  return options;
}

async function runWithRetries(item: WorkItem, info: CaseInfo, s: Settings): Promise<CaseResult> {
  const { reporter } = s;
  let earlier: EarlierAttempt[] | undefined;
  for (let attempt = 1; ; attempt++) {
    const final = attempt > s.retries;
    const held: StepResult[] = [];
    const result = await runAttempt(item, info, s, attempt, final ? undefined : held);
    if (!final && isRetryable(result) && !s.signal?.aborted) {
      (earlier ??= []).push({ startedAt: result.startedAt, durationMs: result.durationMs, failure: result.failure! });
      continue;
    }
    for (const step of held) reporter.onStepEnd?.(info, step);
    const outcome: CaseResult =
      attempt === 1 ? result : { ...result, attempts: attempt, earlierAttempts: earlier ?? [], ...(result.status === 'passed' ? { flaky: true } : {}) };
    reporter.onCaseEnd?.(outcome);
    return outcome;
  }
}

/** A case that never started: every step skipped, nothing sent. */
function reportNotRun(item: WorkItem, info: CaseInfo, reporter: Reporter, reason: string): CaseResult {
  const transcript = new Transcript({ secrets: caseSecrets(item.scenario, item.kase) });
  const steps = item.kase.steps.map((step) => skippedStep(step, transcript, reason));
  const result: CaseResult = {
    ...info,
    status: 'skipped',
    startedAt: new Date().toISOString(),
    durationMs: 0,
    steps,
    transcript: [],
    skipReason: reason,
  };
  reporter.onCaseBegin?.(info);
  for (const step of steps) reporter.onStepEnd?.(info, step);
  reporter.onCaseEnd?.(result);
  return result;
}

/** Plans the work, runs it, and stops what planning started (the embedded server). */
export async function planAndRun(plan: PlanOptions, options: RunOptions = {}): Promise<RunResult> {
  const planned = await planWork(plan);
  try {
    return await runWork(planned.items, options);
  } finally {
    await planned.close();
  }
}
