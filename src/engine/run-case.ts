import { secretsOf } from '../smtp/auth.js';
import { connect, type ConnectOptions, type SmtpConnection, type TransportSpec } from '../smtp/client.js';
import { isReplyTimeout } from '../smtp/reply-queue.js';
import type { ParserLimits } from '../smtp/reply-parser.js';
import type { SharedRecords } from '../smtp/shared-records.js';
import { maskReply as maskRepliedLines } from '../smtp/secrets.js';
import { Transcript } from '../smtp/transcript.js';
import { SmtpError, type Reply } from '../smtp/types.js';
import { formatTarget } from './target-label.js';
import { assertServer } from '../scenario/target.js';
import { isTcpTarget, type Case, type Scenario, type ServerTarget, type Step, type Target, type TcpTarget } from '../scenario/types.js';
import { AfterReplyError, executeAction, PartialRepliesError, type ActionOutcome, type StepContext } from './actions.js';
import { captureValues, checkLatency, checkReply, checkTls } from './checks.js';
import { evaluateCondition } from './conditions.js';
import { describeExpectation, describeReply } from './match.js';
import { CaseProgress, skippedStep } from './case-progress.js';
import type { InternalFault } from './internal-fault.js';
import type { CaseInfo, CaseResult, FailureKind, StepResult, TranscriptEntry } from './results.js';
import { newSessionState, type SessionState } from './session-state.js';
import { maskDelivery, maskStrings } from './mask-results.js';
import { isSessionless } from './sessionless.js';
import type { DnsServer } from '../dns/types.js';
import { stepLabel, type StepHead, type StepHeads } from './step-label.js';

/**
 * Runs one case: one SMTP session on its own connection, steps in order.
 * The first step that does not pass ends the session; later steps are reported as skipped.
 * Everything that goes wrong becomes data in the result; this function does not throw.
 */

export interface RunCaseHooks {
  onStepEnd?(step: StepResult): void;
  /** Each transcript entry as it is recorded, masked exactly as the stored transcript (`--verbose`). */
  onTranscript?(entry: TranscriptEntry): void;
  /** Aborted when the run is interrupted: the session is closed and the case ends as interrupted. */
  signal?: AbortSignal;
  /** A fault in smtpspec ended the case (as an error of kind `internal`): its masked stack, for a bug report. */
  onInternalFault?(fault: InternalFault): void;
}

export interface RunCaseOptions extends RunCaseHooks {
  /** Limits on the server's replies; default: lines of 8192 bytes, 1000 lines a reply. */
  limits?: ParserLimits;
  /** The run's replies and transcript entries, shared between its sessions. */
  shared?: SharedRecords;
  /** The run's step heads, made once for all its sessions. */
  heads?: StepHeads;
  /** The case's caseInfo, when the caller has it already. */
  info?: CaseInfo;
  /** The resolver of DNS check steps (the work item's). */
  dnsServer?: DnsServer;
}

const INTERRUPTED = 'interrupted: the run was stopped';

/** Longest wait for the server's answer to a closing QUIT and for its close (shorter when the file's deadline is). */
const CLOSE_DEADLINE_MS = 2_000;

export function caseInfo(scenario: Scenario, kase: Case, target: Target): CaseInfo {
  // Names are shown as written: a secret variable's expansion in a case name was masked where it stands when the file was read.
  return {
    id: `${scenario.file}#${kase.index}@${formatTarget(target)}`,
    file: scenario.file,
    scenarioName: scenario.name,
    caseName: kase.name,
    caseIndex: kase.index,
    pos: kase.pos,
    target,
  };
}

/** What the step was waiting for, for timeout messages. */
function awaited(step: Step, head: Readonly<StepHead>): string {
  switch (step.action.type) {
    case 'read':
      return step.index === 0 ? 'the greeting' : 'a reply';
    case 'data':
      return 'the reply after the final dot of the message';
    default:
      return `the reply to "${head.label.replace(/^send: /, '')}"`;
  }
}

