import type { SourceIssue } from '../errors.js';
import type { LoadedYaml } from './include.js';
import type { PositionFinder } from './positions.js';
import type { Scenario } from './types.js';

/**
 * What one run or check has loaded so far, so that a scenario file named by many targets of a
 * manifest is read, parsed and checked against the schema once, and normalised once for each
 * distinct set of the inputs normalisation depends on (variables, secret names, default timeout).
 * It lives as long as the run or check that makes it, and is passed through its planning.
 */
export class LoadCache {
  /** The file's text parsed and checked against the schema, or the problems that stopped it, by path as given. */
  readonly sources = new Map<string, Promise<ParsedSource>>();
  /** Normalised scenarios (or the error they threw), by path as given and the inputs that shaped them. */
  readonly normalized = new Map<string, Scenario | Error>();
  /** Included files read and parsed, by absolute path. */
  readonly included = new Map<string, LoadedYaml>();
  /** The scenario files each list of paths names (folders searched, patterns expanded). */
  readonly found = new Map<string, Promise<string[]>>();
  /** The key of each options object's normalisation inputs, made once for all the files it loads. */
  readonly inputKeys = new WeakMap<object, string>();
  /** How often each kind of work was done: for tests that check the work is done once. */
  readonly counts = { reads: 0, parses: 0, normalizations: 0, includeReads: 0 };
}

/** A scenario file parsed and checked against the schema: its data and positions, and the schema's problems. */
export type ParsedSource = { data: unknown; positions: PositionFinder; schemaIssues: readonly SourceIssue[] } | { error: Error };

interface NormalizationInputs {
  vars?: Record<string, string>;
  secrets?: readonly string[];
  defaultTimeoutMs?: number | undefined;
}

/**
 * What normalisation depends on beyond the file itself, as one key. The other options (environment,
 * --ca, --include-root) are the same for the whole run or check the cache belongs to.
 */
export function normalizationKey(cache: LoadCache, file: string, inputs: NormalizationInputs): string {
  let key = cache.inputKeys.get(inputs);
  if (key === undefined) {
    // Variables in their order: it is the order of each case's variables.
    key = JSON.stringify([Object.entries(inputs.vars ?? {}), inputs.secrets ?? [], inputs.defaultTimeoutMs ?? null]);
    cache.inputKeys.set(inputs, key);
  }
  return `${file}\u0000${key}`;
}
