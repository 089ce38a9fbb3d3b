import { isIP } from '../ip.js';
import { isTcpTarget, type Target, type TcpTarget } from '../scenario/types.js';
import type { ClientAddress } from './client-address.js';
import type { NamedHosts } from './plan-manifest.js';
import { DNS_TIMEOUT_MS, lookUpHosts, wholeDomainTarget, type HostLookupOptions } from './plan-manifest.js';
import { isSessionless } from './sessionless.js';
import type { WorkItem } from './work-item.js';

/**
 * Scenario files whose target is a mail domain (`mail_domain: true`, the ready-made DNS checks): the target's
 * host is the domain, and each case runs against the domain's MX hosts (or the domain itself without MX),
 * looked up once per domain for the whole run; a case that only asks DNS runs once, on the domain. A target
 * that names no domain (an IP address, a socket, a program, the embedded server) gets its cases skipped.
 */

export interface MailDomainOptions {
  dnsServer?: { host: string; port: number };
  /** No lookup: each domain stands as one placeholder. */
  preview: boolean;
  /** `--timeout`: the deadline of a domain's lookups too. */
  timeoutMs?: number;
}

export async function onMailDomains(items: WorkItem[], client: ClientAddress, options: MailDomainOptions): Promise<WorkItem[]> {
  const lookup: HostLookupOptions = { ...(options.dnsServer ? { dnsServer: options.dnsServer } : {}), preview: options.preview, timeoutMs: options.timeoutMs ?? DNS_TIMEOUT_MS };
  const lookups = new Map<TcpTarget, Promise<DomainTargets>>();
  for (const item of items) {
    const target = domainOf(item.target);
    if (!item.scenario.mailDomain || !target || lookups.has(target)) continue;
    const domain = asDomain(target);
    lookups.set(target, lookUpHosts(domain, client, lookup).then((hosts) => ({ hosts, whole: wholeDomainTarget(domain) })));
  }
  const resolved = new Map<TcpTarget, DomainTargets>();
  await Promise.all([...lookups].map(async ([target, found]) => resolved.set(target, await found)));
  return items.flatMap((item) => {
    if (!item.scenario.mailDomain) return [item];
    const target = domainOf(item.target);
    const found = target ? resolved.get(target) : undefined;
    if (!found) return [withoutDomain(item)];
    // As on a manifest's domain: a case that only asks DNS once, on the domain; any other on each MX host.
    return isSessionless(item.kase) ? [{ ...item, target: found.whole }] : found.hosts.map((host) => ({ ...item, target: host }));
  });
}

/** A domain's MX hosts (or the one host that fails with the reason), and the domain itself. */
interface DomainTargets {
  hosts: Target[];
  whole: TcpTarget;
}

/** The target as a mail domain: a host name with no MX host found for it yet. */
function domainOf(target: Target): TcpTarget | undefined {
  return isTcpTarget(target) && target.mx === undefined && isIP(target.host) === 0 ? target : undefined;
}

/**
 * A mail-domain case on a target that names no domain (an IP address, a socket, a program, the embedded server):
 * skipped with the reason before anything is sent, as its checks would only say that the domain is missing.
 */
export function withoutDomain(item: WorkItem): WorkItem {
  const target = item.target;
  const why =
    target.kind === 'placeholder' && target.stands === 'embedded'
      ? 'the embedded server has none'
      : isTcpTarget(target)
        ? `${target.host} is an IP address`
        : 'the target is not a host name';
  return { ...item, skip: `${item.scenario.name} checks a mail domain, and ${why}: give the domain as --target (example.com)` };
}

function asDomain(target: TcpTarget): NamedHosts & { domain: string } {
  const domain = target.host.toLowerCase().replace(/\.$/, '');
  return { name: domain, domain, port: target.port, mx: 'all' as const };
}
