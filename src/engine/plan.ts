import { InputError, UsageError } from '../errors.js';
import type { IpFamily } from '../ip.js';
import { clientAddressProblem, withClientAddress, type ClientAddress } from './client-address.js';
import { detectManifest } from '../manifest/manifest.js';
import { caProblem, type DetectedYaml } from '../scenario/files.js';
import { CertificateFileError, CertificateFiles } from '../smtp/certificate-files.js';
import { loadScenarios, parseScenario } from '../scenario/load.js';
import { LoadCache } from '../scenario/load-cache.js';
import { targetOption } from '../scenario/target.js';
import { withEmbeddedMailboxes } from '../scenario/mailboxes.js';
import type { PlaceholderTarget, Scenario, Target } from '../scenario/types.js';
import type { EmbeddedServer } from '../server/embedded.js';
import { filterItems } from './filter.js';
import { lenientEnv } from './lenient-env.js';
import { planManifest } from './plan-manifest.js';
import { onMailDomains, withoutDomain, type MailDomainOptions } from './plan-mail-domain.js';
import type { Shard } from './shard-spec.js';
import type { WorkItem } from './work-item.js';

export type { WorkItem } from './work-item.js';

/**
 * What a run would do, for running it (`run`) and for showing it (`list`, `run --dry-run`):
 * scenario files or one manifest turned into work items, then --grep, --tag and --shard. A
 * preview connects to nothing and looks nothing up: manifest domains and the embedded server
 * stand as placeholders.
 */

/** What to plan; each field is the command-line option named in its note. */
export interface PlanOptions {
  /** Scenario files, folders and patterns; or one manifest, alone. */
  paths: string[];
  /** A manifest made in memory (`smtpspec mx`), planned instead of `paths`; `file` names it in messages. */
  manifestSource?: { file: string; text: string };
  /** `--target`: the one server (`host[:port]`) for scenario files; names or tags of a manifest's targets. */
  targets?: string[];
  /** `--embedded`: the scenario files run against the embedded server, started for the run. */
  embedded?: boolean;
  /** `--var`: wins over the manifest's and the files' variables. */
  vars?: Record<string, string>;
  /** `--secret`: names of variables and environment variables whose values are secret. */
  secrets?: string[];
  /** For `${env:…}`; default: process.env. */
  env?: Record<string, string | undefined>;
  /** `--ca`: CA files trusted besides those the files name. */
  ca?: string[];
  /** `--timeout`: the deadline per reply where no file sets one. */
  timeoutMs?: number;
  /** `--include-root`: the folder included files must be in; default: each scenario file's folder. */
  includeRoot?: string;
  /** `--dns-server`: where MX records are looked up; wins over the manifest's `dns_server`. */
  dnsServer?: { host: string; port: number };
  /** `--local-address`: the client's source address for TCP targets; wins over a manifest target's `local_address`. */
  localAddress?: string;
  /** `-4` / `-6`: connect (and look names up) over IPv4 or IPv6 only; wins over a manifest target's `family`. */
  family?: IpFamily;
  /** `--grep`: keep the cases whose `<scenario name> › <case name>` matches. */
  grep?: RegExp;
  /** `--tag`: keep the cases with one of these tags, their own or their file's. */
  tags?: string[];
  /** `--shard`: keep one shard of the cases. */
  shard?: Shard;
  /** A plan for showing, not running: no lookup, no embedded server; placeholders stand for what only the run knows. */
  preview?: boolean;
  /** With `preview`, false plans the cases of a file without a target against a placeholder (list); a run always needs targets. */
  requireTarget?: boolean;
  /** Unset `${env:…}` variables read as `<NAME>` and are collected here instead of failing (list). */
  lenientEnv?: Set<string>;
  /** Referenced files that do not exist are collected here instead of failing (list). */
  missingFiles?: Set<string>;
  /** Scenarios given as text (`send` builds one in memory), parsed with the loader instead of reading `paths`; `file` places their relative paths. */
  sources?: { text: string; file: string }[];
  /** Every scenario loaded, once each case has its target and before the filters, whose errors then come after the warnings. */
  onLoaded?: (scenarios: Scenario[]) => void;
}

