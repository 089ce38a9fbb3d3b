import { readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { UsageError } from '../errors.js';
import { packageRoot } from '../package-info.js';
import { editDistance } from '../scenario/edit-distance.js';
import { yaml } from '../yaml-lib.js';

/**
 * The ready-made checks shipped in the package: scenario files in scenarios/checks/,
 * each named by its file's base name (`open-relay` for open-relay.yaml).
 */

export interface CheckInfo {
  /** The file's base name, as given to `--check`. */
  name: string;
  /** Absolute path of the scenario file. */
  path: string;
  /** The scenario's `description:`, on one line; empty when the file has none. */
  summary: string;
}

/** scenarios/checks/ of this package, wherever the code runs from. */
export function checksDir(): string {
  return join(packageRoot(), 'scenarios', 'checks');
}

/** Every check in `dir`, sorted by name. */
export function listChecks(dir: string = checksDir()): CheckInfo[] {
  return checkFiles(dir).map(({ name, path }) => ({ name, path, summary: summaryOf(readFileSync(path, 'utf8')) }));
}

function checkFiles(dir: string): { name: string; path: string }[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && extname(entry.name) === '.yaml')
    .map((entry) => entry.name)
    .sort()
    .map((file) => ({ name: basename(file, '.yaml'), path: join(dir, file) }));
}

/** The `description:` of a scenario's text, whitespace folded to one line; empty when absent or unreadable. */
export function summaryOf(source: string): string {
  try {
    const description: unknown = yaml.parseDocument(source).get('description');
    return typeof description === 'string' ? description.replace(/\s+/g, ' ').trim() : '';
  } catch {
    return '';
  }
}

/**
 * The scenario files of the named checks, in the order given, each once.
 * An unknown name is a UsageError that names it and, when one is close, the likely intended check.
 */
export function resolveChecks(names: string[], dir: string = checksDir()): string[] {
  const byName = new Map(checkFiles(dir).map((check) => [check.name, check.path]));
  const paths: string[] = [];
  for (const written of names) {
    const name = written.trim().replace(/\.ya?ml$/i, '');
    const path = byName.get(name) ?? byName.get(name.toLowerCase());
    if (path === undefined) throw new UsageError(unknownCheckMessage(written, [...byName.keys()]));
    if (!paths.includes(path)) paths.push(path);
  }
  return paths;
}

function unknownCheckMessage(name: string, known: string[]): string {
  const nearest = nearestName(name, known);
  const hint = nearest ? `did you mean "${nearest}"? ` : '';
  return `unknown check "${name}" (${hint}"smtpspec checks" lists them all)`;
}

/** The known name closest to a misspelt one, when it is close enough to be a likely typo. */
export function nearestName(name: string, known: string[]): string | undefined {
  const wanted = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(wanted, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  // Names are longer than keys: allow about one edit in four letters, at least one.
  const allowed = Math.max(1, Math.floor(wanted.length / 4));
  if (best !== undefined && bestDistance <= allowed) return best;
  // "relay" for "open-relay": a fragment of exactly one name.
  const containing = known.filter((candidate) => wanted.length >= 3 && candidate.includes(wanted));
  return containing.length === 1 ? containing[0] : undefined;
}
