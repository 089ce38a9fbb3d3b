import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { SourceIssue, SourcePos } from '../errors.js';
import type { IncludedFileAsWritten } from './as-written.js';
import { isRecord } from './context.js';
import { shortPath } from '../read-file.js';
import type { DataPath, PositionFinder } from './positions.js';
import { schemaIssues } from './validate.js';

/**
 * `- include: preludes/tls-auth.yaml` stands for the steps of that file. Each step keeps the
 * file it is written in, so that problems and step results point into the included file.
 */

/** Included files may include others this deep. */
export const MAX_INCLUDE_DEPTH = 16;

/** A file read and parsed for inclusion, or why it could not be. */
export type LoadedYaml = { data: unknown; positions: PositionFinder } | { issues: SourceIssue[] } | { unreadable: string };

/** An included file: where it is and what it says (checked against schema/steps.schema.json). */
export interface IncludedFile {
  positions: PositionFinder;
  data: Partial<IncludedFileAsWritten>;
}

/** One step of a case after includes are expanded. */
export interface StepSource {
  written: unknown;
  /** The step's path in the file it is written in. */
  path: DataPath;
  positions: PositionFinder;
  /** The included files it comes through, outermost first; empty for a step of the scenario itself. */
  via: readonly IncludedFile[];
}

/** What one expansion has passed through, to notice cycles and name them. */
interface Trail {
  via: IncludedFile[];
  /** Absolute paths of the files, the scenario first. */
  keys: string[];
  /** The same files as shown in messages. */
  shown: string[];
}

/** Expands includes for one scenario file; each included file is read and checked once. */
export class IncludeResolver {
  readonly issues: SourceIssue[] = [];
  private readonly loaded = new Map<string, IncludedFile | { unreadable: string } | undefined>();

  /**
   * `root`: the folder every included file must be in (absolute); `rootGiven`: it was given with
   * `--include-root`, rather than being the folder of the scenario file.
   */
  constructor(
    private readonly load: (file: string) => LoadedYaml,
    private readonly root: string,
    private readonly rootGiven = false,
  ) {}

  /** The steps of a case (at path in the scenario), each include replaced by the steps it names. */
  steps(written: readonly unknown[], path: DataPath, positions: PositionFinder): StepSource[] {
    const trail: Trail = { via: [], keys: [resolve(positions.file)], shown: [positions.file] };
    return this.expand(written, path, positions, trail);
  }

  private expand(written: readonly unknown[], path: DataPath, positions: PositionFinder, trail: Trail): StepSource[] {
    const sources: StepSource[] = [];
    written.forEach((step, index) => {
      const stepPath = [...path, index];
      const include = isRecord(step) ? step['include'] : undefined;
      if (include === undefined) sources.push({ written: step, path: stepPath, positions, via: trail.via });
      // Any other value is a schema problem, reported already.
      else if (typeof include === 'string' && include !== '') {
        sources.push(...this.included(include, positions.at([...stepPath, 'include']), positions, trail));
      }
    });
    return sources;
  }

  private included(include: string, at: SourcePos, from: PositionFinder, trail: Trail): StepSource[] {
    const shown = isAbsolute(include) ? include : join(dirname(from.file), include);
    const key = resolve(shown);
    const cycleStart = trail.keys.indexOf(key);
    if (cycleStart >= 0) {
      const cycle = [...trail.shown.slice(cycleStart), shown].join(' → ');
      return this.fail(at, `cannot include "${shortPath(include)}": the includes form a cycle (${cycle})`);
    }
    if (trail.via.length >= MAX_INCLUDE_DEPTH) {
      return this.fail(at, `cannot include "${shortPath(include)}": includes may nest at most ${MAX_INCLUDE_DEPTH} deep`);
    }
    if (!this.insideRoot(key)) {
      const where = this.rootGiven ? `the --include-root folder ${shortPath(this.root)}` : `${shortPath(this.root)}, the folder of the scenario file (--include-root DIR allows another)`;
      return this.fail(at, `cannot include "${shortPath(include)}": it is outside ${where}`);
    }
    const file = this.file(shown, key);
    if (file === undefined) return [];
    if ('unreadable' in file) return this.fail(at, `cannot include "${shortPath(include)}": ${file.unreadable}`);
    const steps = Array.isArray(file.data.steps) ? file.data.steps : [];
    const next: Trail = { via: [...trail.via, file], keys: [...trail.keys, key], shown: [...trail.shown, shown] };
    return this.expand(steps, ['steps'], file.positions, next);
  }

  /** Whether the file is in the root folder, as written and, where it exists, once symbolic links are followed. */
  private insideRoot(key: string): boolean {
    if (!isInside(this.root, key)) return false;
    const real = realPath(key);
    const realRoot = realPath(this.root);
    return real === undefined || realRoot === undefined || isInside(realRoot, real);
  }

  /** The file, read and checked on first use; undefined when its problems are already reported. */
  private file(shown: string, key: string): IncludedFile | { unreadable: string } | undefined {
    if (this.loaded.has(key)) return this.loaded.get(key);
    const loaded = this.load(shown);
    let file: IncludedFile | { unreadable: string } | undefined;
    if ('unreadable' in loaded) {
      file = loaded;
    } else if ('issues' in loaded) {
      for (const issue of loaded.issues) this.issues.push(issue);
    } else {
      for (const issue of schemaIssues(loaded.data, loaded.positions, 'steps')) this.issues.push(issue);
      file = { positions: loaded.positions, data: isRecord(loaded.data) ? loaded.data : {} };
    }
    this.loaded.set(key, file);
    return file;
  }

  private fail(pos: SourcePos, message: string): [] {
    this.issues.push({ pos, message });
    return [];
  }
}

function isInside(folder: string, path: string): boolean {
  const rest = relative(folder, path);
  return rest !== '' && rest !== '..' && !rest.startsWith(`..${sep}`) && !isAbsolute(rest);
}

function realPath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}
