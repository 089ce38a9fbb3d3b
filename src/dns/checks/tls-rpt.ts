import type { DnsLookup } from '../types.js';
import { dnsError, isDenial, type CheckResult } from './result.js';
import { parseFields, versionRecords } from './txt-fields.js';

/** TLS-RPT (RFC 8460 §3): one `v=TLSRPTv1; rua=…` TXT record at `_smtp._tls.DOMAIN`, well-formed. */

export interface TlsRptFacts {
  domain: string;
  recordName: string;
  /** Every TXT record found at the name. */
  records: string[];
  /** The reporting URIs of the record (`mailto:` or `https:`). */
  rua: string[];
}

export type TlsRptResult = CheckResult<TlsRptFacts, 'tls-rpt'>;

export async function tlsRpt(domain: string, dns: DnsLookup): Promise<TlsRptResult> {
  const recordName = `_smtp._tls.${domain.replace(/\.$/, '')}`;
  const facts: TlsRptFacts = { domain, recordName, records: [], rua: [] };
  const result = (verdict: TlsRptResult['verdict'], reasons: string[], extra: Partial<TlsRptResult> = {}): TlsRptResult => ({
    check: 'tls-rpt',
    verdict,
    reasons,
    facts,
    ...extra,
  });
  const txt = await dns.txt(recordName);
  if (!txt.ok) {
    if (isDenial(txt)) return result('fail', [`${recordName} has no TXT record (${txt.kind})`]);
    return result('error', [`the TXT lookup of ${recordName} failed: ${txt.message}`], { error: dnsError('txt', txt) });
  }
  facts.records = txt.records;
  const candidates = versionRecords(txt.records, 'TLSRPTv1');
  if (candidates.length !== 1) {
    return result('fail', [`${recordName} has ${candidates.length} records beginning with v=TLSRPTv1 where exactly one is needed`]);
  }
  const parsed = parseFields(candidates[0] as string);
  if (!parsed.ok) return result('fail', [`the TLS-RPT record is malformed: ${parsed.problem}`]);
  const ruaFields = parsed.fields.filter(([name]) => name === 'rua');
  if (ruaFields.length !== 1) return result('fail', [`the TLS-RPT record has ${ruaFields.length} rua fields where exactly one is needed`]);
  const uris = (ruaFields[0] as [string, string])[1].split(/[ \t]*,[ \t]*/);
  facts.rua = uris;
  const problems = uris.flatMap((uri) => {
    const problem = uriProblem(uri);
    return problem ? [`the rua URI "${uri}" ${problem}`] : [];
  });
  return problems.length > 0 ? result('fail', problems) : result('pass', []);
}

/** What is wrong with a reporting URI, or undefined: `mailto:` with an address, or an `https:` URL. */
function uriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not a URI';
  }
  if (url.protocol === 'mailto:') {
    let address: string;
    try {
      address = decodeURIComponent(url.pathname);
    } catch {
      return 'has a broken percent-encoding';
    }
    return /^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$/.test(address) ? undefined : 'is not a mailto: URI with one address';
  }
  if (url.protocol === 'https:') return url.hostname === '' ? 'has no host' : undefined;
  return 'is neither mailto: nor https:';
}
