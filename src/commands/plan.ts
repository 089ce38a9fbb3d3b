import type { CliIO } from './io.js';
import { UsageError } from '../errors.js';
import { filterItems } from '../engine/filter.js';
import { planRun, type WorkItem } from '../engine/run.js';
import type { Shard } from '../engine/shard-spec.js';
import { isManifestFile, loadManifest, type Manifest, type ManifestTarget } from '../manifest/manifest.js';
import { planManifest } from '../manifest/plan.js';
import { caProblem } from '../scenario/files.js';
import { loadScenarios } from '../scenario/load.js';
import { formatTarget } from '../engine/target-label.js';
import { parseTarget } from '../scenario/target.js';
import type { Scenario, Target } from '../scenario/types.js';
import type { EmbeddedServer } from '../server/embedded.js';
import { lenientEnv } from './lenient-env.js';

/**
 * What a run would do, shared by `run`, `run --dry-run` and `list`: scenario files or one
 * manifest turned into work items, then --grep, --tag and --shard. A preview connects to
 * nothing and looks nothing up: manifest domains and the embedded server stand as placeholders.
 */

/** What planning reads of a command; RunCommand and ListCommand both have it. */
export interface PlanInput {
  paths: string[];
  targets: string[];
  embedded?: boolean;
  vars: Record<string, string>;
  ca: string[];
  timeoutMs?: number;
  dnsServer?: { host: string; port: number };
}

export interface PlanMode {
  /** No DNS, no embedded server: for showing the plan, not running it. */
  preview: boolean;
  /** A file without a target is unusable input (run); otherwise its cases are listed without one. */
  requireTarget: boolean;
  /** Unset `${env:…}` variables read as `<NAME>` and are collected instead of failing (list). */
  lenientEnv?: Set<string>;
  /** Referenced files that do not exist are collected instead of failing (list). */
  missingFiles?: Set<string>;
}

export interface Planned {
  items: WorkItem[];
  scenarios: Scenario[];
  /** Started for `--embedded` when not previewing; the caller closes it. */
  server?: EmbeddedServer;
}

export interface WorkFilter {
  grep?: RegExp;
  tags: string[];
  shard?: Shard;
}

/** Targets that stand for something only known at run time, with how to show them. */
const placeholders = new WeakMap<Target, string>();

/** Manifest domains planned without a lookup: at run time each stands for every MX host found. */
const mxPlaceholders = new WeakSet<Target>();

export function isMxPlaceholder(target: Target): boolean {
  return mxPlaceholders.has(target);
}

/** A target in one line; a placeholder says what it stands for. */
export function targetLabel(target: Target): string {
  return placeholders.get(target) ?? formatTarget(target);
}

function placeholder(target: Target, label: string): Target {
  placeholders.set(target, label);
  return target;
}

/** The manifest among the paths, if any: it must come alone. */
export function manifestPathOf(paths: string[]): string | undefined {
  const manifests = paths.filter((path) => isManifestFile(path));
  if (manifests.length === 0) return undefined;
  if (paths.length > 1) throw new UsageError(`a manifest runs on its own: run ${manifests[0]} without other files`);
  return manifests[0];
}

/** Loads what the command names and pairs every case with its target. */
export async function planWork(input: PlanInput, io: CliIO, mode: PlanMode): Promise<Planned> {
  const unreadable = caProblem(input.ca);
  if (unreadable) throw new UsageError(unreadable);
  const env = mode.lenientEnv ? lenientEnv(io.env, mode.lenientEnv) : io.env;
  const manifestPath = manifestPathOf(input.paths);
  return manifestPath ? planFromManifest(manifestPath, input, env, mode) : planFromFiles(input, env, mode);
}

