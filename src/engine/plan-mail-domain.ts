import { isIP } from '../ip.js';
import { isTcpTarget, type Target, type TcpTarget } from '../scenario/types.js';
import type { ClientAddress } from './client-address.js';
import { DNS_TIMEOUT_MS, itemsOnHosts, lookUpHosts, type HostLookupOptions } from './plan-manifest.js';
import type { WorkItem } from './work-item.js';

/**
 * Scenario files whose target is a mail domain (`mail_domain: true`, the ready-made DNS checks): the target's
 * host is the domain, and each case runs against the domain's MX hosts (or the domain itself without MX),
 * looked up once per domain for the whole run; a case that only asks DNS runs once, on the domain. A target
 * given as an IP address has no domain: its cases run against it as written.
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
  const hostsOf = new Map<TcpTarget, Promise<Target[]>>();
  const domainOf = (target: Target): TcpTarget | undefined => (isTcpTarget(target) && target.mx === undefined && isIP(target.host) === 0 ? target : undefined);
  for (const item of items) {
    const target = domainOf(item.target);
    if (!item.scenario.mailDomain || !target || hostsOf.has(target)) continue;
    hostsOf.set(target, lookUpHosts(asDomain(target), client, lookup));
  }
  const resolved = new Map<TcpTarget, Target[]>();
  await Promise.all([...hostsOf].map(async ([target, hosts]) => resolved.set(target, await hosts)));
  return items.flatMap((item) => {
    if (!item.scenario.mailDomain) return [item];
    const target = domainOf(item.target);
    const hosts = target ? resolved.get(target) : undefined;
    if (!target || !hosts) return [withoutDomain(item)];
    const scenario = { ...item.scenario, cases: [item.kase] };
    return itemsOnHosts([scenario], hosts, asDomain(target)).map((planned) => ({ ...item, target: planned.target }));
  });
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

function asDomain(target: TcpTarget) {
  const domain = target.host.toLowerCase().replace(/\.$/, '');
  return { name: domain, domain, port: target.port, mx: 'all' as const };
}
