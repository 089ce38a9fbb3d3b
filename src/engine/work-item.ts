import type { Case, Scenario, Target } from '../scenario/types.js';

/** One unit of work: a case of a scenario against a target. */
export interface WorkItem {
  scenario: Scenario;
  kase: Case;
  target: Target;
}
