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

/** One or more scenario files are unusable; every issue carries its position. Exit code 2. */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
  constructor(readonly issues: SourceIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}
