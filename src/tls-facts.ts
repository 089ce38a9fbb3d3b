/**
 * What a TLS session's facts mean, for the checks that judge them and the reports that show
 * them: how protocol versions order and how many days a certificate has left.
 */

const DAY_MS = 86_400_000;

/** Oldest first, named as Node names the negotiated protocol. */
const TLS_VERSION_ORDER = ['SSLv2', 'SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** Negative when `a` is older than `b`, 0 when equal, positive when newer; unknown names are the oldest. */
export function compareTlsVersions(a: string, b: string): number {
  return TLS_VERSION_ORDER.indexOf(a) - TLS_VERSION_ORDER.indexOf(b);
}

/** Whole days from `now` (ms since the epoch) until `validTo` (ISO 8601); negative once it has passed, NaN when it cannot be read. */
export function daysUntilExpiry(validTo: string, now: number): number {
  return Math.floor((Date.parse(validTo) - now) / DAY_MS);
}

/**
 * The chain in a few words: `chain complete, 3 certificates` or `chain INCOMPLETE: 1 certificate, an
 * intermediate or the root is missing` (a root missing here is one this side does not trust); undefined
 * for facts without chain facts.
 */
export function describeChain(facts: { chainLength?: number; chainComplete?: boolean }): string | undefined {
  if (facts.chainLength === undefined || facts.chainComplete === undefined) return undefined;
  const count = `${facts.chainLength} certificate${facts.chainLength === 1 ? '' : 's'}`;
  return facts.chainComplete ? `chain complete, ${count}` : `chain INCOMPLETE: ${count}, an intermediate or the root is missing`;
}
