import { Resolver } from 'node:dns/promises';
import type { MxRecord } from 'node:dns';
import { isIPv6 } from '../ip.js';
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
}

export type Resolution = { hosts: ResolvedHost[] } | { error: string };

export interface ResolveOptions {
  /** Default: the system's resolvers. */
  dnsServer?: { host: string; port: number };
  /** One deadline for all the lookups of this target. */
  timeoutMs: number;
}

/** Lookup failures that mean "there is no such record", as opposed to "the lookup failed". */
const NO_RECORD = new Set(['ENODATA', 'ENOTFOUND']);

class LookupTimeout extends Error {}

/** The hosts to test for a target: a host target is itself (connecting resolves its name); a domain target is its MX hosts. */
export async function resolveTargetHosts(target: ManifestTarget, options: ResolveOptions): Promise<Resolution> {
  if (target.domain === undefined) return { hosts: [{ host: target.host ?? '', port: target.port }] };
  const resolver = new Resolver({ timeout: options.timeoutMs, tries: 1 });
  if (options.dnsServer) resolver.setServers([serverText(options.dnsServer)]);
  // c-ares has its own timeout, but only per query; this bounds the whole resolution.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      resolver.cancel();
      reject(new LookupTimeout());
    }, options.timeoutMs);
  });
  try {
    return await Promise.race([resolveDomain(resolver, target.domain, target), deadline]);
  } catch (error) {
    // A failed lookup has an error code; anything else is a fault in smtpspec, not the DNS.
    if (!(error instanceof LookupTimeout) && codeOf(error) === undefined) throw error;
    return { error: failure(error, resolver, target.domain, options.timeoutMs) };
  } finally {
    clearTimeout(timer);
  }
}

async function resolveDomain(resolver: Resolver, domain: string, target: ManifestTarget): Promise<Resolution> {
  const records = await resolver.resolveMx(domain).catch((error: unknown) => {
    if (codeOf(error) === 'ENODATA') return [];
    throw error;
  });
  if (records.length === 0) return implicitMx(resolver, domain, target.port);
  if (records.length === 1 && isRoot(records[0]!.exchange)) return { error: `${domain} does not accept mail (null MX, RFC 7505)` };
  const sorted = records.filter((record) => !isRoot(record.exchange)).sort(byPreferenceThenName);
  const lowest = sorted[0]?.priority;
  const chosen = target.mx === 'primary' ? sorted.filter((record) => record.priority === lowest) : sorted;
  return {
    hosts: chosen.map((record) => ({ host: record.exchange, port: target.port, preference: record.priority, exchange: record.exchange })),
  };
}

/** RFC 5321 §5.1: without MX records, the domain itself is the mail host if it has an address. */
async function implicitMx(resolver: Resolver, domain: string, port: number): Promise<Resolution> {
  const [v4, v6] = await Promise.all([addresses(resolver.resolve4(domain)), addresses(resolver.resolve6(domain))]);
  if (v4 + v6 === 0) return { error: `${domain} has no MX and no A/AAAA record` };
  return { hosts: [{ host: domain, port, implicit: true }] };
}

async function addresses(lookup: Promise<string[]>): Promise<number> {
  return lookup.then(
    (found) => found.length,
    (error: unknown) => {
      if (NO_RECORD.has(codeOf(error) ?? '')) return 0;
      throw error;
    },
  );
}

function failure(error: unknown, resolver: Resolver, domain: string, timeoutMs: number): string {
  const code = codeOf(error);
  const servers = resolver.getServers().join(', ') || 'the system resolver';
  if (error instanceof LookupTimeout || code === 'ETIMEOUT' || code === 'ECANCELLED') {
    return `no answer from DNS server ${servers} within ${timeoutMs} ms (looking up ${domain})`;
  }
  if (code === 'ENOTFOUND') return `domain ${domain} does not exist (NXDOMAIN)`;
  if (code === 'ESERVFAIL') return `DNS server ${servers} failed to look up ${domain} (SERVFAIL)`;
  if (code === 'ECONNREFUSED') return `DNS server ${servers} refused the connection (looking up ${domain})`;
  return `DNS lookup of ${domain} failed: ${(error as Error).message}`;
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
