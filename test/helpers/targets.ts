import type { CaseResult } from '../../src/engine/results.js';
import { isTcpTarget } from '../../src/scenario/types.js';

/** The name a case's TCP target was given (`fleet.test MX mx1.fleet.test`), or '' for any other target. */
export function tcpName(kase: CaseResult): string {
  return isTcpTarget(kase.target) ? (kase.target.name ?? '') : '';
}
