import { existsSync } from 'node:fs';
import { isIP, type IpFamily } from '../ip.js';
import { dirname, resolve } from 'node:path';
import { resolveChecks } from '../checks/catalogue.js';
import { ScenarioError, UsageError, type SourceIssue, type SourcePos } from '../errors.js';
import { durationRangeProblem, parseDuration } from '../scenario/duration.js';
import { isPattern } from '../scenario/glob.js';
import { detectYamlFile, patternMatches, referencedFileProblem, shownPath, yamlFileKind, type DetectedYaml } from '../scenario/files.js';
import { CertificateFiles, type CertificateKind } from '../smtp/certificate-files.js';
import { comparePos, type PositionFinder } from '../scenario/positions.js';
import { isValidHost, parseTarget } from '../scenario/target.js';
import type { TlsSettings } from '../scenario/types.js';
import { cleanIssues, parseYamlSource, readSourceFile, type SourceKind } from '../scenario/yaml-source.js';
import { manifestSchemaIssues } from './schema.js';

export type MxChoice = 'all' | 'primary';

export interface ManifestTarget {
  /** Unique in the manifest; default: the host or the domain. */
  name: string;
  /** Where the target is written, for messages. */
  pos: SourcePos;
  tags: string[];
  /** Exactly one of host and domain is set. */
  host?: string;
  domain?: string;
  port: number;
  /** Which MX hosts of a domain target to test; meaningless for a host target. */
  mx: MxChoice;
  timeoutMs?: number;
  /** The client's source address (`local_address`), an IP address of this machine. */
  localAddress?: string;
  /** Connect and look names up over IPv4 or IPv6 only (`family`). */
  family?: IpFamily;
  /** defaults.tls with the target's tls merged over it key by key; paths are absolute. */
  tls: Partial<TlsSettings>;
  /** defaults.vars with the target's vars merged over them; values as written, as text. */
  vars: Record<string, string>;
  /** The manifest's `secrets:`, when it has any: names of variables and environment variables whose values are secret. */
  secrets?: string[];
  /** Absolute paths of scenario files and folders. */
  scenarios: string[];
}

export interface Manifest {
  file: string;
  dnsServer?: { host: string; port: number };
  targets: ManifestTarget[];
}

const MANIFEST_SOURCE: SourceKind = {
  files: 'manifests',
  document: 'a manifest',
  empty: 'the file is empty: a manifest needs at least "targets:"',
};

const DEFAULT_PORT = 25;
const DNS_PORT = 53;

type WrittenMap = Record<string, unknown>;

/** True when the file looks like a manifest rather than a scenario: a top-level `targets:` key and no `cases:` key. */
export function isManifestFile(path: string, source?: string): boolean {
  return yamlFileKind(path, source) === 'manifest';
}

/** The file at path as told apart, when it is a manifest: what was parsed to tell it is loaded without parsing it again. */
export function detectManifest(path: string): DetectedYaml | undefined {
  const detected = detectYamlFile(path);
  return detected.kind === 'manifest' ? detected : undefined;
}

export interface ManifestOptions {
  /** Certificate files the manifest names that do not exist are collected here instead of being problems (validate, list). */
  missingFiles?: Set<string>;
  /** Certificate files read so far in this run or check; each is read once. */
  certificates?: CertificateFiles;
  /** The file as detectManifest told it apart: its document is used when the text read now is the same. */
  detected?: DetectedYaml;
}

/** Reads a manifest; the path is kept as given in the result and in messages. */
export async function loadManifest(path: string, options: ManifestOptions = {}): Promise<Manifest> {
  return parseManifest(await readSourceFile(path, MANIFEST_SOURCE.files), path, options);
}

