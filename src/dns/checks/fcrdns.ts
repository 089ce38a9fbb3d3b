import { isIP } from '../../ip.js';
import { canonicalAddress, canonicalName } from '../reverse.js';
import type { DnsLookup } from '../types.js';
import { dnsError, isDenial, type CheckResult } from './result.js';

/**
 * Forward-confirmed reverse DNS: the PTR names of the address, each name's A (IPv4) or AAAA (IPv6)
 * records leading back to the address, and the greeting or EHLO name being one of the confirmed names.
 */

export interface FcrdnsFacts {
  address: string;
  ptrNames: string[];
  /** Each PTR name and the addresses it resolves to (or the failure kind). */
  forward: { name: string; addresses: string[]; failure?: string }[];
  /** The PTR names that resolve back to the address. */
  confirmedNames: string[];
  greetingName?: string;
  /** The confirmed name the greeting named, if any. */
  matchedName?: string;
}

export type FcrdnsResult = CheckResult<FcrdnsFacts, 'fcrdns'>;

/**
 * `greetingName` may be the greeting's or EHLO reply's first line as received (`mx.example.test ESMTP
 * ready`): it matches when one of its words is a confirmed name.
 */
export async function fcrdns(address: string, greetingName: string | undefined, dns: DnsLookup): Promise<FcrdnsResult> {
  const facts: FcrdnsFacts = { address, ptrNames: [], forward: [], confirmedNames: [], ...(greetingName === undefined ? {} : { greetingName }) };
  const result = (verdict: FcrdnsResult['verdict'], reasons: string[], extra: Partial<FcrdnsResult> = {}): FcrdnsResult => ({
    check: 'fcrdns',
    verdict,
    reasons,
    facts,
    ...extra,
  });
  const family = isIP(address);
  if (family === 0) return result('error', [`${address} is not an IP address`], { error: { phase: 'ptr', kind: 'unavailable', message: `${address} is not an IP address` } });
  const ptr = await dns.ptr(address);
  if (!ptr.ok) {
    if (isDenial(ptr)) return result('fail', [`${address} has no PTR record (${ptr.kind})`]);
    return result('error', [`the PTR lookup of ${address} failed: ${ptr.message}`], { error: dnsError('ptr', ptr) });
  }
  facts.ptrNames = ptr.records.map(canonicalName);
  const wanted = canonicalAddress(address);
  let forwardError: FcrdnsResult['error'];
  for (const name of facts.ptrNames) {
    const forward = family === 4 ? await dns.a(name) : await dns.aaaa(name);
    if (!forward.ok) {
      facts.forward.push({ name, addresses: [], failure: forward.kind });
      if (!isDenial(forward)) forwardError ??= dnsError('forward', forward);
      continue;
    }
    facts.forward.push({ name, addresses: forward.records });
    if (forward.records.some((record) => canonicalAddress(record) === wanted)) facts.confirmedNames.push(name);
  }
  if (facts.confirmedNames.length === 0) {
    if (forwardError) return result('error', [`the forward lookup of a PTR name failed: ${forwardError.message}`], { error: forwardError });
    return result('fail', [`no PTR name of ${address} (${facts.ptrNames.join(', ')}) resolves back to it`]);
  }
  if (greetingName === undefined) return result('pass', []);
  const words = greetingName.split(/\s+/).filter((word) => word !== '').map((word) => canonicalName(word.replace(/^\[|\]$/g, '')));
  const matched = facts.confirmedNames.find((name) => words.includes(name));
  if (matched === undefined) {
    return result('fail', [`the greeting name ${greetingName} is none of the confirmed PTR names (${facts.confirmedNames.join(', ')})`]);
  }
  facts.matchedName = matched;
  return result('pass', []);
}
