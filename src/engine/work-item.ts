import type { Case, Scenario, Target } from '../scenario/types.js';

/** One unit of work: a case of a scenario against a target. */
export interface WorkItem {
  scenario: Scenario;
  kase: Case;
  target: Target;
  /** Planned but not to be run, and why (it needs what this run does not have): reported as skipped, nothing sent. */
  skip?: string;
}