async function planFromManifest(path: string, input: PlanInput, env: CliIO['env'], mode: PlanMode): Promise<Planned> {
  if (input.embedded) throw new UsageError('--embedded does not go with a manifest: the manifest names the servers');
  const manifest = await loadManifest(path, mode.missingFiles ? { missingFiles: mode.missingFiles } : {});
  const options = {
    vars: input.vars,
    env,
    ca: input.ca,
    ...(input.timeoutMs ? { defaultTimeoutMs: input.timeoutMs } : {}),
    ...(input.dnsServer ? { dnsServer: input.dnsServer } : {}),
    ...(mode.missingFiles ? { missingFiles: mode.missingFiles } : {}),
    only: input.targets,
  };
  if (!mode.preview) return planManifest(manifest, options);
  // Domain targets are planned as one host each, named after the domain: no lookup happens.
  const domains = new Map<string, ManifestTarget>();
  const targets = manifest.targets.map((target) => {
    if (target.domain === undefined) return target;
    domains.set(target.name, target);
    return { ...target, domain: undefined, host: target.domain };
  });
  const plan = await planManifest({ ...manifest, targets } satisfies Manifest, options);
  for (const item of plan.items) {
    const target = item.target.kind === undefined || item.target.kind === 'tcp' ? domains.get(item.target.name ?? '') : undefined;
    if (!target) continue;
    placeholder(item.target, mxLabel(target));
    mxPlaceholders.add(item.target);
  }
  return plan;
}

function mxLabel(target: ManifestTarget): string {
  const port = target.port === 25 ? '' : `, port ${target.port}`;
  const name = target.name === target.domain ? '' : `${target.name}: `;
  return `${name}MX of ${target.domain}${port} (resolved at run time)`;
}

async function planFromFiles(input: PlanInput, env: CliIO['env'], mode: PlanMode): Promise<Planned> {
  if (input.targets.length > 1) throw new UsageError('--target names one server when running scenario files');
  // The embedded server's certificate is trusted when the run targets it.
  const ca = input.embedded ? [...input.ca, (await import('../server/embedded.js')).embeddedCaFile()] : input.ca;
  const scenarios = await loadScenarios(input.paths, { vars: input.vars, env, defaultTimeoutMs: input.timeoutMs, ca, ...(mode.missingFiles ? { missingFiles: mode.missingFiles } : {}) });
  let target: Target | undefined = input.targets[0] === undefined ? undefined : parseTarget(input.targets[0]);
  if (input.embedded && mode.preview) target = placeholder({ host: '127.0.0.1', port: 0 }, 'the embedded server (a free loopback port, at run time)');
  if (!target && !mode.requireTarget) return { items: withoutTargets(scenarios), scenarios };
  const server = input.embedded && !mode.preview ? await (await import('../server/embedded.js')).startEmbeddedServer() : undefined;
  if (server) target = { host: server.host, port: server.port };
  try {
    return { items: planRun(scenarios, target), scenarios, ...(server ? { server } : {}) };
  } catch (error) {
    await server?.close();
    throw error;
  }
}

/** Every case with its file's target, or a placeholder saying there is none. */
function withoutTargets(scenarios: Scenario[]): WorkItem[] {
  const none = placeholder({ host: '', port: 0 }, 'no target: add "target:" to the file or pass --target');
  return scenarios.flatMap((scenario) => scenario.cases.map((kase) => ({ scenario, kase, target: scenario.target ?? none })));
}

/** The work after --grep, --tag and --shard; filters that leave nothing are a usage error, an empty shard is not. */
export async function selectWork(items: WorkItem[], filter: WorkFilter): Promise<WorkItem[]> {
  let selected = filterItems(items, { ...(filter.grep ? { grep: filter.grep } : {}), tags: filter.tags });
  if (selected.length === 0 && items.length > 0) {
    throw new UsageError('no case matches the --grep / --tag filters');
  }
  if (filter.shard) {
    const { selectShard, shardKey } = await import('../engine/shard.js');
    selected = selectShard(selected, filter.shard, shardKey);
  }
  return selected;
}