/** Parses and checks a manifest; throws a ScenarioError listing every problem found. */
export function parseManifest(source: string, file: string, options: ManifestOptions = {}): Manifest {
  const detected = options.detected;
  const document = detected?.document && detected.text === source ? detected.document : undefined;
  const parsed = parseYamlSource(source, file, MANIFEST_SOURCE, document);
  if ('issues' in parsed) throw new ScenarioError(cleanIssues(parsed.issues));
  const issues = manifestSchemaIssues(parsed.data, parsed.positions);
  const builder = new ManifestBuilder(parsed.positions, dirname(resolve(file)), options.missingFiles, options.certificates ?? new CertificateFiles());
  const manifest = isRecord(parsed.data) ? builder.build(parsed.data, file) : undefined;
  for (const issue of builder.issues) issues.push(issue);
  if (manifest && issues.length === 0) return manifest;
  throw new ScenarioError(cleanIssues(issues));
}

/** Turns a written manifest into its final form, collecting the problems the schema cannot express. */
class ManifestBuilder {
  readonly issues: SourceIssue[] = [];
  private readonly expanded = new Map<string, string[]>();
  private topPaths: string[] | undefined;

  constructor(
    private readonly positions: PositionFinder,
    private readonly dir: string,
    private readonly missingFiles: Set<string> | undefined,
    private readonly certificates: CertificateFiles,
  ) {}

  build(written: WrittenMap, file: string): Manifest {
    const defaults = isRecord(written['defaults']) ? written['defaults'] : {};
    const dnsServer = this.dnsServer(written['dns_server']);
    // Once for all targets: it names certificate files, which are checked on the disk.
    const defaultTls = this.tls(defaults['tls'], ['defaults', 'tls']);
    const targets = (Array.isArray(written['targets']) ? written['targets'] : []).flatMap((target, index) =>
      isRecord(target) ? [this.target(target, index, defaults, defaultTls, written)] : [],
    );
    this.checkUniqueNames(targets);
    return { file, ...(dnsServer ? { dnsServer } : {}), targets: targets.map(({ target }) => target) };
  }

  private target(written: WrittenMap, index: number, defaults: WrittenMap, defaultTls: Partial<TlsSettings>, top: WrittenMap) {
    const path = ['targets', index];
    const { host, domain } = this.hostOrDomain(written, path);
    const mx = (written['mx'] ?? defaults['mx'] ?? 'all') as MxChoice;
    if (written['mx'] !== undefined && host !== undefined) this.error(this.positions.keyAt(path, 'mx'), 'mx applies only to a domain target');
    const timeoutMs = this.timeout(written['timeout'], [...path, 'timeout']) ?? this.timeout(defaults['timeout'], ['defaults', 'timeout']);
    const files = this.scenarioPaths(written, top, path);
    const checks = written['checks'] !== undefined ? this.checks(written['checks'], [...path, 'checks']) : this.checks(top['checks'], ['checks']);
    const scenarios = [...files, ...checks.filter((check) => !files.includes(check))];
    if (scenarios.length === 0 && [written['scenarios'], top['scenarios'], written['checks'], top['checks']].every((x) => x === undefined)) {
      this.error(this.positions.at(path), 'this target has no scenarios: list them under "scenarios" (or ready-made "checks") at the top level or in the target');
    }
    const target: ManifestTarget = {
      name: typeof written['name'] === 'string' ? written['name'] : (host ?? domain ?? ''),
      pos: this.positions.at(path),
      tags: stringList(written['tags']),
      ...(host !== undefined ? { host } : {}),
      ...(domain !== undefined ? { domain } : {}),
      port: typeof written['port'] === 'number' ? written['port'] : DEFAULT_PORT,
      mx,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...this.clientAddress(written, defaults, path),
      tls: { ...defaultTls, ...this.tls(written['tls'], [...path, 'tls']) },
      vars: { ...varsOf(defaults['vars']), ...varsOf(written['vars']) },
      ...(Array.isArray(top['secrets']) ? { secrets: stringList(top['secrets']) } : {}),
      scenarios,
    };
    const namePos = this.positions.at(written['name'] !== undefined ? [...path, 'name'] : [...path, host !== undefined ? 'host' : 'domain']);
    return { target, namePos };
  }