interface StepOutcome {
  result: StepResult;
  /** The last reply read, which says where the session is now (a pipeline's 354 after an earlier command failed). */
  last?: Reply;
  /** Why the step did not pass, when it threw. */
  kind?: FailureKind;
}

function maskReply(reply: Reply, transcript: Transcript): Reply {
  return maskRepliedLines(reply, transcript.secrets);
}

/** Captured values are used as they are, but shown masked: a server may echo a secret back. */
function maskValues(values: Record<string, string>, transcript: Transcript): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, transcript.mask(value)]));
}

/** The checks that follow a successful exchange, in order; the first failure is the step's. */
function checkOutcome(step: Step, outcome: ActionOutcome, ctx: StepContext, latencyMs: number | undefined): { failure?: string; captures?: Record<string, string> } {
  if (outcome.failure) return { failure: outcome.failure };
  const reply = outcome.main;
  if (reply && step.action.type !== 'pipeline') {
    const failure = checkReply(step, reply);
    if (failure) return { failure };
  }
  let captures: Record<string, string> | undefined;
  if (step.capture && reply) {
    const captured = captureValues(step.capture, reply);
    if ('error' in captured) return { failure: captured.error };
    captures = captured.values;
    for (const [name, value] of Object.entries(captures)) ctx.state.captures.set(name, value);
  }
  if (step.withinMs !== undefined && latencyMs !== undefined) {
    const failure = checkLatency(latencyMs, step.withinMs);
    if (failure) return { failure, ...(captures ? { captures } : {}) };
  }
  if (step.tls) {
    const conn = ctx.conn;
    const failure = checkTls(step.tls, {
      facts: conn?.tls,
      nameMismatch: (name) => (conn ? conn.certificateNameMismatch(name) : 'there is no TLS session'),
      now: Date.now(),
    });
    if (failure) return { failure, ...(captures ? { captures } : {}) };
  }
  return captures ? { captures } : ALL_HELD;
}

const ALL_HELD: { failure?: string; captures?: Record<string, string> } = Object.freeze({});

/** The result of a step whose `when` does not hold, or undefined when the step is to run. */
function skippedByCondition(step: Step, ctx: StepContext, transcript: Transcript, head: Readonly<StepHead>): StepOutcome | undefined {
  if (!step.when) return undefined;
  const condition = evaluateCondition(step.when, ctx.state);
  if (condition.holds) return undefined;
  return { result: { ...head, status: 'skipped', message: transcript.mask(condition.reason), durationMs: 0 } };
}

function failedStep(step: Step, progress: CaseProgress, head: Readonly<StepHead>, caught: unknown, started: number): StepOutcome {
  const transcript = progress.transcript;
  const failure = progress.failureOf(caught, (error) => (error instanceof SmtpError && isReplyTimeout(error) ? `${error.message} (waiting for ${awaited(step, head)})` : error.message));
  const replies = caught instanceof PartialRepliesError ? { replies: caught.replies.map((reply) => maskReply(reply, transcript)) } : undefined;
  // The last reply that did arrive is shown, not "no reply".
  const answered = caught instanceof AfterReplyError ? { sent: transcript.mask(caught.sent), reply: maskReply(caught.reply, transcript) } : undefined;
  const durationMs = Math.round(performance.now() - started);
  return { result: { ...head, status: failure.status, ...answered, message: failure.message, ...replies, durationMs }, kind: failure.kind };
}

