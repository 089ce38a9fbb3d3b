import { UsageError } from '../errors.js';
import type { CertificateFiles } from '../smtp/certificate-files.js';
import type { IpFamily } from '../ip.js';
import { clientAddressProblem, familyOf, withClientAddress, type ClientAddress } from './client-address.js';
import { loadManifest, parseManifest, type Manifest, type ManifestOptions, type ManifestTarget } from '../manifest/manifest.js';
import { resolveTargetHosts, type HostsOf, type ResolvedHost } from '../manifest/mx.js';
import { loadScenarios, type LoadOptions } from '../scenario/load.js';
import type { LoadCache } from '../scenario/load-cache.js';
import type { DetectedYaml } from '../scenario/files.js';
import type { PlaceholderTarget, Scenario, Target, TcpTarget, TlsSettings } from '../scenario/types.js';
import { isSessionless } from './sessionless.js';
import type { WorkItem } from './work-item.js';

/** The deadline for a target's DNS lookups when neither the manifest nor the command line sets one. */
export const DNS_TIMEOUT_MS = 10_000;

/** How a manifest target's scenarios are loaded. */
export interface TargetLoadOptions {
  /** `--var`: wins over the manifest's vars and the files'. */
  vars: Record<string, string>;
  /** `--secret`: names whose values are secret, in every target's scenarios. */
  secrets?: string[];
  env: Record<string, string | undefined>;
  /** `--ca`: trusted besides what the manifest and files name. */
  ca: string[];
  /** `--timeout`: where neither the manifest nor a file sets one. */
  defaultTimeoutMs?: number;
  /** Referenced files that do not exist are collected instead of failing (list). */
  missingFiles?: Set<string>;
  /** Certificate files read so far in this run or check; each is read once. */
  certificates?: CertificateFiles;
  /** `--include-root`: the folder included files must be in; default: each scenario file's folder. */
  includeRoot?: string;
  /** What this run or check has loaded: a file many targets name is read and parsed once. */
  cache?: LoadCache;
}

export interface ManifestPlanOptions extends TargetLoadOptions {
  /** `--dns-server`: wins over the manifest's `dns_server`. */
  dnsServer?: { host: string; port: number };
  /** `--local-address`: wins over the targets' `local_address`. */
  localAddress?: string;
  /** `-4` / `-6`: wins over the targets' `family`. */
  family?: IpFamily;
  /** `--target`: keep only targets with one of these names or tags. */
  only: string[];
  /** No lookup: a domain stands as one placeholder, for every MX host found at run time. */
  preview: boolean;
  /** The manifest as told apart from scenario files: it is not parsed again. */
  detected?: DetectedYaml;
  /** The manifest's text, made in memory (a one-off command's): `path` only names it. */
  source?: string;
}

export interface ManifestPlan {
  items: WorkItem[];
  /** Every scenario loaded, once per target, for their warnings. */
  scenarios: Scenario[];
}

function selectTargets(manifest: Manifest, only: string[]): ManifestTarget[] {
  if (only.length === 0) return manifest.targets;
  const wanted = new Set(only);
  const chosen = manifest.targets.filter((t) => wanted.has(t.name) || t.tags.some((tag) => wanted.has(tag)));
  if (chosen.length === 0) {
    const known = manifest.targets.map((t) => t.name).join(', ');
    throw new UsageError(`--target ${only.join(', ')} matches no target name or tag in ${manifest.file} (targets: ${known})`);
  }
  return chosen;
}

/** The target's TLS settings over the file's: the manifest names the server, so it knows its certificate. */
function withTargetTls(scenario: Scenario, tls: Partial<TlsSettings>): Scenario {
  if (Object.keys(tls).length === 0) return scenario;
  return { ...scenario, tls: { ...scenario.tls, ...tls, ca: [...scenario.tls.ca, ...(tls.ca ?? [])] } };
}

/** A target that names its hosts: one host, or a mail domain whose MX hosts are looked up. */
export type NamedHosts = HostsOf & { name: string };

function hostTarget(target: NamedHosts, host: ResolvedHost, client: ClientAddress): TcpTarget {
  const name = target.domain === undefined ? target.name : `${target.name} MX ${host.host}`;
  return withClientAddress({
    kind: 'tcp',
    host: host.host,
    port: host.port,
    name,
    ...(host.addresses ? { addresses: host.addresses } : {}),
    ...(host.error !== undefined ? { resolveError: host.error } : {}),
    ...(target.domain !== undefined ? { mx: { domain: target.domain, ...(host.preference !== undefined ? { preference: host.preference } : {}), ...(host.implicit ? { implicit: true as const } : {}) } } : {}),
  }, client);
}

/** The mail domain itself, for the cases that only ask DNS: they run once for it and connect to nothing. */
export function wholeDomainTarget(target: NamedHosts & { domain: string }): TcpTarget {
  return { kind: 'tcp', host: target.domain, port: target.port, name: target.name, mx: { domain: target.domain, wholeDomain: true } };
}

/**
 * Every case of the scenarios on every host; on a mail domain, a case that only asks DNS (isSessionless) once,
 * on the domain itself, not once per MX host.
 */
