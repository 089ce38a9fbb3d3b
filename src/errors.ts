/** A position in a source file; line and col are 1-based. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

/** One problem found in an input file, always tied to a position. */
export interface SourceIssue {
  pos: SourcePos;
  message: string;
}

export function formatPos(pos: SourcePos): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}

/** Renders an issue the way compilers do: `file:line:col: message`. */
export function formatIssue(issue: SourceIssue): string {
  return `${formatPos(issue.pos)}: ${issue.message}`;
}

/** Bad command-line use: unknown option, missing argument, unusable value. Exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * A file or address named on the command line cannot be used (a file that cannot be written, an address that
 * cannot be listened on): one sentence, exit code 2. Unlike UsageError, the command line itself was well formed.
 */
export class InputError extends Error {
  override name = 'InputError';
}

/** An error the system reported (a failed system call or name lookup, with its errno code), as opposed to a fault in the code. */
export function isSystemError(error: unknown): error is NodeJS.ErrnoException & { code: string; syscall: string } {
  const { code, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  return error instanceof Error && typeof code === 'string' && typeof syscall === 'string';
}

/** One or more scenario files are unusable; every issue carries its position. Exit code 2. */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
  constructor(readonly issues: SourceIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}
