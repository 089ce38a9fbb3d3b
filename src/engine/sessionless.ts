import type { Case, Step } from '../scenario/types.js';

/**
 * A case whose every step only asks DNS (and, for MTA-STS, the policy host) needs no SMTP session:
 * MTA-STS and TLS-RPT are about the domain, and a block-list lookup of an address given in the file is
 * about that address. Such a case connects to nothing; on a mail domain it runs once, not once per MX host.
 */
export function isSessionless(kase: Case): boolean {
  return kase.steps.length > 0 && kase.steps.every(asksOnlyDns);
}

function asksOnlyDns(step: Step): boolean {
  const action = step.action;
  if (action.type !== 'dns') return false;
  const spec = action.spec;
  return spec.check === 'mta-sts' || spec.check === 'tls-rpt' || (spec.check === 'dnsbl' && spec.address !== undefined);
}