  /**
   * The target's scenario files and folders, written relative to the manifest, shown relative to the
   * working folder (as on the command line) when they are under it. A pattern is expanded here, so
   * one that matches nothing is an error at its position.
   */
  private scenarioPaths(written: WrittenMap, top: WrittenMap, path: (string | number)[]): string[] {
    const own = written['scenarios'] !== undefined;
    if (own) return this.listedPaths(written['scenarios'], [...path, 'scenarios']);
    // The top-level list is the same for every target that has none of its own: it is resolved once.
    return (this.topPaths ??= this.listedPaths(top['scenarios'], ['scenarios']));
  }

  private listedPaths(list: unknown, listPath: (string | number)[]): string[] {
    return stringList(list).flatMap((entry, index) => {
      const absolute = resolve(this.dir, entry);
      if (!isPattern(entry) || existsSync(absolute)) return [shownPath(absolute)];
      const matches = this.matches(entry);
      // A scenarios: that is not a list is the schema's to report.
      if (matches.length === 0 && Array.isArray(list)) this.error(this.positions.at([...listPath, index]), `no scenario files (*.yaml, *.yml) match "${entry}"`);
      return matches;
    });
  }

  /** A pattern's matches, as shown; each pattern is expanded once however many targets share it. */
  private matches(pattern: string): string[] {
    let found = this.expanded.get(pattern);
    if (found) return found;
    // Folders are searched later, as folder entries are; a matched manifest (this one, say) or file of steps is no scenario.
    found = patternMatches(pattern, this.dir)
      .map((match) => ({ folder: match.folder, path: resolve(this.dir, match.path) }))
      .flatMap((match) => (match.folder || yamlFileKind(match.path) === 'scenario' ? [shownPath(match.path)] : []));
    this.expanded.set(pattern, found);
    return found;
  }

  /** The files of ready-made checks; an unknown name is an error at its position. */
  private checks(written: unknown, path: (string | number)[]): string[] {
    return stringList(written).flatMap((name, index) => {
      try {
        return resolveChecks([name]).map((path) => shownPath(path));
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        this.error(this.positions.at([...path, index]), error.message);
        return [];
      }
    });
  }

  private hostOrDomain(written: WrittenMap, path: (string | number)[]): { host?: string; domain?: string } {
    const host = typeof written['host'] === 'string' && written['host'] !== '' ? written['host'] : undefined;
    const domain = typeof written['domain'] === 'string' && written['domain'] !== '' ? written['domain'] : undefined;
    if (written['host'] !== undefined && written['domain'] !== undefined) {
      const later = [this.positions.keyAt(path, 'host'), this.positions.keyAt(path, 'domain')].sort(comparePos)[1]!;
      this.error(later, 'a target takes exactly one of "host" and "domain", not both');
    } else if (written['host'] === undefined && written['domain'] === undefined) {
      this.error(this.positions.at(path), 'a target needs "host" (one server) or "domain" (the MX hosts of a mail domain)');
    }
    if (host !== undefined && !isValidHost(host)) {
      const why = host.includes(':') && isIP(host) === 0 ? ': write the port under "port"' : '';
      this.error(this.positions.at([...path, 'host']), `host must be a host name or an IP address${why}`);
    }
    if (domain !== undefined && (!isValidHost(domain) || isIP(domain) !== 0)) {
      this.error(this.positions.at([...path, 'domain']), 'domain must be a mail domain such as example.org');
    }
    return { ...(host !== undefined ? { host } : {}), ...(domain !== undefined ? { domain } : {}) };
  }

