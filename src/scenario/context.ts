import { dirname, resolve } from 'node:path';
import type { SourceIssue, SourcePos } from '../errors.js';
import { referencedFileProblem, type ReferencedKind } from './files.js';
import { CertificateFiles } from '../smtp/certificate-files.js';
import type { Interpolator, UnknownNameRule } from './interpolate.js';
import { comparePos, type DataPath, type PositionFinder } from './positions.js';
import type { RuntimeText } from './types.js';

/** Names captured from replies within one case, as seen from one step. */
export interface CaptureScope {
  /** Captured by an earlier step: usable as run-time placeholders. */
  earlier: ReadonlySet<string>;
  /** Captured only by this step or a later one → where the first such step is written. */
  later: ReadonlyMap<string, SourcePos>;
}

/** Where text is expanded: the variables in force and, inside a case's steps, the captured names. */
export interface Scope {
  interpolator: Interpolator;
  captures?: CaptureScope;
}

/** How a field is expanded. */
export interface Field {
  /** The field in messages: `send`, `mail`, `auth password`. */
  label: string;
  /** CR or LF in the result is an error. */
  oneLine?: boolean;
}

/** Collects the problems, warnings and secrets found while normalising one file. */
export class NormalizeContext {
  readonly issues: SourceIssue[];
  readonly warnings: SourceIssue[];
  readonly secrets: Set<string>;

  /** Where referenced files that do not exist are collected instead of being problems (validate, list). */
  readonly missingFiles: Set<string> | undefined;

  /** Certificate files, each read once for every scenario of a run or check. */
  readonly certificates: CertificateFiles;

  /** With shared, problems, warnings and secrets go to the lists of that context. */
  constructor(
    readonly positions: PositionFinder,
    shared?: NormalizeContext,
    missingFiles?: Set<string>,
    certificates?: CertificateFiles,
  ) {
    this.issues = shared?.issues ?? [];
    this.warnings = shared?.warnings ?? [];
    this.secrets = shared?.secrets ?? new Set();
    this.missingFiles = shared?.missingFiles ?? missingFiles;
    this.certificates = shared?.certificates ?? certificates ?? new CertificateFiles();
  }

  /** A context for another file (an included one) that records into this one's lists. */
  forFile(positions: PositionFinder): NormalizeContext {
    return positions === this.positions ? this : new NormalizeContext(positions, this);
  }

  /** The folder relative paths in the file are resolved against. */
  get folder(): string {
    return dirname(this.positions.file);
  }

  /** An absolute path: relative ones are taken from the scenario file's folder. */
  resolvePath(path: string): string {
    return resolve(this.folder, path);
  }

  /**
   * The absolute path of a file the run will read (`what`: "message file"), written at `path`.
   * One that is missing is a problem now, before any session starts, not a failure halfway
   * through one; where missing files are only collected (a lint job without the certificates), it is noted.
   */
  filePath(written: string, path: DataPath, what: ReferencedKind): string {
    const absolute = this.resolvePath(written);
    const problem = referencedFileProblem(absolute, written, what, this.missingFiles, this.certificates);
    if (problem) this.error(this.at(path), problem);
    return absolute;
  }

  at(path: DataPath): SourcePos {
    return this.positions.at(path);
  }

  keyAt(path: DataPath, key: string): SourcePos {
    return this.positions.keyAt(path, key);
  }

  /** The key of the map at path written last among keys (for "cannot have both" messages). */
  laterKey(path: DataPath, keys: readonly string[]): SourcePos {
    const found = keys.map((key) => this.keyAt(path, key));
    return found.reduce((later, pos) => (comparePos(pos, later) > 0 ? pos : later));
  }

  error(pos: SourcePos, message: string): void {
    this.issues.push({ pos, message });
  }

  warn(pos: SourcePos, message: string): void {
    this.warnings.push({ pos, message });
  }

  secret(value: string | undefined): void {
    if (value) this.secrets.add(value);
  }

  /** The expanded text, or undefined (with issues recorded) when it cannot be resolved. Captured names are errors here. */
  expand(scope: Scope, template: string, path: DataPath, field: Field): string | undefined {
    const result = this.expandParts(scope, template, path, field, false);
    return result === undefined ? undefined : result.text;
  }

  /** The expanded text as it may be shown (secret variables' expansions masked), for names and messages. */
  expandShown(scope: Scope, template: string, path: DataPath, field: Field): string | undefined {
    const result = this.expandParts(scope, template, path, field, false);
    return result === undefined ? undefined : result.shown;
  }

  /** The expanded text and how it may be shown (secret variables' expansions masked). */
  expandBoth(scope: Scope, template: string, path: DataPath, field: Field): { text: string; shown: string } | undefined {
    const result = this.expandParts(scope, template, path, field, false);
    return result === undefined ? undefined : { text: result.text, shown: result.shown };
  }

  /** Like expand, but names captured by earlier steps stay placeholders filled at run time. */
  expandRuntime(scope: Scope, template: string, path: DataPath, field: Field): RuntimeText | undefined {
    const result = this.expandParts(scope, template, path, field, true);
    if (result === undefined) return undefined;
    const { parts } = result;
    return parts.every((part) => typeof part === 'string') ? parts.join('') : { parts };
  }

  private expandParts(scope: Scope, template: string, path: DataPath, field: Field, runtime: boolean) {
    const pos = this.at(path);
    const rule = scope.captures ? captureRule(scope.captures, field.label, runtime, pos) : undefined;
    const expansion = scope.interpolator.expand(template, pos, rule);
    for (const issue of expansion.issues) this.issues.push(issue);
    for (const secret of expansion.secrets) this.secret(secret);
    if (field.oneLine) {
      const from = expansion.lineBreakFrom ?? (/[\r\n]/.test(template) ? 'it' : undefined);
      if (from) this.error(pos, `${field.label} must be one line: ${from} contains a line break`);
    }
    return expansion.issues.length > 0 ? undefined : expansion;
  }
}

function captureRule(captures: CaptureScope, label: string, runtime: boolean, usedAt: SourcePos): UnknownNameRule {
  return (name) => {
    if (captures.earlier.has(name)) {
      if (runtime) return 'capture';
      return { error: `variable "${name}" is captured at run time and cannot be used in ${label} (only in send, pipeline and data text)` };
    }
    const at = captures.later.get(name);
    if (at === undefined) return undefined;
    const where = at.file === usedAt.file ? `line ${at.line}` : `line ${at.line} of ${at.file}`;
    return { error: `variable "${name}" is captured by the step on ${where}, so it can only be used after that step` };
  };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The keys of a written map that are among the given ones, in the order given. */
export function presentKeys<K extends string>(written: Record<string, unknown>, keys: readonly K[]): K[] {
  return keys.filter((key) => written[key] !== undefined);
}
