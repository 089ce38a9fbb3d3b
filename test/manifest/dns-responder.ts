import { startDnsServer, type ZoneEntry as FullZoneEntry } from '../helpers/dns-server.js';

/**
 * The manifest tests' view of the test DNS server (test/helpers/dns-server.ts): a table of A, MX and AAAA
 * records, NXDOMAIN for a name not in it, and the questions received as "TYPE name".
 */

/** The records of one name; a name that is not in the table gets NXDOMAIN. */
export type ZoneEntry = Pick<FullZoneEntry, 'mx' | 'a' | 'aaaa'>;

export interface DnsResponder {
  host: string;
  port: number;
  /** Every question received, as "TYPE name". */
  readonly queries: string[];
  close(): Promise<void>;
}

/** A DNS server on 127.0.0.1 that answers A, MX and AAAA from a table; with `silent` it never answers. */
export async function startDnsResponder(zone: Record<string, ZoneEntry>, options: { silent?: boolean } = {}): Promise<DnsResponder> {
  const server = await startDnsServer(zone, options.silent ? { silent: true } : {});
  return {
    host: server.host,
    port: server.port,
    get queries() {
      return server.queries.map((query) => `${query.type} ${query.name}`);
    },
    close: () => server.close(),
  };
}
