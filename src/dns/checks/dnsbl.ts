import { reversedLabels } from '../reverse.js';
import type { DnsFailureKind, DnsLookup } from '../types.js';
import { worst, type CheckResult, type Verdict } from './result.js';

/**
 * DNS block lists (RFC 5782): the address's reversed octets (IPv4) or nibbles (IPv6) under each list's
 * zone. An A record in 127.0.0.0/8 is a listing, named with the list's TXT reason; NXDOMAIN or NODATA
 * is no listing. An answer outside 127.0.0.0/8, or a list's own error code in 127.255.255.0/24
 * (a refusal, such as of queries through public resolvers), is an error for that list, not a listing.
 */

export interface DnsblListFacts {
  list: string;
  query: string;
  status: 'listed' | 'not-listed' | 'error';
  /** The A records of a listing (return codes). */
  codes: string[];
  reason?: string;
  errorKind?: DnsFailureKind | 'unexpected-answer';
}

export interface DnsblFacts {
  address: string;
  lists: DnsblListFacts[];
  /** The lists that list the address. */
  listedOn: string[];
}

export type DnsblResult = CheckResult<DnsblFacts, 'dnsbl'>;

export async function dnsbl(address: string, lists: string[], dns: DnsLookup): Promise<DnsblResult> {
  const labels = reversedLabels(address);
  const facts: DnsblFacts = { address, lists: [], listedOn: [] };
  if (labels === undefined) {
    return { check: 'dnsbl', verdict: 'error', reasons: [`${address} is not an IP address`], facts, error: { phase: 'list', kind: 'unavailable', message: `${address} is not an IP address` } };
  }
  facts.lists = await Promise.all(lists.map((list) => lookUp(labels, list.replace(/\.$/, ''), dns)));
  facts.listedOn = facts.lists.filter((entry) => entry.status === 'listed').map((entry) => entry.list);
  const reasons: string[] = [];
  const verdicts: Verdict[] = [];
  for (const entry of facts.lists) {
    if (entry.status === 'listed') {
      verdicts.push('fail');
      reasons.push(`${address} is listed on ${entry.list} (${entry.codes.join(', ')})${entry.reason ? `: ${entry.reason}` : ''}`);
    } else if (entry.status === 'error') {
      verdicts.push('error');
      reasons.push(`${entry.list} gave no usable answer (${entry.errorKind ?? 'error'})`);
    }
  }
  // A listing is a fact even when another list could not be asked.
  const verdict = verdicts.includes('fail') ? 'fail' : worst(verdicts);
  const firstError = facts.lists.find((entry) => entry.status === 'error');
  return {
    check: 'dnsbl',
    verdict,
    reasons,
    facts,
    ...(verdict === 'error' && firstError ? { error: { phase: 'list', kind: firstError.errorKind === 'unexpected-answer' ? 'malformed' : (firstError.errorKind ?? 'malformed'), message: `${firstError.list} gave no usable answer` } } : {}),
  };
}

async function lookUp(labels: string, list: string, dns: DnsLookup): Promise<DnsblListFacts> {
  const query = `${labels}.${list}`;
  const answer = await dns.a(query);
  if (!answer.ok) {
    if (answer.kind === 'nxdomain' || answer.kind === 'nodata') return { list, query, status: 'not-listed', codes: [] };
    return { list, query, status: 'error', codes: [], errorKind: answer.kind };
  }
  const codes = answer.records;
  const isListing = (code: string): boolean => code.startsWith('127.') && !code.startsWith('127.255.255.');
  if (!codes.every(isListing)) return { list, query, status: 'error', codes, errorKind: 'unexpected-answer' };
  const txt = await dns.txt(query);
  return { list, query, status: 'listed', codes, ...(txt.ok ? { reason: txt.records.join(' / ') } : {}) };
}