/** The result of a step whose exchange completed: checked, masked, its fields in the order reports show them. */
function exchangeOutcome(step: Step, ctx: StepContext, transcript: Transcript, head: Readonly<StepHead>, outcome: ActionOutcome, started: number): StepOutcome {
  const ended = performance.now();
  const latencyMs = outcome.replies.length > 0 ? Math.round((outcome.repliedAt ?? ended) - outcome.sentAt) : undefined;
  const checked = checkOutcome(step, outcome, ctx, latencyMs);
  const refused = checked.failure !== undefined && isRefusedGreeting(step, outcome.main) ? refusedGreeting(outcome.main!) : undefined;
  const failure = refused ? refused.message : checked.failure;
  // A check that could not decide (its resolver failed) is an error, not a finding about the server.
  const undecided = outcome.check?.verdict === 'error';
  // Fields in the order the reports list them.
  const result: StepResult = {
    index: head.index,
    pos: head.pos,
    label: head.label,
    expected: outcome.expectation ? describeExpectation(outcome.expectation) : head.expected,
    status: refused || undecided ? 'error' : failure ? 'failed' : 'passed',
    ...(outcome.sent !== undefined ? { sent: transcript.mask(outcome.sent) } : undefined),
    ...(outcome.main ? { reply: maskReply(outcome.main, transcript) } : undefined),
    ...(outcome.replies.length > 1 ? { replies: outcome.replies.map((reply) => maskReply(reply, transcript)) } : undefined),
    ...(failure ? { message: transcript.mask(failure) } : undefined),
    ...(latencyMs !== undefined ? { latencyMs } : undefined),
    ...(checked.captures ? { captures: maskValues(checked.captures, transcript) } : undefined),
    ...(ctx.conn?.tls && (step.action.type === 'starttls' || step.tls) ? { tls: ctx.conn.tls } : undefined),
    ...(outcome.delivery ? { delivery: maskDelivery(outcome.delivery, transcript) } : undefined),
    ...(outcome.check ? { check: transcript.hasSecrets ? maskStrings(outcome.check, transcript) : outcome.check } : undefined),
    durationMs: Math.round(ended - started),
  };
  const last = outcome.replies.at(-1) ?? outcome.main;
  if (refused) return { result, last: outcome.main!, kind: refused.kind };
  if (undecided) return { result, kind: 'check' };
  return last ? { result, last } : { result };
}

/** A 421 read by the greeting step (a first step that only reads) that expected something else. */
function isRefusedGreeting(step: Step, reply: Reply | undefined): boolean {
  return reply?.code === 421 && step.index === 0 && step.action.type === 'read' && checkReply(step, reply) !== undefined;
}

const isQuit = (step: Step) => step.action.type === 'send' && typeof step.action.line === 'string' && /^quit\s*$/i.test(step.action.line);

/**
 * Ends the session after a failure. smtpspec sends only what the scenario says, so a
 * polite QUIT goes out only when the case itself ends with one, the greeting has
 * arrived, the server is not reading message data (where QUIT would become text),
 * and its last reply was not a 421 (it is closing the connection, RFC 5321 §3.8).
 */
async function closeAfterFailure(conn: SmtpConnection, rest: Step[], state: SessionState, deadlineMs: number, transcript: Transcript) {
  if (conn.isOpen && state.lastCode !== 0 && state.lastCode !== 421 && !state.inDataPhase && rest.some(isQuit)) {
    transcript.note('closing: sending the QUIT of a later step');
    try {
      await conn.sendLine('QUIT');
      await conn.readReply(deadlineMs);
    } catch {
      // The case has already failed; how the server takes the QUIT changes nothing.
    }
  }
  await conn.close(deadlineMs);
}

/** The file's secrets and the case's AUTH credentials, masked from the start: they appear in step labels before the exchange. */
export function caseSecrets(scenario: Scenario, kase: Case): string[] {
  let secrets = scenario.secrets;
  for (const step of kase.steps) if (step.action.type === 'auth') secrets = [...secrets, ...secretsOf(step.action)];
  return secrets;
}

/**
 * The greeting is read before anything is sent, even when the file has no step for it, or its
 * step will be skipped: nothing has happened yet, so the condition holds now exactly when it would then.
 */
function needsImplicitGreeting(kase: Case, state: SessionState): boolean {
  const first = kase.steps[0];
  if (first === undefined) return false;
  return first.action.type !== 'read' || (first.when !== undefined && !evaluateCondition(first.when, state).holds);
}

function tcpSpec(target: TcpTarget): TransportSpec {
  const { host, port, addresses, localAddress, family } = target;
  return {
    kind: 'tcp',
    host,
    port,
    ...(addresses ? { addresses } : {}),
    ...(localAddress !== undefined ? { localAddress } : {}),
    ...(family ? { family } : {}),
  };
}

