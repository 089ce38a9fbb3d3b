import { checkCapability } from '../smtp/capabilities.js';
import type { Condition } from '../scenario/types.js';
import { capabilitiesOf, type SessionState } from './session-state.js';

/** Values that make a `when: { var }` condition false. */
const FALSY = new Set(['', 'false', '0', 'no', 'off']);

export type ConditionResult = { holds: true } | { holds: false; reason: string };

/** Whether a step or case runs; the reason says why not, for the skip message. */
export function evaluateCondition(condition: Condition, state: Pick<SessionState, 'ehloLines' | 'captures' | 'vars'>): ConditionResult {
  const holds = conditionHolds(condition, state);
  return holds ? { holds: true } : { holds: false, reason: `condition not met: ${condition.written}` };
}

function conditionHolds(condition: Condition, state: Pick<SessionState, 'ehloLines' | 'captures' | 'vars'>): boolean {
  if ('not' in condition) return !conditionHolds(condition.not, state);
  if ('capability' in condition) {
    const capabilities = capabilitiesOf(state);
    return capabilities !== undefined && checkCapability(capabilities, condition.capability);
  }
  const value = state.captures.get(condition.var) ?? state.vars[condition.var];
  if (condition.equals !== undefined) return value === condition.equals;
  return value !== undefined && !FALSY.has(value.trim().toLowerCase());
}