export interface Plan {
  /** The cases with their targets, in run order, after the filters and the shard. */
  items: WorkItem[];
  /** Every scenario loaded (a manifest loads a file once per target), for their warnings. */
  scenarios: Scenario[];
  /** The manifest planned, when the paths name one. */
  manifest?: string;
  /** The embedded server, started for `embedded` unless previewing. */
  server?: EmbeddedServer;
  /** Stops what planning started (the embedded server), once the run is over. */
  close(): Promise<void>;
}

interface Planned {
  items: WorkItem[];
  scenarios: Scenario[];
  server?: EmbeddedServer;
}

/** The manifest among the paths, if any, as told apart (its document is not parsed again): it must come alone. */
function manifestPathOf(paths: string[]): { path: string; detected: DetectedYaml } | undefined {
  for (const path of paths) {
    const detected = detectManifest(path);
    if (!detected) continue;
    if (paths.length > 1) throw new UsageError(`a manifest runs on its own: run ${path} without other files`);
    return { path, detected };
  }
  return undefined;
}

/** Loads what the options name, pairs every case with its target, then keeps the cases the filters and the shard select. */
export async function planWork(options: PlanOptions): Promise<Plan> {
  // Certificate files are read once, here and while loading, before any session: each session uses what was read.
  const certificates = new CertificateFiles();
  const unreadable = await caProblem(options.ca ?? [], certificates);
  if (unreadable) throw new InputError(unreadable);
  const client = clientOf(options);
  const unusable = clientAddressProblem(client);
  if (unusable) throw new UsageError(unusable);
  const given = options.env ?? process.env;
  const env = options.lenientEnv ? lenientEnv(given, options.lenientEnv) : given;
  const source = options.manifestSource;
  const found = source ? { path: source.file, detected: undefined } : manifestPathOf(options.paths);
  const manifest = found?.path;
  const planned = found ? await planFromManifest(found.path, found.detected, options, env, certificates) : await planFromFiles(options, env, certificates);
  const { scenarios, server } = planned;
  try {
    options.onLoaded?.(scenarios);
    const selected = await selectWork(planned.items, options);
    const folderOf = server ? (await import('../server/maildir-store.js')).mailboxFolderName : undefined;
    const placed = withTlsFiles(server && folderOf ? onEmbeddedServer(selected, server, folderOf) : options.preview ? selected : withoutEmbeddedMailboxes(selected), certificates, options.preview === true);
    // A manifest's targets have theirs already, the command line's over their own.
    const items = manifest ? placed : withDnsServer(onClientAddress(placed, client), options.dnsServer);
    return {
      items,
      scenarios,
      ...(manifest ? { manifest } : {}),
      ...(server ? { server } : {}),
      close: async () => {
        await server?.close();
      },
    };
  } catch (error) {
    await server?.close();
    throw error;
  }
}

function planFromManifest(path: string, detected: DetectedYaml | undefined, options: PlanOptions, env: Record<string, string | undefined>, certificates: CertificateFiles): Promise<Planned> {
  if (options.embedded) throw new UsageError('--embedded does not go with a manifest: the manifest names the servers');
  return planManifest(path, {
    vars: options.vars ?? {},
    secrets: options.secrets ?? [],
    env,
    ca: options.ca ?? [],
    ...(options.timeoutMs ? { defaultTimeoutMs: options.timeoutMs } : {}),
    ...(options.dnsServer ? { dnsServer: options.dnsServer } : {}),
    ...clientOf(options),
    ...(options.missingFiles ? { missingFiles: options.missingFiles } : {}),
    certificates,
    ...(options.includeRoot !== undefined ? { includeRoot: options.includeRoot } : {}),
    only: options.targets ?? [],
    preview: options.preview ?? false,
    cache: new LoadCache(),
    ...(detected ? { detected } : {}),
    ...(options.manifestSource ? { source: options.manifestSource.text } : {}),
  });
}