export function itemsOnHosts(scenarios: Scenario[], hosts: Target[], domain: NamedHosts | undefined): WorkItem[] {
  const whole = domain?.domain !== undefined ? wholeDomainTarget({ ...domain, domain: domain.domain }) : undefined;
  const once: WorkItem[] = [];
  const perHost = hosts.flatMap((host) =>
    scenarios.flatMap((scenario) =>
      scenario.cases.flatMap((kase) => {
        if (!whole || !isSessionless(kase)) return [{ scenario, kase, target: host }];
        if (host === hosts[0]) once.push({ scenario, kase, target: whole });
        return [];
      }),
    ),
  );
  return [...once, ...perHost];
}

/** Every host of a target, MX records resolved; a domain without a usable MX is one host that fails with the reason. */
export async function lookUpHosts(target: NamedHosts, client: ClientAddress, options: HostLookupOptions): Promise<(TcpTarget | PlaceholderTarget)[]> {
  if (options.preview && target.domain !== undefined) return [mxPlaceholder(target, target.domain)];
  const family = familyOf(client);
  const resolution = await resolveTargetHosts(target, { ...(options.dnsServer ? { dnsServer: options.dnsServer } : {}), ...(family ? { family } : {}), timeoutMs: options.timeoutMs });
  if ('error' in resolution) {
    return [{ kind: 'tcp', host: target.domain ?? target.name, port: target.port, name: target.name, resolveError: resolution.error, ...(target.domain !== undefined ? { mx: { domain: target.domain } } : {}) }];
  }
  return resolution.hosts.map((host) => hostTarget(target, host, client));
}

export interface HostLookupOptions {
  dnsServer?: { host: string; port: number };
  /** No lookup: a domain stands as one placeholder. */
  preview: boolean;
  /** One deadline for all the lookups of the target. */
  timeoutMs: number;
}

/** The command line's source address and family over the target's. */
function clientOf(target: ManifestTarget, options: ManifestPlanOptions): ClientAddress {
  const localAddress = options.localAddress ?? target.localAddress;
  const family = options.family ?? target.family;
  const client = { ...(localAddress !== undefined ? { localAddress } : {}), ...(family ? { family } : {}) };
  const problem = clientAddressProblem(client);
  if (problem) throw new UsageError(`target ${target.name}: ${problem}`);
  return client;
}

/** A domain planned without a lookup. */
function mxPlaceholder(target: NamedHosts, domain: string): PlaceholderTarget {
  const port = target.port === 25 ? '' : `, port ${target.port}`;
  const name = target.name === domain ? '' : `${target.name}: `;
  return { kind: 'placeholder', stands: 'mx', label: `${name}MX of ${domain}${port} (resolved at run time)`, address: { host: domain, port: target.port } };
}

/** The target's scenarios as its runs load them: its vars and timeout, its TLS settings over the files'. */
export async function loadTargetScenarios(target: ManifestTarget, options: TargetLoadOptions): Promise<Scenario[]> {
  const load: LoadOptions = {
    vars: { ...target.vars, ...options.vars },
    secrets: [...(options.secrets ?? []), ...(target.secrets ?? [])],
    env: options.env,
    ca: options.ca,
    ...(target.timeoutMs ?? options.defaultTimeoutMs ? { defaultTimeoutMs: target.timeoutMs ?? options.defaultTimeoutMs } : {}),
    ...(options.missingFiles ? { missingFiles: options.missingFiles } : {}),
    ...(options.certificates ? { certificates: options.certificates } : {}),
    ...(options.includeRoot !== undefined ? { includeRoot: options.includeRoot } : {}),
    ...(options.cache ? { cache: options.cache } : {}),
  };
  const scenarios = await loadScenarios(target.scenarios, load);
  return scenarios.map((scenario) => withTargetTls(scenario, target.tls));
}

function targetHosts(target: ManifestTarget, options: ManifestPlanOptions, manifest: Manifest): Promise<(TcpTarget | PlaceholderTarget)[]> {
  const dnsServer = options.dnsServer ?? manifest.dnsServer;
  return lookUpHosts(target, clientOf(target, options), { ...(dnsServer ? { dnsServer } : {}), preview: options.preview, timeoutMs: target.timeoutMs ?? DNS_TIMEOUT_MS });
}

/**
 * Turns a manifest into work items: each target's scenarios (loaded with its vars and TLS
 * settings) against each of its hosts. A domain without a usable MX still gets its items,
 * each failing with the reason, so the report shows it.
 */
export async function planManifest(path: string, options: ManifestPlanOptions): Promise<ManifestPlan> {
  const manifest = await (options.source === undefined ? loadManifest : parsedManifest(options.source))(path, {
    ...(options.missingFiles ? { missingFiles: options.missingFiles } : {}),
    ...(options.certificates ? { certificates: options.certificates } : {}),
    ...(options.detected ? { detected: options.detected } : {}),
  });
  const planned = await Promise.all(
    selectTargets(manifest, options.only).map(async (target) => {
      const [scenarios, hosts] = await Promise.all([loadTargetScenarios(target, options), targetHosts(target, options, manifest)]);
      const dnsServer = options.dnsServer ?? manifest.dnsServer;
      const items = itemsOnHosts(scenarios, hosts, target).map((item) => (dnsServer ? { ...item, dnsServer } : item));
      return { items, scenarios };
    }),
  );
  return { items: planned.flatMap((p) => p.items), scenarios: planned.flatMap((p) => p.scenarios) };
}

/** loadManifest's shape for a manifest whose text is at hand. */
function parsedManifest(source: string): (path: string, options: ManifestOptions) => Promise<Manifest> {
  return async (path, options) => parseManifest(source, path, options);
}