function connectOptions(scenario: Scenario, target: ServerTarget, transcript: Transcript, hooks: RunCaseOptions): ConnectOptions {
  const transport: TransportSpec = isTcpTarget(target) ? tcpSpec(target) : target;
  const servername = scenario.tls.servername ?? (transport.kind === 'tcp' ? transport.host : undefined);
  const options: ConnectOptions = { transport, timeoutMs: scenario.timeoutMs, transcript };
  if (hooks.limits) options.limits = hooks.limits;
  if (hooks.shared) options.shared = hooks.shared;
  if (scenario.tls.implicit) options.tls = { ...scenario.tls, servername };
  if (scenario.proxy) options.proxy = scenario.proxy;
  return options;
}

/**
 * A 421 greeting: the server is not taking sessions now and closes the connection (RFC 5321 §3.8),
 * a transient condition (§4.2.5). Read before a first step that sends, or by a greeting step that
 * expects something else, it ends the case as an error of kind `closed`, which `--retries` runs again.
 * A greeting step that expects 421 passes.
 */
function refusedGreeting(greeting: Reply): SmtpError {
  return new SmtpError('closed', 'reply', `the server greeted with ${describeReply(greeting)}: it is not taking sessions now`);
}

/** The greeting of a case whose first step sends: any code will do, except 421 (see refusedGreeting). */
async function readImplicitGreeting(conn: SmtpConnection, timeoutMs: number, transcript: Transcript): Promise<Reply> {
  let greeting: Reply;
  try {
    greeting = await conn.readReply(timeoutMs);
  } catch (error) {
    if (error instanceof SmtpError && isReplyTimeout(error)) error.message = `${error.message} (waiting for the greeting)`;
    throw error;
  }
  transcript.note(`greeting ${greeting.code} read before the first step`);
  if (greeting.code === 421) throw refusedGreeting(greeting);
  return greeting;
}

export async function runCase(scenario: Scenario, kase: Case, target: Target, hooks: RunCaseOptions = {}): Promise<CaseResult> {
  assertServer(target);
  const info = hooks.info ?? caseInfo(scenario, kase, target);
  const transcript = new Transcript({ secrets: caseSecrets(scenario, kase), onEntry: hooks.onTranscript, shared: hooks.shared });
  const progress = new CaseProgress(info, scenario, transcript, hooks);
  // A fault in smtpspec that escapes the steps' own handling still ends the case as data.
  return startCase(scenario, kase, target, hooks, progress).catch((caught: unknown) => progress.broken(kase, caught));
}

