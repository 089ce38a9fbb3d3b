import { connect, type SmtpConnection } from '../smtp/client.js';
import { Transcript } from '../smtp/transcript.js';
import { SmtpError, type Reply } from '../smtp/types.js';
import type { Case, Scenario, Step, Target } from '../scenario/types.js';
import { describeExpectation, matchReply } from './match.js';
import type { CaseInfo, CaseResult, Status, StepResult } from './results.js';

/**
 * Runs one case: one SMTP session on its own connection, steps in order.
 * The first step that does not pass ends the session; later steps are reported as skipped.
 * Everything that goes wrong becomes data in the result; this function does not throw.
 */

export interface RunCaseHooks {
  onStepEnd?(step: StepResult): void;
}

/** Longest wait for the server's answer to a closing QUIT and for its close (shorter when the file's deadline is). */
const CLOSE_DEADLINE_MS = 2_000;

export function caseInfo(scenario: Scenario, kase: Case, target: Target): CaseInfo {
  return {
    id: `${scenario.file}#${kase.index}`,
    file: scenario.file,
    scenarioName: scenario.name,
    caseName: kase.name,
    caseIndex: kase.index,
    pos: kase.pos,
    target,
  };
}

/** The label a step gets in reports when the file gives it no name. */
export function stepLabel(step: Step, transcript?: Transcript): string {
  if (step.name) return step.name;
  switch (step.action.type) {
    case 'read':
      return step.index === 0 ? 'greeting' : 'read reply';
    case 'send':
      return `send: ${transcript ? transcript.mask(step.action.line) : step.action.line}`;
    case 'data': {
      const lines = step.action.body.split('\n').length - (step.action.body.endsWith('\n') ? 1 : 0);
      return `data (${lines} line${lines === 1 ? '' : 's'})`;
    }
  }
}

/** What the step was waiting for, for timeout messages. */
function awaited(step: Step, transcript: Transcript): string {
  switch (step.action.type) {
    case 'read':
      return step.index === 0 ? 'the greeting' : 'a reply';
    case 'send':
      return `the reply to "${transcript.mask(step.action.line)}"`;
    case 'data':
      return 'the reply to the message (after the final dot)';
  }
}

const protocolKinds = new Set(['protocol', 'limit']);

function statusOf(error: SmtpError): Status {
  return protocolKinds.has(error.kind) ? 'failed' : 'error';
}

function asSmtpError(error: unknown): SmtpError {
  if (error instanceof SmtpError) return error;
  return new SmtpError('network', error instanceof Error ? error.message : String(error));
}

interface StepOutcome {
  result: StepResult;
  reply?: Reply;
  error?: SmtpError;
}

async function runStep(conn: SmtpConnection, step: Step, transcript: Transcript): Promise<StepOutcome> {
  const started = performance.now();
  const base = {
    index: step.index,
    pos: step.pos,
    label: stepLabel(step, transcript),
    expected: describeExpectation(step.expect),
    ...(step.action.type === 'send' ? { sent: transcript.mask(step.action.line) } : {}),
  };
  const elapsed = () => Math.round(performance.now() - started);
  try {
    if (step.action.type === 'send') await conn.sendLine(step.action.line);
    if (step.action.type === 'data') await conn.sendData(step.action.body);
    const reply = await conn.readReply(step.timeoutMs);
    const match = matchReply(step.expect, reply);
    const masked = maskReply(reply, transcript);
    const result: StepResult = match.ok
      ? { ...base, status: 'passed', reply: masked, durationMs: elapsed() }
      : { ...base, status: 'failed', reply: masked, message: transcript.mask(match.reason), durationMs: elapsed() };
    return { result, reply };
  } catch (caught) {
    const error = asSmtpError(caught);
    const message =
      error.kind === 'timeout' ? `${error.message} (waiting for ${awaited(step, transcript)})` : error.message;
    const result: StepResult = { ...base, status: statusOf(error), message: transcript.mask(message), durationMs: elapsed() };
    return { result, error };
  }
}

function maskReply(reply: Reply, transcript: Transcript): Reply {
  return { ...reply, lines: reply.lines.map((line) => transcript.mask(line)) };
}

