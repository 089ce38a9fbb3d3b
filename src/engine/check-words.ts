import type { DnsCheckSpec } from '../scenario/types.js';

/**
 * The words of a DNS check step, for its label and for what it expects: what reports show before it
 * has run (`list`, `--dry-run`) and beside its result.
 */

export interface CheckStepWords {
  /** `mta-sts example.com`, `dnsbl on zen.spamhaus.org, bl.spamcop.net`. */
  label: string;
  /** What passes, in a few words. */
  expected: string;
}

export function checkStepWords(spec: DnsCheckSpec): CheckStepWords {
  switch (spec.check) {
    case 'fcrdns':
      return { label: 'fcrdns', expected: 'a PTR name that resolves back to the address and is the greeting name' };
    case 'dane':
      return { label: 'dane', expected: 'a DNSSEC-authenticated TLSA record that matches the certificate chain' };
    case 'mta-sts':
      return { label: spec.domain === undefined ? 'mta-sts' : `mta-sts ${spec.domain}`, expected: 'an MTA-STS record and policy that every MX host matches' };
    case 'tls-rpt':
      return { label: spec.domain === undefined ? 'tls-rpt' : `tls-rpt ${spec.domain}`, expected: 'one well-formed TLS-RPT record' };
    case 'dnsbl':
      return { label: `dnsbl${spec.address === undefined ? '' : ` ${spec.address}`} on ${spec.lists.join(', ')}`, expected: 'listed on none of the block lists' };
  }
}
