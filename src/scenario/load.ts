import { dirname, resolve } from 'node:path';
import { ScenarioError, type SourceIssue } from '../errors.js';
import type { CertificateFiles } from '../smtp/certificate-files.js';
import type { ScenarioFile } from './as-written.js';
import { readReason, scenarioFiles } from './files.js';
import { IncludeResolver, type LoadedYaml } from './include.js';
import { normalizeScenario } from './normalize.js';
import type { Scenario } from './types.js';
import { schemaIssues } from './validate.js';
import { cleanIssues, decodeUtf8, parseYamlSource, readSourceFile, sizeIssue, type SourceKind } from './yaml-source.js';
import { FileReadError, LIMITS, readFileWithin } from '../read-file.js';
import { isRecord } from './context.js';
import { normalizationKey, type LoadCache, type ParsedSource } from './load-cache.js';

export interface LoadOptions {
  /** Command-line variables; they win over case and file variables. */
  vars?: Record<string, string>;
  /** Names of variables and environment variables whose values are secret (`--secret`), besides each file's `secrets:`. */
  secrets?: string[];
  /** For `${env:NAME}`; default: process.env. */
  env?: Record<string, string | undefined>;
  /** The deadline per reply where a file, case or step sets none; default 30 s (`--timeout`). */
  defaultTimeoutMs?: number;
  /** CA certificate files trusted for every scenario (`--ca`), relative to the current folder. */
  ca?: string[];
  /** Referenced files that do not exist are collected here instead of being problems (checking where they are not). */
  missingFiles?: Set<string>;
  /** The folder included files must be in (`--include-root`); default: the folder of the scenario file that includes them. */
  includeRoot?: string;
  /** Certificate files read so far in this run or check (each is read once); default: a store of this load's own. */
  certificates?: CertificateFiles;
  /** What this run or check has loaded so far: each file is read and parsed once, whatever the number of targets. */
  cache?: LoadCache;
}

const SCENARIO_SOURCE: SourceKind = {
  files: 'scenario files',
  document: 'a scenario file',
  empty: 'the file is empty: a scenario needs at least "cases:"',
};

/** Read as scenario files are, but the size limit names them and an empty one needs steps. */
const INCLUDED_SOURCE: SourceKind = { ...SCENARIO_SOURCE, files: 'included files', empty: 'the file is empty: an included file needs "steps:"' };

/** Parses, validates and normalises one scenario; throws a ScenarioError listing every problem found. */
export function parseScenario(source: string, file: string, options: LoadOptions = {}): Scenario {
  return normalizeSource(checkedSource(source, file), file, options);
}

/** The file's text parsed and checked against the schema; the problems that stop it as an error. */
function checkedSource(source: string, file: string): ParsedSource {
  const parsed = parseYamlSource(source, file, SCENARIO_SOURCE);
  if ('issues' in parsed) return { error: new ScenarioError(cleanIssues(parsed.issues)) };
  return { data: parsed.data, positions: parsed.positions, schemaIssues: schemaIssues(parsed.data, parsed.positions) };
}

/** A parsed scenario normalised with these options; throws a ScenarioError listing every problem found. */
function normalizeSource(parsed: ParsedSource, file: string, options: LoadOptions): Scenario {
  if ('error' in parsed) throw parsed.error;
  const { data, positions } = parsed;
  const issues = [...parsed.schemaIssues];
  if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
    const env = options.env ?? process.env;
    const root = resolve(options.includeRoot ?? dirname(resolve(file)));
    const included: string[] = [];
    const cache = options.cache;
    const includes = new IncludeResolver(
      (path) => {
        included.push(path);
        if (!cache) return loadIncludedFile(path);
        let loaded = cache.included.get(path);
        if (!loaded) {
          cache.counts.includeReads++;
          cache.included.set(path, (loaded = loadIncludedFile(path)));
        }
        return loaded;
      },
      root,
      options.includeRoot !== undefined,
    );
    const normalized = normalizeScenario(data as ScenarioFile, positions, {
      vars: options.vars ?? {},
      secrets: options.secrets ?? [],
      env,
      defaultTimeoutMs: options.defaultTimeoutMs,
      ca: (options.ca ?? []).map((path) => resolve(path)),
      includes,
      ...(options.missingFiles ? { missingFiles: options.missingFiles } : {}),
      ...(options.certificates ? { certificates: options.certificates } : {}),
    });
    for (const issue of [...includes.issues, ...normalized.issues]) issues.push(issue);
    if (issues.length === 0) return included.length > 0 ? { ...normalized.scenario, includes: included } : normalized.scenario;
  }
  throw new ScenarioError(cleanIssues(issues, file));
}