function skipped(step: Step, transcript: Transcript, message: string): StepResult {
  return {
    index: step.index,
    pos: step.pos,
    label: stepLabel(step, transcript),
    status: 'skipped',
    expected: describeExpectation(step.expect),
    message,
    durationMs: 0,
  };
}

const isQuit = (step: Step) => step.action.type === 'send' && /^quit\s*$/i.test(step.action.line);

interface SessionState {
  /** The code of the last reply received; 0 before the greeting. */
  lastCode: number;
  /** True after a 354 until the reply to the message data. */
  inDataPhase: boolean;
}

/**
 * Ends the session after a failure. smtpspec sends only what the scenario says, so a
 * polite QUIT goes out only when the case itself ends with one, the greeting has
 * arrived, and the server is not reading message data (where QUIT would become text).
 */
async function closeAfterFailure(conn: SmtpConnection, rest: Step[], state: SessionState, deadlineMs: number, transcript: Transcript) {
  if (conn.isOpen && state.lastCode !== 0 && !state.inDataPhase && rest.some(isQuit)) {
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

/** The greeting is read before anything is sent, even when the file has no step for it. */
function needsImplicitGreeting(kase: Case): boolean {
  return kase.steps[0]?.action.type !== 'read';
}

export async function runCase(scenario: Scenario, kase: Case, target: Target, hooks: RunCaseHooks = {}): Promise<CaseResult> {
  const info = caseInfo(scenario, kase, target);
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const transcript = new Transcript({ secrets: scenario.secrets });
  const steps: StepResult[] = [];
  const record = (result: StepResult) => {
    steps.push(result);
    hooks.onStepEnd?.(result);
  };
  const finish = (status: Status, failure?: CaseResult['failure']): CaseResult => ({
    ...info,
    status,
    startedAt,
    durationMs: Math.round(performance.now() - started),
    steps,
    transcript: transcript.entries,
    ...(failure ? { failure } : {}),
  });

  let conn: SmtpConnection;
  let greeted = false;
  try {
    conn = await connect({ host: target.host, port: target.port, timeoutMs: scenario.timeoutMs, transcript });
    if (needsImplicitGreeting(kase)) {
      const greeting = await conn.readReply(scenario.timeoutMs);
      transcript.note(`greeting ${greeting.code} read before the first step`);
      greeted = true;
    }
  } catch (caught) {
    const error = asSmtpError(caught);
    const first = kase.steps[0]!;
    const message = `cannot start the session: ${transcript.mask(error.message)}`;
    record({ ...skipped(first, transcript, message), status: statusOf(error), message });
    for (const step of kase.steps.slice(1)) record(skipped(step, transcript, 'not run: the session did not start'));
    return finish(statusOf(error), {
      stepIndex: 0,
      pos: first.pos,
      kind: error.kind,
      message: `step 1 (${stepLabel(first, transcript)}): ${message}`,
    });
  }

  const closeDeadlineMs = Math.min(CLOSE_DEADLINE_MS, scenario.timeoutMs);
  const state: SessionState = { lastCode: greeted ? 220 : 0, inDataPhase: false };
  for (const step of kase.steps) {
    const outcome = await runStep(conn, step, transcript);
    record(outcome.result);
    if (outcome.reply) state.lastCode = outcome.reply.code;
    // After a 354 the server reads message data until a final dot: a data step always sends one.
    if (step.action.type === 'data') state.inDataPhase = false;
    else if (outcome.reply) state.inDataPhase = outcome.reply.code === 354;
    if (outcome.result.status === 'passed') continue;

    const rest = kase.steps.slice(step.index + 1);
    for (const later of rest) record(skipped(later, transcript, 'not run: an earlier step failed'));
    await closeAfterFailure(conn, rest, state, closeDeadlineMs, transcript);
    return finish(outcome.result.status, {
      stepIndex: step.index,
      pos: step.pos,
      kind: outcome.error?.kind ?? 'expectation',
      message: `step ${step.index + 1} (${outcome.result.label}): ${outcome.result.message ?? 'failed'}`,
    });
  }
  await conn.close(closeDeadlineMs);
  return finish('passed');
}