const EMBEDDED_PLACEHOLDER: PlaceholderTarget = {
  kind: 'placeholder',
  stands: 'embedded',
  label: 'the embedded server (a free loopback port, at run time)',
  address: { host: '127.0.0.1', port: 0 },
};

const NO_TARGET: PlaceholderTarget = { kind: 'placeholder', stands: 'none', label: 'no target: add "target:" to the file or pass --target' };

function clientOf(options: PlanOptions): ClientAddress {
  return { ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}), ...(options.family ? { family: options.family } : {}) };
}

async function planFromFiles(options: PlanOptions, env: Record<string, string | undefined>, certificates: CertificateFiles): Promise<Planned> {
  const targets = options.targets ?? [];
  if (targets.length > 1) throw new UsageError('--target names one server when running scenario files');
  let target: Target | undefined = targets[0] === undefined ? undefined : targetOption(targets[0]);
  const ca = options.ca ?? [];
  // The embedded server's certificate is trusted when the run targets it.
  const trusted = options.embedded ? [...ca, (await import('../server/embedded.js')).embeddedCaFile()] : ca;
  const loadOptions = {
    vars: options.vars ?? {},
    secrets: options.secrets ?? [],
    env,
    defaultTimeoutMs: options.timeoutMs,
    ca: trusted,
    ...(options.missingFiles ? { missingFiles: options.missingFiles } : {}),
    certificates,
    ...(options.includeRoot !== undefined ? { includeRoot: options.includeRoot } : {}),
    cache: new LoadCache(),
  };
  const scenarios = options.sources ? options.sources.map((source) => parseScenario(source.text, source.file, loadOptions)) : await loadScenarios(options.paths, loadOptions);
  // The embedded server is planned as its placeholder, which the filters and the shard see, so a
  // shard holds the same cases whatever port the server gets; planWork puts the server in its place.
  if (options.embedded) target = EMBEDDED_PLACEHOLDER;
  if (!target && options.preview && options.requireTarget === false) return { items: withTargets(scenarios, undefined, NO_TARGET), scenarios };
  const paired = withTargets(scenarios, target);
  const items = !scenarios.some((scenario) => scenario.mailDomain)
    ? paired
    : options.embedded
      ? paired.map((item) => (item.scenario.mailDomain ? withoutDomain(item) : item))
      : await onMailDomains(paired, clientOf(options), mailDomainOptions(options));
  const server = options.embedded && !options.preview ? await (await import('../server/embedded.js')).startEmbeddedServer({ temporaryMailRoot: true }) : undefined;
  return { items, scenarios, ...(server ? { server } : {}) };
}

/**
 * The items with the material of their certificate files, read once for the whole run (a plan
 * that is only shown needs none): a file changed or removed later, or a pipe, serves every session.
 */
function withTlsFiles(items: WorkItem[], certificates: CertificateFiles, preview: boolean): WorkItem[] {
  if (preview) return items;
  const scenarios = new Map<Scenario, Scenario>();
  return items.map((item) => {
    let scenario = scenarios.get(item.scenario);
    if (!scenario) {
      const { tls } = item.scenario;
      const files = tls.ca.length > 0 || tls.cert !== undefined || tls.key !== undefined ? tlsFilesOf(tls, certificates) : undefined;
      scenario = files ? { ...item.scenario, tls: { ...tls, files } } : item.scenario;
      scenarios.set(item.scenario, scenario);
    }
    return scenario === item.scenario ? item : { ...item, scenario };
  });
}

function tlsFilesOf(tls: Scenario['tls'], certificates: CertificateFiles) {
  try {
    return certificates.tlsFiles(tls);
  } catch (error) {
    throw error instanceof CertificateFileError ? new InputError(error.message) : error;
  }
}