async function startCase(scenario: Scenario, kase: Case, target: ServerTarget, hooks: RunCaseOptions, progress: CaseProgress): Promise<CaseResult> {
  const transcript = progress.transcript;
  const state = newSessionState(kase.vars);

  if (kase.when) {
    const condition = evaluateCondition(kase.when, state);
    if (!condition.holds) {
      const reason = transcript.mask(condition.reason);
      for (const step of kase.steps) progress.addStep(skippedStep(step, transcript, reason));
      return progress.finish('skipped', { skipReason: reason });
    }
  }

  const signal = hooks.signal;
  const closeDeadlineMs = Math.min(CLOSE_DEADLINE_MS, scenario.timeoutMs);
  const dnsServer = hooks.dnsServer;
  // A case that only asks DNS opens no session: nothing is sent to the SMTP server.
  if (isSessionless(kase)) {
    transcript.note('no SMTP session: every step of this case asks DNS');
    return runSteps(kase, { scenario, target, state, transcript, ...(signal ? { signal } : {}), ...(dnsServer ? { dnsServer } : {}) }, progress, closeDeadlineMs, signal);
  }

  let conn: SmtpConnection | undefined;
  try {
    if (isTcpTarget(target) && target.resolveError) throw new SmtpError('dns', 'connect', target.resolveError);
    conn = progress.conn = await connect(connectOptions(scenario, target, transcript, hooks));
    if (needsImplicitGreeting(kase, state)) {
      const greeting = await readImplicitGreeting(conn, scenario.timeoutMs, transcript);
      state.lastCode = greeting.code;
      state.greeting = greeting.lines[0] ?? '';
    }
  } catch (caught) {
    const failure = progress.failureOf(caught);
    const first = kase.steps[0]!;
    const message = `cannot start the session: ${failure.message}`;
    progress.addStep({ ...skippedStep(first, transcript, message), status: failure.status, message });
    for (const step of kase.steps.slice(1)) progress.addStep(skippedStep(step, transcript, 'not run: the session did not start'));
    await conn?.close(0);
    return progress.finish(failure.status, {
      failure: { stepIndex: 0, pos: first.pos, kind: failure.kind, message: `step 1 (${stepLabel(first, transcript)}): ${message}` },
    });
  }

  const ctx: StepContext = { conn, scenario, target, state, transcript, ...(signal ? { signal } : {}), ...(dnsServer ? { dnsServer } : {}) };
  if (!signal) return runSteps(kase, ctx, progress, closeDeadlineMs, undefined);
  const session = conn;
  // An interrupted run closes the session at once; the step waiting on it then fails, and is reported as interrupted.
  const interrupt = () => {
    transcript.note('the run was interrupted: closing the session');
    void session.close(closeDeadlineMs);
  };
  signal.addEventListener('abort', interrupt, { once: true });
  try {
    return await runSteps(kase, ctx, progress, closeDeadlineMs, signal);
  } finally {
    signal.removeEventListener('abort', interrupt);
  }
}

async function runSteps(kase: Case, ctx: StepContext, progress: CaseProgress, closeDeadlineMs: number, signal: AbortSignal | undefined): Promise<CaseResult> {
  const { conn, state } = ctx;
  const transcript = progress.transcript;
  const steps = kase.steps;
  for (const step of steps) {
    if (signal?.aborted) {
      for (const later of kase.steps.slice(step.index)) progress.addStep(skippedStep(later, transcript, `not run: ${INTERRUPTED}`));
      await conn?.close(closeDeadlineMs);
      const label = stepLabel(step, transcript);
      return progress.finish('error', {
        failure: { stepIndex: step.index, pos: step.pos, kind: 'interrupted', message: `step ${step.index + 1} (${label}): ${INTERRUPTED}` },
      });
    }
    const started = performance.now();
    const head = progress.head(step, state.captures);
    let outcome = skippedByCondition(step, ctx, transcript, head);
    if (!outcome) {
      try {
        outcome = exchangeOutcome(step, ctx, transcript, head, await executeAction(step, ctx), started);
      } catch (caught) {
        outcome = failedStep(step, progress, head, caught, started);
      }
    }
    if (signal?.aborted && outcome.result.status !== 'passed') outcome.result = { ...outcome.result, status: 'error', message: INTERRUPTED };
    progress.addStep(outcome.result);
    if (outcome.last) state.lastCode = outcome.last.code;
    // After a 354 the server reads message data until a final dot. A data step clears this itself once
    // the dot is sent: one that was skipped, or failed before its end, leaves the server reading.
    if (outcome.last && step.action.type !== 'data') state.inDataPhase = outcome.last.code === 354;
    if (outcome.result.status === 'passed' || outcome.result.status === 'skipped') continue;

    const rest = kase.steps.slice(step.index + 1);
    for (const later of rest) progress.addStep(skippedStep(later, transcript, 'not run: an earlier step failed'));
    if (conn) await closeAfterFailure(conn, rest, state, closeDeadlineMs, transcript);
    return progress.finish(outcome.result.status, {
      failure: {
        stepIndex: step.index,
        pos: step.pos,
        kind: signal?.aborted ? 'interrupted' : (outcome.kind ?? 'expectation'),
        message: `step ${step.index + 1} (${outcome.result.label}): ${outcome.result.message ?? 'failed'}`,
      },
    });
  }
  await conn?.close(closeDeadlineMs);
  return progress.finish('passed');
}
