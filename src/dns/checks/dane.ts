import { createHash, X509Certificate } from 'node:crypto';
import type { DnsLookup, TlsaRecord } from '../types.js';
import { dnsError, isDenial, type CheckResult } from './result.js';

/**
 * DANE for SMTP (RFC 7672): the TLSA records at `_PORT._tcp.HOST` matched against the certificate chain
 * the server presented. Only DANE-TA(2) and DANE-EE(3) are usable for SMTP (§3.1.3); selectors Cert(0)
 * and SPKI(1); matching types Full(0), SHA2-256(1), SHA2-512(2). DANE-EE matches the server's own
 * certificate, name and dates aside (§3.1.1); DANE-TA matches a certificate of the chain that the server
 * certificate chains up to by signature, and the server certificate must name the host (§3.2.2).
 * TLSA records count only from a DNSSEC-authenticated answer (§2.2): without the AD flag, a match is a fail.
 */

/** A certificate as DER bytes, a Node X509Certificate, or a peer certificate's `raw`. */
export type ChainCertificate = Uint8Array | X509Certificate | { raw: Uint8Array };

export interface DaneRecordFacts {
  usage: number;
  selector: number;
  matchingType: number;
  /** The association data in hex. */
  data: string;
  usable: boolean;
  /** Why a record is unusable. */
  unusable?: string;
  /** The chain position it matched (0 the server's certificate), when it matched. */
  matchedDepth?: number;
  /** Why a DANE-TA record that matched a certificate still does not authenticate the server. */
  rejected?: string;
}

export interface DaneFacts {
  host: string;
  port: number;
  recordName: string;
  /** The AD flag of the TLSA answer (or of its denial). */
  authenticated: boolean;
  records: DaneRecordFacts[];
  chainLength: number;
  /** A usable record matched the chain. */
  matched: boolean;
}

export type DaneResult = CheckResult<DaneFacts, 'dane'>;

export async function dane(host: string, port: number, chain: ChainCertificate[], dns: DnsLookup): Promise<DaneResult> {
  const bare = host.toLowerCase().replace(/\.$/, '');
  const recordName = `_${port}._tcp.${bare}`;
  const facts: DaneFacts = { host: bare, port, recordName, authenticated: false, records: [], chainLength: chain.length, matched: false };
  const result = (verdict: DaneResult['verdict'], reasons: string[], extra: Partial<DaneResult> = {}): DaneResult => ({ check: 'dane', verdict, reasons, facts, ...extra });

  const tlsa = await dns.tlsa(recordName);
  facts.authenticated = tlsa.authenticated;
  if (!tlsa.ok) {
    if (isDenial(tlsa)) return result('fail', [`${recordName} has no TLSA record (${tlsa.kind}${tlsa.authenticated ? ', authenticated denial' : ''})`]);
    return result('error', [`the TLSA lookup of ${recordName} failed: ${tlsa.message}`], { error: dnsError('tlsa', tlsa) });
  }
  let certificates: X509Certificate[];
  try {
    certificates = chain.map(toX509);
  } catch {
    return result('error', ['a certificate of the chain could not be read'], { error: { phase: 'chain', kind: 'malformed', message: 'a certificate of the chain could not be read' } });
  }
  facts.records = tlsa.records.map((record) => judge(record, certificates, bare));
  facts.matched = facts.records.some((record) => record.matchedDepth !== undefined && record.rejected === undefined);
  const usable = facts.records.filter((record) => record.usable);
  if (usable.length === 0) return result('fail', [`${recordName} has no TLSA record usable for SMTP (usage 2 or 3, selector 0 or 1, matching type 0, 1 or 2)`]);
  if (certificates.length === 0) return result('fail', ['the server presented no certificate']);
  if (!facts.matched) {
    const rejected = usable.flatMap((record) => (record.rejected ? [record.rejected] : []));
    return result('fail', [`no usable TLSA record at ${recordName} matches the certificate chain`, ...rejected]);
  }
  if (!tlsa.authenticated) return result('fail', [`the TLSA answer for ${recordName} is not DNSSEC-authenticated (AD flag clear), so DANE cannot be used`]);
  return result('pass', []);
}

function toX509(certificate: ChainCertificate): X509Certificate {
  if (certificate instanceof X509Certificate) return certificate;
  if (certificate instanceof Uint8Array) return new X509Certificate(certificate);
  return new X509Certificate(certificate.raw);
}

/** The bytes a TLSA record of this selector and matching type holds for a certificate. */
export function association(certificate: X509Certificate, selector: number, matchingType: number): Buffer {
  const selected = selector === 0 ? certificate.raw : certificate.publicKey.export({ type: 'spki', format: 'der' });
  if (matchingType === 1) return createHash('sha256').update(selected).digest();
  if (matchingType === 2) return createHash('sha512').update(selected).digest();
  return selected;
}

function judge(record: TlsaRecord, chain: X509Certificate[], host: string): DaneRecordFacts {
  const facts: DaneRecordFacts = { usage: record.usage, selector: record.selector, matchingType: record.matchingType, data: record.data.toString('hex'), usable: false };
  if (record.usage !== 2 && record.usage !== 3) return { ...facts, unusable: `usage ${record.usage} (${record.usage < 2 ? 'PKIX, not for SMTP' : 'unknown'})` };
  if (record.selector !== 0 && record.selector !== 1) return { ...facts, unusable: `selector ${record.selector} is unknown` };
  if (record.matchingType > 2) return { ...facts, unusable: `matching type ${record.matchingType} is unknown` };
  facts.usable = true;
  const matches = (certificate: X509Certificate): boolean => association(certificate, record.selector, record.matchingType).equals(record.data);
  if (record.usage === 3) {
    const leaf = chain[0];
    return leaf !== undefined && matches(leaf) ? { ...facts, matchedDepth: 0 } : facts;
  }
  const depth = chain.findIndex((certificate, index) => index > 0 && matches(certificate));
  if (depth < 0) return facts;
  for (let index = 0; index < depth; index++) {
    const child = chain[index] as X509Certificate;
    const issuer = chain[index + 1] as X509Certificate;
    if (!child.checkIssued(issuer) || !child.verify(issuer.publicKey)) {
      return { ...facts, matchedDepth: depth, rejected: `the certificate at depth ${index} is not signed by the one above it, so the chain does not reach the DANE-TA certificate` };
    }
  }
  const leaf = chain[0] as X509Certificate;
  if (leaf.checkHost(host) === undefined) return { ...facts, matchedDepth: depth, rejected: `the server certificate does not name ${host}, as DANE-TA requires` };
  return { ...facts, matchedDepth: depth };
}
