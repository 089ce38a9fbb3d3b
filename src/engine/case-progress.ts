import type { SmtpConnection } from '../smtp/client.js';
import { MessageError } from '../smtp/message.js';
import { MailboxError } from '../mailbox/types.js';
import type { Transcript } from '../smtp/transcript.js';
import { SmtpError } from '../smtp/types.js';
import type { Case, Scenario, Step } from '../scenario/types.js';
import { internalFault, type InternalFault } from './internal-fault.js';
import type { CaseInfo, CaseResult, FailureKind, Status, StepResult } from './results.js';
import { MissingCaptureError } from './session-state.js';
import { stepHead, stepLabel, type CapturedValues, type StepHead, type StepHeads } from './step-label.js';

/** What a case is building, step by step, until it ends: its steps so far, and what a failure means for it. */

export const VERIFY_OFF_WARNING = 'TLS certificate verification is off (tls.verify: false)';

/** The server broke the protocol: the case failed, as when an expectation does not hold. */
const protocolKinds = new Set<FailureKind>(['protocol', 'limit', 'tls']);

interface KnownFailure {
  status: Status;
  kind: FailureKind;
  error: Error;
}

/** A failure the engine knows, with its status and kind; undefined for anything else, which is a fault in smtpspec. */
function knownFailure(error: unknown): KnownFailure | undefined {
  if (error instanceof SmtpError) return { status: protocolKinds.has(error.kind) ? 'failed' : 'error', kind: error.kind, error };
  if (error instanceof MissingCaptureError) return { status: 'failed', kind: 'protocol', error };
  // A message file or attachment that could not be read, or a header a captured value broke, while the message was being
  // sent: the scenario's input, not the network, so never retried.
  if (error instanceof MessageError) return { status: 'error', kind: 'message', error };
  // A mailbox that could not be opened or read: the step could not look, which is not the same as not finding.
  if (error instanceof MailboxError) return { status: 'error', kind: 'mailbox', error };
  return undefined;
}

/** How a step that threw ends: its status, the failure's kind, and one sentence, masked. */
export interface StepFailure {
  status: Status;
  kind: FailureKind;
  message: string;
}

/** The hooks of a case that its progress calls. */
export interface ProgressHooks {
  onStepEnd?(step: StepResult): void;
  onInternalFault?(fault: InternalFault): void;
  /** The run's step heads, made once for all its sessions. */
  heads?: StepHeads;
}

/** A step that did not run, with the reason. */
export function skippedStep(step: Step, transcript: Transcript, message: string): StepResult {
  const { index, pos, label, expected } = stepHead(step, transcript);
  return { index, pos, label, status: 'skipped', expected, message, durationMs: 0 };
}

/**
 * What a case has produced so far, and how it becomes the case's result. An object rather than closures
 * over runCase's variables: one is alive for every session in flight.
 */
export class CaseProgress {
  readonly steps: StepResult[] = [];
  readonly startedAt = new Date().toISOString();
  private readonly started = performance.now();
  conn: SmtpConnection | undefined;

  constructor(
    private readonly info: CaseInfo,
    private readonly scenario: Scenario,
    readonly transcript: Transcript,
    private readonly hooks: ProgressHooks,
  ) {}

  /** The step's head, the run's own when it has them; its label shows the values captured so far. */
  head(step: Step, captures?: CapturedValues): Readonly<StepHead> {
    return this.hooks.heads ? this.hooks.heads.of(step, this.transcript, captures) : stepHead(step, this.transcript, captures);
  }

  addStep(result: StepResult): void {
    this.steps.push(result);
    this.hooks.onStepEnd?.(result);
  }

  /**
   * What `caught` means for the step it ended, masked: a known failure with the sentence `describe` makes of it,
   * or a fault in smtpspec, whose stack goes to onInternalFault.
   */
  failureOf(caught: unknown, describe: (error: Error) => string = (error) => error.message): StepFailure {
    const known = knownFailure(caught);
    if (known) return { status: known.status, kind: known.kind, message: this.transcript.mask(describe(known.error)) };
    const fault = internalFault(caught, (text) => this.transcript.mask(text));
    this.hooks.onInternalFault?.(fault);
    return { status: 'error', kind: 'internal', message: `internal error: ${fault.message}` };
  }

  /**
   * The result of a case that a fault in smtpspec broke off outside any step's own handling: the steps ended so
   * far stand, the one in progress (or the last) ends with the fault, and the rest are not run.
   */
  broken(kase: Case, caught: unknown): CaseResult {
    const failure = this.failureOf(caught);
    void this.conn?.close(0);
    const index = Math.min(this.steps.length, kase.steps.length - 1);
    const step = kase.steps[index]!;
    const add = (result: StepResult): void => {
      this.steps.push(result);
      try {
        this.hooks.onStepEnd?.(result);
      } catch {
        // The fault is reported already; a hook that fails again must not cost the case its result.
      }
    };
    if (this.steps.length === index) add({ ...skippedStep(step, this.transcript, failure.message), status: failure.status });
    for (const later of kase.steps.slice(this.steps.length)) add(skippedStep(later, this.transcript, 'not run: an earlier step failed'));
    const label = stepLabel(step, this.transcript);
    return this.finish(failure.status, {
      failure: { stepIndex: index, pos: step.pos, kind: failure.kind, message: `step ${index + 1} (${label}): ${failure.message}` },
    });
  }

  finish(status: Status, extra?: Pick<CaseResult, 'skipReason' | 'failure'>): CaseResult {
    const info = this.info;
    const tls = this.conn?.tls;
    const remoteAddress = this.conn?.remoteAddress;
    // Fields in the order the reports list them.
    return {
      id: info.id,
      file: info.file,
      scenarioName: info.scenarioName,
      caseName: info.caseName,
      caseIndex: info.caseIndex,
      pos: info.pos,
      target: info.target,
      status,
      startedAt: this.startedAt,
      durationMs: Math.round(performance.now() - this.started),
      // Copies: an array grown by pushes has room for more, and a run keeps every case's arrays until its reports are written.
      steps: this.steps.slice(),
      transcript: this.transcript.entries.slice(),
      ...(this.scenario.tls.verify ? undefined : { warnings: [VERIFY_OFF_WARNING] }),
      ...(tls ? { tls } : undefined),
      ...(remoteAddress !== undefined ? { remoteAddress } : undefined),
      ...extra,
    };
  }
}
