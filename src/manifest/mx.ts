import type { Resolver } from 'node:dns/promises';
import type { MxRecord } from 'node:dns';
import { isIP, isIPv6, type IpFamily } from '../ip.js';
import type { ManifestTarget } from './manifest.js';

/** One server to connect to; for a domain target, one of its MX hosts (or the domain itself: implicit MX). */
export interface ResolvedHost {
  host: string;
  port: number;
  /** The MX preference (lower is tried first by senders). */
  preference?: number;
  /** The MX exchange name, as published. */
  exchange?: string;
  /** No MX record: the domain's own A/AAAA address stands in (RFC 5321 §5.1). */
  implicit?: boolean;
  /**
   * The host's addresses from the configured DNS server, connected to instead of asking the
   * system. Absent without a configured server: the system resolves the name when connecting.
   */
  addresses?: string[];
  /** Why the host's name did not resolve on the configured DNS server: cases on it fail with this, unconnected. */
  error?: string;
}

export type Resolution = { hosts: ResolvedHost[] } | { error: string };

/** What a lookup needs of a target: a host, or a domain with the MX hosts to choose, and the port. */
export type HostsOf = Pick<ManifestTarget, 'host' | 'domain' | 'port' | 'mx'>;

export interface ResolveOptions {
  /** Default: the system's resolvers. */
  dnsServer?: { host: string; port: number };
  /** One deadline for all the lookups of this target. */
  timeoutMs: number;
  /** Ask only for A (4) or AAAA (6) records: the connections will be of that family. */
  family?: IpFamily;
}

class LookupTimeout extends Error {}

/** The addresses of a name; `exists` is false when the DNS says there is no such name (NXDOMAIN). */
interface Addresses {
  found: string[];
  exists: boolean;
}

/**
 * The hosts to test for a target: a host target is itself, a domain target its MX hosts. With a
 * configured DNS server every name is looked up on it, MX hosts and host names alike; without one
 * a host's name is left to the system's resolver when connecting.
 */
export async function resolveTargetHosts(target: HostsOf, options: ResolveOptions): Promise<Resolution> {
  const own: ResolvedHost = { host: target.host ?? '', port: target.port };
  if (target.domain === undefined && (!options.dnsServer || isIP(own.host) !== 0)) return { hosts: [own] };
  // node:dns/promises is loaded when a domain is looked up: commands that look nothing up start sooner.
  const resolver = new (process.getBuiltinModule('node:dns/promises').Resolver)({ timeout: options.timeoutMs, tries: 1 });
  if (options.dnsServer) resolver.setServers([serverText(options.dnsServer)]);
  const lookup = new Lookup(resolver, options.dnsServer !== undefined, options.family);
  // c-ares has its own timeout, but only per query; this bounds the whole resolution.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      resolver.cancel();
      reject(new LookupTimeout());
    }, options.timeoutMs);
  });
  const name = target.domain ?? own.host;
  try {
    const resolved = target.domain === undefined ? lookup.withAddresses([own]).then((hosts) => ({ hosts })) : lookup.domain(target.domain, target);
    return await Promise.race([resolved, deadline]);
  } catch (error) {
    // A failed lookup has an error code; anything else is a fault in smtpspec, not the DNS.
    if (!(error instanceof LookupTimeout) && codeOf(error) === undefined) throw error;
    return { error: failure(error, resolver, name, options.timeoutMs) };
  } finally {
    clearTimeout(timer);
  }
}

/** The lookups of one target, on one resolver. */
class Lookup {
  constructor(
    private readonly resolver: Resolver,
    /** A DNS server was configured: host names are resolved here too, not left to the system. */
    private readonly configured: boolean,
    private readonly family: IpFamily | undefined,
  ) {}

  async domain(domain: string, target: HostsOf): Promise<Resolution> {
    const records = await this.resolver.resolveMx(domain).catch((error: unknown) => {
      if (codeOf(error) === 'ENODATA') return [];
      throw error;
    });
    if (records.length === 0) return this.implicitMx(domain, target.port);
    if (records.length === 1 && isRoot(records[0]!.exchange)) return { error: `${domain} does not accept mail (null MX, RFC 7505)` };
    const sorted = onePerHost(records.filter((record) => !isRoot(record.exchange)).sort(byPreferenceThenName));
    const lowest = sorted[0]?.priority;
    const chosen = target.mx === 'primary' ? sorted.filter((record) => record.priority === lowest) : sorted;
    const hosts = chosen.map((record) => ({ host: record.exchange, port: target.port, preference: record.priority, exchange: record.exchange }));
    return { hosts: this.configured ? await this.withAddresses(hosts) : hosts };
  }