  /** The target's `local_address` and `family`, each over defaults'; an address of the other family is an error. */
  private clientAddress(written: WrittenMap, defaults: WrittenMap, path: (string | number)[]): { localAddress?: string; family?: IpFamily } {
    const own = (key: string) => (written[key] !== undefined ? { value: written[key], at: [...path, key] } : { value: defaults[key], at: ['defaults', key] });
    const address = own('local_address');
    const family = own('family');
    const localAddress = typeof address.value === 'string' && address.value !== '' ? address.value : undefined;
    const chosen = family.value === 4 || family.value === 6 ? family.value : undefined;
    if (localAddress === undefined) return chosen ? { family: chosen } : {};
    const kind = isIP(localAddress);
    if (kind === 0) this.error(this.positions.at(address.at), 'local_address must be an IP address of this machine, such as 192.0.2.10 or 2001:db8::10');
    else if (chosen && kind !== chosen) this.error(this.positions.at(family.at), `family ${chosen} does not go with local_address ${localAddress}, an IPv${kind} address`);
    return { localAddress, ...(chosen ? { family: chosen } : {}) };
  }

  private dnsServer(written: unknown): { host: string; port: number } | undefined {
    if (typeof written !== 'string' || written === '') return undefined;
    const server = parseTarget(written, DNS_PORT);
    if (server && 'host' in server && isIP(server.host) !== 0) return { host: server.host, port: server.port };
    this.error(this.positions.at(['dns_server']), 'dns_server must be an IP address with an optional port, such as "127.0.0.1:5353" or "[::1]:53"');
    return undefined;
  }

  private timeout(written: unknown, path: (string | number)[]): number | undefined {
    if (typeof written !== 'string') return undefined;
    const ms = parseDuration(written);
    if (ms === undefined) return undefined;
    const problem = durationRangeProblem(ms);
    if (problem) this.error(this.positions.at(path), `timeout ${problem}`);
    return ms;
  }

  private tls(written: unknown, path: (string | number)[]): Partial<TlsSettings> {
    if (!isRecord(written)) return {};
    const settings: Partial<TlsSettings> = {};
    if (typeof written['implicit'] === 'boolean') settings.implicit = written['implicit'];
    if (typeof written['verify'] === 'boolean') settings.verify = written['verify'];
    const ca = written['ca'];
    if (ca !== undefined) settings.ca = stringList(ca).map((file, i) => this.file(file, Array.isArray(ca) ? [...path, 'ca', i] : [...path, 'ca'], 'CA certificate'));
    if (typeof written['servername'] === 'string') settings.servername = written['servername'];
    if (typeof written['cert'] === 'string') settings.cert = this.file(written['cert'], [...path, 'cert'], 'client certificate');
    if (typeof written['key'] === 'string') settings.key = this.file(written['key'], [...path, 'key'], 'client key');
    return settings;
  }

  /** A certificate or key the runs will read, as an absolute path; checked as the files a scenario names are. */
  private file(written: string, path: (string | number)[], what: CertificateKind): string {
    const absolute = resolve(this.dir, written);
    const problem = referencedFileProblem(absolute, written, what, this.missingFiles, this.certificates);
    if (problem) this.error(this.positions.at(path), problem);
    return absolute;
  }

  private checkUniqueNames(targets: { target: ManifestTarget; namePos: SourcePos }[]): void {
    const first = new Map<string, SourcePos>();
    for (const { target, namePos } of targets) {
      const earlier = first.get(target.name);
      if (earlier) {
        this.error(namePos, `duplicate target name "${target.name}" (first at line ${earlier.line}): give each target a unique name`);
      } else if (target.name !== '') {
        first.set(target.name, namePos);
      }
    }
  }

  private error(pos: SourcePos, message: string): void {
    this.issues.push({ pos, message });
  }
}

function isRecord(value: unknown): value is WrittenMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : [];
}

function varsOf(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  const vars: Record<string, string> = {};
  for (const [name, written] of Object.entries(value)) {
    if (['string', 'number', 'boolean'].includes(typeof written)) vars[name] = String(written);
  }
  return vars;
}
