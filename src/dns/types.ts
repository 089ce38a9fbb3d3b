/**
 * What the resolver answers: records with the answer's authenticated-data flag, or a failure whose
 * kind tells NXDOMAIN from NODATA from a resolver that could not answer. Failures are data.
 */

/** A DNS server to ask: an IP address (or a name the system resolves) and a port. */
export interface DnsServer {
  host: string;
  port: number;
}

/**
 * - `nxdomain`: the name does not exist (RCODE 3).
 * - `nodata`: the name exists but has no record of the type asked.
 * - `servfail`: the server failed to answer (RCODE 2, or another error RCODE, kept in `rcode`).
 * - `refused`: the server refused the query (RCODE 5).
 * - `timeout`: no answer before the deadline.
 * - `malformed`: an answer that could not be decoded or did not answer the question.
 * - `unreachable`: no server to ask, or the network would not carry the query (ICMP unreachable, TCP reset).
 * - `unavailable`: the query cannot be made this way (an argument that is not an IP address for a PTR).
 * - `aborted`: the caller's signal aborted the query.
 */
export type DnsFailureKind = 'nxdomain' | 'nodata' | 'servfail' | 'refused' | 'timeout' | 'malformed' | 'unreachable' | 'unavailable' | 'aborted';

export type DnsRecordType = 'MX' | 'A' | 'AAAA' | 'PTR' | 'TXT' | 'TLSA';

export interface DnsAnswer<T> {
  ok: true;
  name: string;
  type: DnsRecordType;
  records: T[];
  /** The AD flag of the answer: the resolver validated it with DNSSEC. */
  authenticated: boolean;
  /** The server asked, `host:port`. */
  server: string;
  /** How the answer came: over UDP, or over TCP after a truncated UDP answer. */
  transport: 'udp' | 'tcp';
}

export interface DnsFailure {
  ok: false;
  name: string;
  type: DnsRecordType;
  kind: DnsFailureKind;
  /** For an answer with an error code, the RCODE's name (NXDOMAIN, SERVFAIL, FORMERR…). */
  rcode?: string;
  /** The AD flag, for answers that carry one (an authenticated NXDOMAIN or NODATA is a proven denial). */
  authenticated: boolean;
  /** One sentence for people. */
  message: string;
  server?: string;
}

export type DnsResult<T> = DnsAnswer<T> | DnsFailure;

export interface MxRecord {
  preference: number;
  exchange: string;
}

export interface TlsaRecord {
  usage: number;
  selector: number;
  matchingType: number;
  /** The certificate association data. */
  data: Buffer;
}

/** What the checks need of a resolver; DnsClient implements it. */
export interface DnsLookup {
  mx(name: string): Promise<DnsResult<MxRecord>>;
  a(name: string): Promise<DnsResult<string>>;
  aaaa(name: string): Promise<DnsResult<string>>;
  ptr(address: string): Promise<DnsResult<string>>;
  /** Each record's character-strings joined into one string. */
  txt(name: string): Promise<DnsResult<string>>;
  tlsa(name: string): Promise<DnsResult<TlsaRecord>>;
}
