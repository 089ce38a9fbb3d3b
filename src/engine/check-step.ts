import type { DnsCheckAction, Step } from '../scenario/types.js';
import type { ActionOutcome, StepContext } from './actions.js';

/** Runs a DNS check step (filled in by the engine's check wiring). */
export async function runCheckStep(_action: DnsCheckAction, _step: Step, _ctx: StepContext): Promise<ActionOutcome> {
  throw new Error('smtpspec bug: DNS check steps are not wired yet');
}
