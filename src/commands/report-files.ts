import { statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { prepareFolderFor } from '../atomic-file.js';
import { InputError } from '../errors.js';
import { shownPath } from '../scenario/files.js';
import type { Scenario } from '../scenario/types.js';
import type { ReportFile } from './report-ledger.js';

/**
 * The report files a command writes (`--junit`, `--json`, `--tap`, `--html`): checked before the
 * run starts, so that a report never replaces a file the run reads, never lands on a folder, and
 * never finds at the end that its folder cannot be made. (report-ledger.ts counts them as they are written.)
 */

/** A file the run reads, and what it is to the run: `the scenario file`, `the client key`. */
export interface InputFile {
  path: string;
  what: string;
}

/** Every file that loading the scenarios read or that their sessions will read. */
export function scenarioInputs(scenarios: readonly Scenario[]): InputFile[] {
  return scenarios.flatMap((scenario) => [
    { path: scenario.file, what: 'the scenario file' },
    ...(scenario.includes ?? []).map((path) => ({ path, what: 'the included file' })),
    ...scenario.tls.ca.map((path) => ({ path, what: 'the CA certificate' })),
    ...(scenario.tls.cert ? [{ path: scenario.tls.cert, what: 'the client certificate' }] : []),
    ...(scenario.tls.key ? [{ path: scenario.tls.key, what: 'the client key' }] : []),
    ...scenario.cases.flatMap((kase) =>
      kase.steps.flatMap((step): InputFile[] => {
        // A step keeps the file it is written in: an included one, too.
        const source = step.pos.file === scenario.file ? [] : [{ path: step.pos.file, what: 'the included file' }];
        const action = step.action;
        if (action.type !== 'data') return source;
        if (action.source.kind === 'file') return [...source, { path: action.source.path, what: 'the message file' }];
        if (action.source.kind === 'compose') return [...source, ...action.source.attachments.map((a) => ({ path: a.path, what: 'the attachment' }))];
        return source;
      }),
    ),
  ]);
}

/** A path, and the file at it when there is one: two names of one file have the same device and inode. */
interface Identity {
  absolute: string;
  stats: Stats | undefined;
}

function identify(path: string): Identity {
  let stats: Stats | undefined;
  try {
    stats = statSync(path);
  } catch {
    stats = undefined; // not there (yet), or not reachable: the path alone is compared
  }
  return { absolute: resolve(path), stats };
}

function sameFile(a: Identity, b: Identity): boolean {
  if (a.absolute === b.absolute) return true;
  return a.stats !== undefined && b.stats !== undefined && a.stats.dev === b.stats.dev && a.stats.ino === b.stats.ino;
}

/**
 * Refuses, as unusable input, a report path that is a folder or another kind of file that is not a
 * regular one, two reports on one file, and a report on a file the run reads; then makes each
 * report's folder and checks a file can be written in it. Throws an InputError with one sentence.
 */
export function prepareReportFiles(reports: readonly ReportFile[], inputs: readonly InputFile[]): void {
  const identities = reports.map((report) => identify(report.path));
  reports.forEach((report, index) => {
    const stats = identities[index]!.stats;
    if (stats?.isDirectory()) throw new InputError(`${report.flag} ${report.path} is a folder; name a file for the report`);
    if (stats && !stats.isFile()) throw new InputError(`${report.flag} ${report.path} is not a regular file; a report is written as a file of its own`);
    reports.slice(0, index).forEach((earlier, before) => {
      if (sameFile(identities[before]!, identities[index]!)) {
        throw new InputError(`${earlier.flag} ${earlier.path} and ${report.flag} ${report.path} name the same file; give each report its own`);
      }
    });
  });
  for (const input of inputs) {
    const identity = identify(input.path);
    const index = identities.findIndex((report) => sameFile(report, identity));
    const report = reports[index];
    if (report) throw new InputError(`${report.flag} ${report.path} is ${input.what} ${shownPath(input.path)}; a ${report.noun ?? 'report'} never replaces an input`);
  }
  for (const report of reports) {
    try {
      prepareFolderFor(report.path);
    } catch (error) {
      // The system call says which part failed: making the folder, or a file in it.
      const folder = dirname(report.path);
      const failed = (error as NodeJS.ErrnoException).syscall === 'mkdir' ? `the folder ${folder} cannot be made` : `no file can be written in the folder ${folder}`;
      throw new InputError(`${report.flag} ${report.path}: ${failed} (${systemReason(error)})`);
    }
  }
}

function systemReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or folder',
    ENOTDIR: 'a part of its path is a file, not a folder',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    ENAMETOOLONG: 'the name is too long',
  };
  return (code && reasons[code]) ?? (error instanceof Error ? error.message : String(error));
}
