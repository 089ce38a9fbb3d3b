import type { DnsFailure, DnsFailureKind } from '../types.js';

/**
 * The result of one DNS-side check: a verdict, the reasons behind it in sentences, and the facts a
 * report shows. `error` means the check could not decide (a resolver or network failure), and says why
 * as data: the phase of the check and the kind of failure.
 */

export type Verdict = 'pass' | 'fail' | 'warn' | 'error';

export interface CheckError {
  /** What the check was doing: `ptr`, `forward`, `txt`, `policy-fetch`, `mx`, `tlsa`, `list`… */
  phase: string;
  kind: DnsFailureKind | 'tls' | 'http' | 'network' | 'too-large' | 'certificate';
  message: string;
}

export interface CheckResult<Facts, Name extends string = string> {
  /** The check's name: `fcrdns`, `dane`, `mta-sts`, `tls-rpt`, `dnsbl`. */
  check: Name;
  verdict: Verdict;
  /** Why the verdict is what it is, one sentence each; empty for a plain pass. */
  reasons: string[];
  facts: Facts;
  /** For the verdict `error`. */
  error?: CheckError;
}

export function dnsError(phase: string, failure: DnsFailure): CheckError {
  return { phase, kind: failure.kind, message: failure.message };
}

/** The worst of several verdicts: error, then fail, then warn, then pass. */
export function worst(verdicts: Verdict[]): Verdict {
  for (const verdict of ['error', 'fail', 'warn'] as const) if (verdicts.includes(verdict)) return verdict;
  return 'pass';
}

/** NXDOMAIN and NODATA say "there is no such record"; anything else says "the resolver could not tell". */
export function isDenial(failure: DnsFailure): boolean {
  return failure.kind === 'nxdomain' || failure.kind === 'nodata';
}
