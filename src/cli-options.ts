import type { InitCommand, ListCommand } from './commands/types.js';
import { UsageError } from './errors.js';
import { isIP, type IpFamily } from './ip.js';
import { parseDuration } from './scenario/duration.js';
import { parseTarget, targetOption } from './scenario/target.js';

/** Turning option values into typed values, each with a one-sentence error naming the option. */

/** Every value of a repeatable option (cac gives one value or an array). */
export function values(raw: unknown): unknown[] {
  return ([] as unknown[]).concat(raw ?? []);
}

export function parseVars(raw: unknown): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const item of values(raw)) {
    const text = String(item);
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UsageError(`--var expects name=value, got "${text}"`);
    vars[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return vars;
}

/** `--secret NAME` values: names of variables or environment variables whose values are secret. */
export function parseSecretNames(raw: unknown): string[] {
  return parseStrings(raw, '--secret', 'a variable name').map((name) => {
    const bare = /^env:/.test(name) ? name.slice(4) : name;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(bare)) throw new UsageError(`--secret expects the name of a variable, such as SMTP_API_KEY, got "${name}"`);
    return bare;
  });
}

export function parseStrings(raw: unknown, name: string, what = 'a value'): string[] {
  return values(raw).map((item) => {
    if (item === true || item === '') throw new UsageError(`${name} needs ${what}`);
    return String(item);
  });
}

export function optionalString(raw: unknown, name: string): string | undefined {
  if (raw === undefined) return undefined;
  if (raw === true || raw === '') throw new UsageError(`${name} needs a value`);
  return String(raw);
}

export function parseTimeout(raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const ms = parseDuration(String(raw));
  if (ms === undefined || ms <= 0) {
    throw new UsageError(`--timeout expects a duration such as 500ms, 30s or 2m, got "${String(raw)}"`);
  }
  return ms;
}

/** `--target` values: a server (host[:port]) for scenario files, a target name or tag for a manifest. */
export function parseTargets(raw: unknown): string[] {
  const texts = parseStrings(raw, '--target', 'host[:port]');
  for (const text of texts) targetOption(text);
  return texts;
}

export function parseWholeNumber(raw: unknown, name: string, min: number): number {
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`${name} expects a whole number of at least ${min}, got "${String(raw)}"`);
  }
  return value;
}

export function parseDnsServer(raw: unknown): { host: string; port: number } | undefined {
  const text = optionalString(raw, '--dns-server');
  if (text === undefined) return undefined;
  const target = parseTarget(text, 53);
  if (!target || target.kind !== undefined && target.kind !== 'tcp') {
    throw new UsageError(`--dns-server expects an address such as 127.0.0.1:5353, got "${text}"`);
  }
  return { host: target.host, port: target.port };
}

/** `--local-address ADDR`, `-4`, `-6`: where the client connects from. */
export function parseClientAddress(o: Record<string, unknown>): { localAddress?: string; family?: IpFamily } {
  if (o.ipv4 === true && o.ipv6 === true) throw new UsageError('use either -4 or -6, not both');
  const family: IpFamily | undefined = o.ipv4 === true ? 4 : o.ipv6 === true ? 6 : undefined;
  const localAddress = optionalString(o.localAddress, '--local-address');
  if (localAddress !== undefined && isIP(localAddress) === 0) {
    throw new UsageError(`--local-address expects an IP address of this machine, such as 192.0.2.10, got "${localAddress}"`);
  }
  if (localAddress !== undefined && family && isIP(localAddress) !== family) {
    throw new UsageError(`--local-address ${localAddress} is an IPv${isIP(localAddress)} address: it does not go with -${family}`);
  }
  return { ...(localAddress !== undefined ? { localAddress } : {}), ...(family ? { family } : {}) };
}

export function parseGrep(raw: unknown): RegExp | undefined {
  const text = optionalString(raw, '--grep');
  if (text === undefined) return undefined;
  try {
    return new RegExp(text, 'i');
  } catch (error) {
    throw new UsageError(`--grep is not a valid regular expression: ${(error as Error).message}`);
  }
}

/** `--include-root DIR`, when given. */
export function includeRootOf(o: Record<string, unknown>): { includeRoot?: string } {
  const dir = optionalString(o.includeRoot, '--include-root');
  if (dir === '') throw new UsageError('--include-root needs a folder');
  return dir === undefined ? {} : { includeRoot: dir };
}

export function oneOf<T extends string>(raw: unknown, name: string, allowed: readonly T[]): T {
  const value = String(raw) as T;
  if (!allowed.includes(value)) throw new UsageError(`${name} must be one of ${allowed.join(', ')}, got "${String(raw)}"`);
  return value;
}

/** What `smtpspec init` writes when it is given no file name. */
export const DEFAULT_SCENARIO_FILE = 'smtpspec.yaml';
export const DEFAULT_MANIFEST_FILE = 'fleet.yaml';

export function listCommandOf(paths: string[], o: Record<string, unknown>): ListCommand {
  return {
    command: 'list',
    paths: paths.map(String),
    targets: parseTargets(o.target),
    vars: parseVars(o.var),
    secrets: parseSecretNames(o.secret),
    ca: parseStrings(o.ca, '--ca', 'a file name'),
    ...includeRootOf(o),
    grep: parseGrep(o.grep),
    tags: parseStrings(o.tag, '--tag'),
  };
}

export function initCommandOf(file: string | undefined, o: Record<string, unknown>): InitCommand {
  const targets = parseTargets(o.target);
  if (targets.length > 1) throw new UsageError('init takes one --target');
  const manifest = o.manifest === true;
  if (file === '') throw new UsageError('init needs a file name, or none for the default');
  return {
    command: 'init',
    file: file === undefined ? (manifest ? DEFAULT_MANIFEST_FILE : DEFAULT_SCENARIO_FILE) : String(file),
    manifest,
    ...(targets[0] === undefined ? {} : { target: targets[0] }),
    force: o.force === true,
  };
}
