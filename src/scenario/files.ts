import { closeSync, openSync, readdir as readdirCallback, readSync, stat as statCallback, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../errors.js';
import { FileReadError, LIMITS, OPEN_FLAGS, problemOf, problemText, readFileWithin, shortPath, typeProblem } from '../read-file.js';
import { CertificateFileError, certificateProblemText, type CertificateFiles, type CertificateKind, type CertificateProblem } from '../smtp/certificate-files.js';
import { byCodeUnits, expandPattern, isPattern, isSearchedFolder } from './glob.js';
import { parseYamlDocument, type YamlDocument } from './positions.js';
import { yaml } from '../yaml-lib.js';

// The callback forms, promised: node:fs/promises would be one more module to load at start-up.
const stat = promisify(statCallback);
const readdir = promisify(readdirCallback);

/** Finding the scenario files that command-line arguments and manifests name, and saying why one cannot be read. */

const SCENARIO_EXTENSIONS = new Set(['.yaml', '.yml']);

/** Scenario files and manifests larger than this are refused before they are parsed. */
export const MAX_FILE_BYTES = LIMITS.scenario.maxBytes;

/**
 * The three kinds of YAML file smtpspec reads, told apart by their top-level keys: a manifest has
 * `targets:` and no `cases:`; a file of steps for `include:` has `steps:` and nothing but `description:`
 * and `vars:` beside it. Anything else is a scenario, and is checked as one: a scenario written with
 * `steps:` at the top by mistake still gets its errors, because it has a `name:` or a `target:` too.
 */
export type YamlFileKind = 'scenario' | 'manifest' | 'steps';

const STEPS_FILE_KEYS = new Set(['steps', 'description', 'vars']);
const TOP_LEVEL_CASES = /^cases[ \t]*:/m;

/** What the file at `path` (or `source`, its text) is; a file that cannot be read or parsed counts as a scenario. */
export function yamlFileKind(path: string, source?: string): YamlFileKind {
  return detectYamlFile(path, source).kind;
}

/** A YAML file told apart: its kind, and the text and document parsed to tell it, for whoever loads it next. */
export interface DetectedYaml {
  kind: YamlFileKind;
  text?: string;
  document?: YamlDocument;
}

/** What the file at `path` (or `source`, its text) is, keeping what was parsed to tell it. */
export function detectYamlFile(path: string, source?: string): DetectedYaml {
  const text = source === undefined ? readForDetection(path) : detectionPart(source);
  if (text === undefined) return { kind: 'scenario' };
  // Nearly every file is a scenario with `cases:` at the start of a line (nothing nested starts there):
  // it is parsed once, when it is loaded, not here too.
  if (TOP_LEVEL_CASES.test(text)) return { kind: 'scenario' };
  const parsed = parseYamlDocument(text, path);
  if ('problem' in parsed) return { kind: kindByLines(text) };
  const contents = parsed.doc.contents;
  if (!yaml.isMap(contents)) return { kind: 'scenario' };
  const keys = contents.items.map((pair) => (yaml.isScalar(pair.key) ? String(pair.key.value) : ''));
  return { kind: kindOfKeys(keys), text, document: parsed };
}

function kindOfKeys(keys: string[]): YamlFileKind {
  if (keys.includes('cases')) return 'scenario';
  if (keys.includes('targets')) return 'manifest';
  return keys.includes('steps') && keys.every((key) => STEPS_FILE_KEYS.has(key)) ? 'steps' : 'scenario';
}

/** For text the YAML parser gave up on: block-style top-level keys, read line by line. */
function kindByLines(text: string): YamlFileKind {
  return kindOfKeys([...text.matchAll(/^([A-Za-z_][\w-]*)[ \t]*:/gm)].map((match) => match[1]!));
}

/** How much of a file over the size limit is read to tell what it is (loading it will refuse it). */
const DETECTION_BYTES = 16 * 1024;

function detectionPart(source: string): string {
  return source.length > MAX_FILE_BYTES ? source.slice(0, DETECTION_BYTES) : source;
}

/** Enough of a file to tell what it is: all of it (read once, as loading reads it), or its start when it is over the size limit. */
function readForDetection(path: string): string | undefined {
  try {
    return readFileWithin(path, LIMITS.scenario).toString('utf8');
  } catch (error) {
    if (!(error instanceof FileReadError) || error.problem.reason !== 'too-big' || error.problem.bytes === undefined) return undefined;
  }
  try {
    const head = Buffer.alloc(DETECTION_BYTES);
    const fd = openSync(path, OPEN_FLAGS);
    try {
      return head.toString('utf8', 0, readSync(fd, head, 0, head.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** What command-line arguments name: scenario files, and the manifests that folders and patterns meet. */
export interface FoundFiles {
  scenarios: string[];
  manifests: string[];
}

/** The scenario files that files, folders (searched recursively) and patterns name, each once, in order. */
export async function scenarioFiles(paths: string[]): Promise<string[]> {
  return (await findFiles(paths)).scenarios;
}

/**
 * Scenario files, each once, in order. A file named on its own is taken for a scenario; in folders and
 * among a pattern's matches, manifests and files of steps for `include:` are left out (the manifests
 * found are listed apart): a folder of checks often holds its manifest and shared steps too.
 */
export async function findFiles(paths: string[]): Promise<FoundFiles> {
  const scenarios: string[] = [];
  const manifests: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch((error: unknown) => {
      // A path that names nothing may be a pattern the shell left alone (Windows, or quoted).
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && isPattern(path)) return undefined;
      throw readError(path, error);
    });
    if (info !== undefined && !info.isDirectory()) {
      scenarios.push(path);
      continue;
    }
    const found = sortByKind(info === undefined ? await patternFiles(path) : await folderFiles(path));
    if (found.scenarios.length === 0) throw new UsageError(noScenarios(path, info === undefined, found));
    scenarios.push(...found.scenarios);
    manifests.push(...found.manifests);
  }
  return { scenarios: distinctFiles(scenarios), manifests: distinctFiles(manifests) };
}

/** A file as reports show it: relative to the working folder when it is under it, else absolute. */
export function shownPath(path: string, cwd: string = process.cwd()): string {
  const near = relative(cwd, resolve(cwd, path));
  if (near === '') return '.';
  return near === '..' || near.startsWith(`..${sep}`) || isAbsolute(near) ? path : near;
}

/** Each file once, in order, however it is written. */
export function distinctFiles(files: string[]): string[] {
  const seen = new Set<string>();
  return files.filter((file) => {
    const absolute = resolve(file);
    return !seen.has(absolute) && seen.add(absolute);
  });
}

function sortByKind(files: string[]): FoundFiles & { steps: string[] } {
  const found: FoundFiles & { steps: string[] } = { scenarios: [], manifests: [], steps: [] };
  for (const file of files) {
    const kind = yamlFileKind(file);
    (kind === 'scenario' ? found.scenarios : kind === 'manifest' ? found.manifests : found.steps).push(file);
  }
  return found;
}

function noScenarios(path: string, pattern: boolean, found: FoundFiles & { steps: string[] }): string {
  const where = pattern ? `match "${path}"` : `in "${path}"`;
  if (found.manifests.length > 0) return `no scenario files ${where}: ${found.manifests[0]} is a manifest; run it on its own`;
  if (found.steps.length > 0) return `no scenario files ${where}, only files of steps for include: (${found.steps[0]})`;
  return `no scenario files (*.yaml, *.yml) ${where}`;
}

async function folderFiles(path: string): Promise<string[]> {
  return (await filesUnder(path)).sort(byCodeUnits);
}

export interface PatternMatch {
  /** Written the way the pattern is. */
  path: string;
  /** A folder is searched for scenario files as a folder argument is. */
  folder: boolean;
}

/**
 * What a pattern names for a run: the files among its matches with a scenario extension
 * (a pattern such as `scenarios/*` also meets other files), and the folders it matches,
 * to be searched as folder arguments are.
 */
export function patternMatches(pattern: string, cwd: string): PatternMatch[] {
  return expandPattern(pattern, cwd).flatMap((path): PatternMatch[] => {
    const info = statSync(resolve(cwd, path), { throwIfNoEntry: false });
    if (info?.isDirectory()) return [{ path, folder: true }];
    return info?.isFile() && SCENARIO_EXTENSIONS.has(extname(path).toLowerCase()) ? [{ path, folder: false }] : [];
  });
}

async function patternFiles(pattern: string): Promise<string[]> {
  const files: string[] = [];
  for (const match of patternMatches(pattern, process.cwd())) {
    files.push(...(match.folder ? await folderFiles(match.path) : [match.path]));
  }
  return files;
}

/** Scenario files below dir; dot-folders and node_modules are skipped, symbolic links to folders are not followed. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const found: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (isSearchedFolder(entry.name)) found.push(...(await filesUnder(path)));
    } else if (SCENARIO_EXTENSIONS.has(extname(entry.name).toLowerCase()) && (await isFile(path))) {
      found.push(path);
    }
  }
  return found;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isFile(),
    () => false,
  );
}

/** A file named on the command line that cannot be read: one sentence, its path shortened. */
export function readError(path: string, error: unknown): Error {
  const missing = (error instanceof FileReadError ? error.problem : problemOf(error)).reason === 'missing';
  return new UsageError(`cannot read "${shortPath(path)}": ${missing ? 'no such file or directory' : readReason(error)}`);
}

/** Why a file cannot be read, in words that do not repeat its path. */
export function readReason(error: unknown): string {
  return problemText(error instanceof FileReadError ? error.problem : problemOf(error));
}

/** The files a scenario or manifest names for a run to read. */
export type ReferencedKind = 'message file' | 'attachment' | CertificateKind;

/**
 * Why a file a run will read (`what`), written as `written`, cannot be used, or undefined: it must be a
 * regular file within its kind's limit, and a certificate or key must hold one in PEM (each read once,
 * into `certificates`). A missing one is only added to `missingFiles` when that is given: checking
 * where the run does not happen (a lint job without the certificates).
 */
export function referencedFileProblem(
  absolute: string,
  written: string,
  what: ReferencedKind,
  missingFiles: Set<string> | undefined,
  certificates: CertificateFiles,
): string | undefined {
  const shown = `${what} "${shortPath(written)}"`;
  let problem: CertificateProblem | undefined;
  if (what === 'message file' || what === 'attachment') {
    try {
      const read = typeProblem(statSync(absolute), LIMITS.message);
      problem = read && { read };
    } catch (error) {
      problem = { read: problemOf(error) };
    }
  } else {
    problem = certificates.check(absolute, what);
  }
  if (problem === undefined) return undefined;
  if ('read' in problem && problem.read.reason === 'missing') {
    if (missingFiles) return void missingFiles.add(absolute);
    return `${shown} does not exist (looked for ${shortPath(absolute)})`;
  }
  return `${shown}: ${certificateProblemText(problem)}`;
}

/** Why one of the CA files given with `--ca` cannot be used, or undefined: checked before anything connects. */
export async function caProblem(files: readonly string[], certificates: CertificateFiles): Promise<string | undefined> {
  try {
    for (const file of files) await certificates.readFlag('--ca', file, 'CA certificate');
  } catch (error) {
    if (error instanceof CertificateFileError) return error.message;
    throw error;
  }
  return undefined;
}