  /** Each host with its addresses; one without any carries the reason. An IP address (an MX that breaks the rules) is its own. */
  withAddresses(hosts: ResolvedHost[]): Promise<ResolvedHost[]> {
    return Promise.all(
      hosts.map(async (host): Promise<ResolvedHost> => {
        if (isIP(host.host) !== 0) return host;
        const { found, exists } = await this.addresses(host.host);
        if (found.length > 0) return { ...host, addresses: found };
        const why = exists ? `no ${this.recordTypes()}` : 'no such name (NXDOMAIN)';
        return { ...host, error: `cannot resolve host "${host.host}": ${why} on DNS server ${serversOf(this.resolver)}` };
      }),
    );
  }

  /** RFC 5321 §5.1: without MX records, the domain itself is the mail host if it has an address. */
  private async implicitMx(domain: string, port: number): Promise<Resolution> {
    const { found } = await this.addresses(domain);
    if (found.length === 0) return { error: `${domain} has no MX and no ${this.recordTypes('/')}` };
    return { hosts: [{ host: domain, port, implicit: true, ...(this.configured ? { addresses: found } : {}) }] };
  }

  /** The record types asked for: `A or AAAA`, or one of them, saying why (`-4` / `-6`). */
  private recordTypes(or = ' or '): string {
    if (this.family === undefined) return `A${or}AAAA record`;
    return `${this.family === 4 ? 'A' : 'AAAA'} record (IPv${this.family} only)`;
  }

  /** A and AAAA records, IPv4 first; only one of them for connections of one family. */
  private async addresses(name: string): Promise<Addresses> {
    const lookups = [];
    if (this.family !== 6) lookups.push(records(this.resolver.resolve4(name)));
    if (this.family !== 4) lookups.push(records(this.resolver.resolve6(name)));
    const answers = await Promise.all(lookups);
    return { found: answers.flatMap((answer) => answer.found), exists: answers.some((answer) => answer.exists) };
  }
}

/** One lookup's records; none when the name has no such record or does not exist. */
async function records(lookup: Promise<string[]>): Promise<Addresses> {
  return lookup.then(
    (found) => ({ found, exists: true }),
    (error: unknown) => {
      const code = codeOf(error);
      if (code === 'ENODATA') return { found: [], exists: true };
      if (code === 'ENOTFOUND') return { found: [], exists: false };
      throw error;
    },
  );
}

function failure(error: unknown, resolver: Resolver, domain: string, timeoutMs: number): string {
  const code = codeOf(error);
  const servers = serversOf(resolver);
  if (error instanceof LookupTimeout || code === 'ETIMEOUT' || code === 'ECANCELLED') {
    return `no answer from DNS server ${servers} within ${timeoutMs} ms (looking up ${domain})`;
  }
  if (code === 'ENOTFOUND') return `domain ${domain} does not exist (NXDOMAIN)`;
  if (code === 'ESERVFAIL') return `DNS server ${servers} failed to look up ${domain} (SERVFAIL)`;
  if (code === 'ECONNREFUSED') return `DNS server ${servers} refused the connection (looking up ${domain})`;
  return `DNS lookup of ${domain} failed: ${(error as Error).message}`;
}

function serversOf(resolver: Resolver): string {
  return resolver.getServers().join(', ') || 'the system resolver';
}

/** A host named by several MX records is one server, tested once, at its most preferred record. */
function onePerHost(sorted: MxRecord[]): MxRecord[] {
  const seen = new Set<string>();
  return sorted.filter((record) => {
    const name = record.exchange.toLowerCase().replace(/\.$/, '');
    if (seen.has(name)) return false;
    seen.add(name);
    return true;
  });
}

function byPreferenceThenName(a: MxRecord, b: MxRecord): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  const [x, y] = [a.exchange.toLowerCase(), b.exchange.toLowerCase()];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The root name: how a null MX's exchange "." comes back. */
function isRoot(exchange: string): boolean {
  return exchange === '' || exchange === '.';
}

function serverText(server: { host: string; port: number }): string {
  return isIPv6(server.host) ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
