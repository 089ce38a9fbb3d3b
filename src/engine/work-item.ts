import type { DnsServer } from '../dns/types.js';
import type { Case, Scenario, Target } from '../scenario/types.js';

/** One unit of work: a case of a scenario against a target. */
export interface WorkItem {
  scenario: Scenario;
  kase: Case;
  target: Target;
  /** Planned but not to be run, and why (it needs what this run does not have): reported as skipped, nothing sent. */
  skip?: string;
  /** The resolver of the run's DNS check steps (`--dns-server`, a manifest's `dns_server`); default: the system's first. */
  dnsServer?: DnsServer;
}
