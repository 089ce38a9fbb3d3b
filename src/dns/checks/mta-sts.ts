import { canonicalName } from '../reverse.js';
import type { DnsLookup } from '../types.js';
import { fetchPolicy, POLICY_PATH, type PolicyFetchOptions } from './policy-fetch.js';
import { mxMatches, parsePolicy, type StsPolicy } from './mta-sts-policy.js';
import { dnsError, isDenial, worst, type CheckResult, type Verdict } from './result.js';
import { parseFields, versionRecords } from './txt-fields.js';

/**
 * MTA-STS (RFC 8461): the `_mta-sts` TXT record (§3.1), the policy over HTTPS from `mta-sts.DOMAIN`
 * (§3.2, §3.3), and every MX host of the domain matched by one of the policy's `mx` patterns (§4.1).
 * A TLS, HTTP or syntax problem is a fail; a resolver or network failure that leaves the answer
 * unknown is an error.
 */

export interface MtaStsFacts {
  domain: string;
  /** The TXT record used, and its id. */
  record?: string;
  id?: string;
  policyUrl: string;
  /** The address the policy was fetched from, resolved with the run's resolver. */
  policyAddress?: string;
  policy?: StsPolicy;
  /** Each MX host and the pattern that matched it (undefined when none did). */
  mx: { host: string; pattern?: string }[];
}

export type MtaStsResult = CheckResult<MtaStsFacts, 'mta-sts'>;

/** Under a day, a policy is forgotten almost as soon as it is learnt (RFC 8461 §3.2 advises weeks). */
const SHORT_MAX_AGE_SECONDS = 86_400;
const STS_ID = /^[A-Za-z0-9]{1,32}$/;

export async function mtaSts(domain: string, dns: DnsLookup, options: PolicyFetchOptions): Promise<MtaStsResult> {
  const bare = canonicalName(domain);
  const policyHost = `mta-sts.${bare}`;
  const facts: MtaStsFacts = { domain: bare, policyUrl: `https://${policyHost}${POLICY_PATH}`, mx: [] };
  const result = (verdict: Verdict, reasons: string[], extra: Partial<MtaStsResult> = {}): MtaStsResult => ({ check: 'mta-sts', verdict, reasons, facts, ...extra });

  const recordName = `_mta-sts.${bare}`;
  const txt = await dns.txt(recordName);
  if (!txt.ok) {
    if (isDenial(txt)) return result('fail', [`${recordName} has no TXT record (${txt.kind})`]);
    return result('error', [`the TXT lookup of ${recordName} failed: ${txt.message}`], { error: dnsError('txt', txt) });
  }
  const candidates = versionRecords(txt.records, 'STSv1');
  if (candidates.length !== 1) return result('fail', [`${recordName} has ${candidates.length} records beginning with v=STSv1 where exactly one is needed`]);
  facts.record = candidates[0] as string;
  const fields = parseFields(facts.record);
  if (!fields.ok) return result('fail', [`the MTA-STS record is malformed: ${fields.problem}`]);
  const ids = fields.fields.filter(([name]) => name === 'id').map(([, value]) => value);
  if (ids.length !== 1 || !STS_ID.test(ids[0] as string)) return result('fail', ['the MTA-STS record needs exactly one id of 1 to 32 letters and digits']);
  facts.id = ids[0] as string;

  const address = await policyAddress(policyHost, dns);
  if (!address.ok) {
    if (address.denied) return result('fail', [`${policyHost} has no address (${address.error.kind})`]);
    return result('error', [`the address lookup of ${policyHost} failed: ${address.error.message}`], { error: address.error });
  }
  facts.policyAddress = address.address;
  const fetched = await fetchPolicy(policyHost, address.address, options);
  if (!fetched.ok) {
    const unknown = fetched.error.kind === 'network' || fetched.error.kind === 'timeout' || fetched.error.kind === 'aborted';
    return result(unknown ? 'error' : 'fail', [fetched.error.message], unknown ? { error: fetched.error } : {});
  }
  const reasons: string[] = [];
  const verdicts: Verdict[] = [];
  const mediaType = fetched.contentType?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'text/plain') {
    verdicts.push('warn');
    reasons.push(`the policy is served as ${fetched.contentType ?? 'no media type'}, not text/plain`);
  }
  const parsed = parsePolicy(fetched.body);
  if (!parsed.ok) return result('fail', [...reasons, ...parsed.problems.map((problem) => `the policy is malformed: ${problem}`)]);
  const policy = parsed.policy;
  facts.policy = policy;
  if (policy.mode === 'none') {
    verdicts.push('warn');
    reasons.push('the policy mode is none: senders are told to stop applying MTA-STS');
  }
  if (policy.maxAgeSeconds < SHORT_MAX_AGE_SECONDS) {
    verdicts.push('warn');
    reasons.push(`max_age is ${policy.maxAgeSeconds} seconds, under a day`);
  }

  const mx = await dns.mx(bare);
  if (!mx.ok) {
    if (isDenial(mx)) return result('fail', [...reasons, `${bare} has no MX record (${mx.kind}) to match the policy against`]);
    return result('error', [...reasons, `the MX lookup of ${bare} failed: ${mx.message}`], { error: dnsError('mx', mx) });
  }
  for (const record of mx.records) {
    const host = canonicalName(record.exchange);
    const pattern = policy.mx.find((candidate) => mxMatches(host, candidate));
    facts.mx.push({ host, ...(pattern === undefined ? {} : { pattern }) });
    if (pattern === undefined && policy.mode !== 'none') {
      verdicts.push('fail');
      reasons.push(`the MX host ${host} matches no mx pattern of the policy (${policy.mx.join(', ')})`);
    }
  }
  return result(worst(verdicts), reasons);
}

type AddressResult = { ok: true; address: string } | { ok: false; denied: boolean; error: NonNullable<MtaStsResult['error']> };

/** The first IPv4 address of the policy host, else its first IPv6 address. */
async function policyAddress(host: string, dns: DnsLookup): Promise<AddressResult> {
  const a = await dns.a(host);
  if (a.ok) return { ok: true, address: a.records[0] as string };
  const aaaa = await dns.aaaa(host);
  if (aaaa.ok) return { ok: true, address: aaaa.records[0] as string };
  const failure = isDenial(a) ? aaaa : a;
  return { ok: false, denied: isDenial(a) && isDenial(aaaa), error: dnsError('policy-address', failure) };
}