/** The resolver of DNS check steps on every item (a manifest's items have theirs, with its own dns_server). */
function withDnsServer(items: WorkItem[], dnsServer: PlanOptions['dnsServer']): WorkItem[] {
  return dnsServer ? items.map((item) => ({ ...item, dnsServer })) : items;
}

function mailDomainOptions(options: PlanOptions): MailDomainOptions {
  return { ...(options.dnsServer ? { dnsServer: options.dnsServer } : {}), preview: options.preview === true, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) };
}

/** The items with the client's source address and family on their TCP targets; each target is made once. */
function onClientAddress(items: WorkItem[], client: ClientAddress): WorkItem[] {
  if (client.localAddress === undefined && !client.family) return items;
  const targets = new Map<Target, Target>();
  return items.map((item) => {
    let target = targets.get(item.target);
    if (!target) targets.set(item.target, (target = withClientAddress(item.target, client)));
    return { ...item, target };
  });
}

/**
 * The work items with the embedded server, now started, where its placeholder stood, and its
 * Maildirs where the scenarios' `embedded:` mailboxes stood.
 */
function onEmbeddedServer(items: WorkItem[], server: EmbeddedServer, folderOf: (localPart: string) => string): WorkItem[] {
  const target: Target = { host: server.host, port: server.port };
  const mailRoot = server.mailRoot;
  const placed = new Map<Scenario, Scenario>();
  const scenarioOf = (scenario: Scenario): Scenario => {
    if (mailRoot === undefined) return scenario;
    let done = placed.get(scenario);
    if (!done) placed.set(scenario, (done = withEmbeddedMailboxes(scenario, mailRoot, folderOf)));
    return done;
  };
  return items.map((item) => {
    const scenario = scenarioOf(item.scenario);
    if (item.target !== EMBEDDED_PLACEHOLDER && scenario === item.scenario) return item;
    return { ...item, scenario, ...(item.target === EMBEDDED_PLACEHOLDER ? { target } : {}) };
  });
}

/**
 * An `embedded:` mailbox is the embedded server's Maildir: without --embedded there is none to look in, so a case
 * whose steps look in one is skipped, with the reason, before it sends anything (the bundled delivery scenario
 * runs against the embedded server, and is skipped against any other).
 */
function withoutEmbeddedMailboxes(items: WorkItem[]): WorkItem[] {
  return items.map((item) => {
    const mailboxes = item.scenario.mailboxes;
    if (!mailboxes) return item;
    const step = item.kase.steps.find((candidate) => candidate.action.type === 'mailbox' && mailboxes[candidate.action.mailbox]?.settings.kind === 'embedded');
    if (!step || step.action.type !== 'mailbox') return item;
    return { ...item, skip: `mailbox "${step.action.mailbox}" is the embedded server's Maildir: run with --embedded` };
  });
}

/**
 * Every case with its target: `override` (`--target`, `--embedded`), else its file's own, else
 * `fallback`; a file left without one is unusable input.
 */
export function withTargets(scenarios: Scenario[], override?: Target, fallback?: Target): WorkItem[] {
  const missing = scenarios.filter((s) => !override && !s.target && !fallback).map((s) => s.file);
  if (missing.length > 0) {
    throw new UsageError(`no target for ${missing.join(', ')}: add "target: host[:port]" to the file, or pass --target or --embedded`);
  }
  return scenarios.flatMap((scenario) => scenario.cases.map((kase) => ({ scenario, kase, target: (override ?? scenario.target ?? fallback)! })));
}

/** The work after --grep, --tag and --shard; filters that leave nothing are a usage error, an empty shard is not. */
async function selectWork(items: WorkItem[], options: PlanOptions): Promise<WorkItem[]> {
  let selected = filterItems(items, { ...(options.grep ? { grep: options.grep } : {}), tags: options.tags ?? [] });
  if (selected.length === 0 && items.length > 0) throw new UsageError('no case matches the --grep / --tag filters');
  if (options.shard) {
    const { selectShard, shardKey } = await import('./shard.js');
    selected = selectShard(selected, options.shard, shardKey);
  }
  return selected;
}
