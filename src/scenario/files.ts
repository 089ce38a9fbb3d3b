import { accessSync, constants, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { byCodeUnits, expandPattern, isPattern } from './glob.js';
import { firstLine } from './positions.js';

/** Finding the scenario files that command-line arguments and manifests name, and saying why one cannot be read. */

const SCENARIO_EXTENSIONS = new Set(['.yaml', '.yml']);

/** The scenario files that files, folders (searched recursively) and patterns name, each once, in order. */
export async function scenarioFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch((error: unknown) => {
      // A path that names nothing may be a pattern the shell left alone (Windows, or quoted).
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && isPattern(path)) return undefined;
      throw readError(path, error);
    });
    if (info === undefined) {
      files.push(...(await patternFiles(path)));
      continue;
    }
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    files.push(...(await folderFiles(path)));
  }
  const seen = new Set<string>();
  return files.filter((file) => !seen.has(resolve(file)) && seen.add(resolve(file)));
}

async function folderFiles(path: string): Promise<string[]> {
  const found = (await filesUnder(path)).sort(byCodeUnits);
  if (found.length === 0) throw new UsageError(`no scenario files (*.yaml, *.yml) in "${path}"`);
  return found;
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
    files.push(...(match.folder ? (await filesUnder(match.path)).sort(byCodeUnits) : [match.path]));
  }
  if (files.length === 0) throw new UsageError(`no scenario files (*.yaml, *.yml) match "${pattern}"`);
  return files;
}

/** Scenario files below dir; dot-folders and node_modules are skipped, symbolic links to folders are not followed. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const found: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!entry.name.startsWith('.') && entry.name !== 'node_modules') found.push(...(await filesUnder(path)));
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

export function readError(path: string, error: unknown): Error {
  return new UsageError(`cannot read "${path}": ${readReason(error, 'no such file or directory')}`);
}

export function readReason(error: unknown, missing: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    ENOENT: missing,
    ENOTDIR: missing,
    EACCES: 'permission denied',
    EISDIR: 'it is a folder',
  };
  return (code && reasons[code]) ?? firstLine((error as Error).message);
}

/**
 * Why a file a run will read (`what`: "message file", "CA certificate"), written as `written`,
 * cannot be used, or undefined. A missing one is only added to `missingFiles` when that is given:
 * checking where the run does not happen (a lint job without the certificates).
 */
export function referencedFileProblem(absolute: string, written: string, what: string, missingFiles: Set<string> | undefined): string | undefined {
  const info = statSync(absolute, { throwIfNoEntry: false });
  if (!info && missingFiles) missingFiles.add(absolute);
  else if (!info) return `${what} "${written}" does not exist (looked for ${absolute})`;
  else if (!info.isFile()) return `${what} "${written}" is not a file`;
  return undefined;
}

/** Why one of the CA files given with `--ca` cannot be used, or undefined: checked before anything connects. */
export function caProblem(files: readonly string[]): string | undefined {
  for (const file of files) {
    try {
      accessSync(file, constants.R_OK);
    } catch {
      return `cannot read the CA file ${file}`;
    }
  }
  return undefined;
}