/**
 * Reads one scenario file; the path is kept as given in the result and in messages. With a cache,
 * the file is read, parsed and checked once, and normalised once for each distinct set of variables,
 * secret names and default timeout: targets that share them share the scenario.
 */
export async function loadScenarioFile(path: string, options: LoadOptions = {}): Promise<Scenario> {
  const cache = options.cache;
  if (!cache) return parseScenario(await readSourceFile(path, 'scenario files'), path, options);
  let source = cache.sources.get(path);
  if (!source) {
    source = readParsed(path, cache);
    cache.sources.set(path, source);
  }
  const parsed = await source;
  const key = normalizationKey(cache, path, options);
  let normalized = cache.normalized.get(key);
  if (!normalized) {
    cache.counts.normalizations++;
    try {
      normalized = normalizeSource(parsed, path, options);
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      normalized = error;
    }
    cache.normalized.set(key, normalized);
  }
  if (normalized instanceof Error) throw normalized;
  return normalized;
}

async function readParsed(path: string, cache: LoadCache): Promise<ParsedSource> {
  cache.counts.reads++;
  let source: string;
  try {
    source = await readSourceFile(path, 'scenario files');
  } catch (error) {
    if (error instanceof ScenarioError) return { error };
    throw error;
  }
  cache.counts.parses++;
  return checkedSource(source, path);
}

/**
 * Loads files, folders (searched recursively for *.yaml and *.yml, in sorted order) and patterns.
 * Problems in all files are collected into one ScenarioError.
 */
export async function loadScenarios(paths: string[], options: LoadOptions = {}): Promise<Scenario[]> {
  const files = await filesOf(paths, options.cache);
  const scenarios: Scenario[] = [];
  const issues: SourceIssue[] = [];
  for (const file of files) {
    try {
      scenarios.push(await loadScenarioFile(file, options));
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      for (const issue of error.issues) issues.push(issue);
    }
  }
  if (issues.length > 0) throw new ScenarioError(issues);
  return scenarios;
}

/** The scenario files the paths name; with a cache, each list of paths is searched once. */
function filesOf(paths: string[], cache: LoadCache | undefined): Promise<string[]> {
  if (!cache) return scenarioFiles(paths);
  const key = paths.join('\u0000');
  let found = cache.found.get(key);
  if (!found) cache.found.set(key, (found = scenarioFiles(paths)));
  return found;
}

// ---- included files ----

/**
 * A file of steps named by `include:`, read synchronously so that parseScenario stays
 * synchronous; the same limits apply as to scenario files.
 */
function loadIncludedFile(file: string): LoadedYaml {
  let bytes: Buffer;
  try {
    bytes = readFileWithin(file, LIMITS.scenario);
  } catch (error) {
    if (error instanceof FileReadError && error.problem.reason === 'too-big') return { issues: [sizeIssue(file, error.problem.bytes, 'included files')] };
    return { unreadable: readReason(error) };
  }
  // A file that is not a fragment of steps (`include: /etc/shadow`) is refused for what it is not; nothing it says is shown.
  let source: string;
  try {
    source = decodeUtf8(bytes, file);
  } catch (error) {
    if (error instanceof ScenarioError) return { unreadable: notFragment('it is not UTF-8 text') };
    throw error;
  }
  const parsed = parseYamlSource(source, file, INCLUDED_SOURCE);
  if ('issues' in parsed) return STEPS_LINE.test(source) ? { issues: parsed.issues } : { unreadable: notFragment('it is not YAML with "steps:"') };
  if (!isRecord(parsed.data)) return { unreadable: notFragment('it is not a YAML map') };
  if (!('steps' in parsed.data)) return { unreadable: notFragment('it has no "steps:"') };
  return parsed;
}

/** A line that starts a `steps:` key, in block or flow style: the mark of a file meant as a fragment. */
const STEPS_LINE = /^[ \t]*\{?[ \t]*["']?steps["']?[ \t]*:/m;

function notFragment(why: string): string {
  return `it is not a scenario fragment (${why})`;
}
