import { existsSync } from 'node:fs';

/**
 * The report files a command writes (`--junit`, `--json`, `--tap`, `--html`), and which of them are
 * written so far: what an interrupted run says it leaves. Known from the parsed command line on, so a
 * signal at any moment can say it. (report-files.ts checks their paths before a run.)
 */

/** A report file as the command line names it. */
export interface ReportFile {
  /** `--junit` */
  flag: string;
  /** As given. */
  path: string;
  /** What the file is, in messages; default `report` (`send --save` writes a `saved scenario`). */
  noun?: string;
}

/** The report files of a command's options, in the order of the flags. */
export function reportFilesOf(options: { junitFile?: string | undefined; jsonFile?: string | undefined; tapFile?: string | undefined; htmlFile?: string | undefined; openmetricsFile?: string | undefined }): ReportFile[] {
  const named: [string, string | undefined][] = [
    ['--junit', options.junitFile],
    ['--json', options.jsonFile],
    ['--tap', options.tapFile],
    ['--html', options.htmlFile],
    ['--openmetrics', options.openmetricsFile],
  ];
  return named.flatMap(([flag, path]) => (path ? [{ flag, path }] : []));
}

/**
 * The reports a run was asked for, and those written so far. A report counts as written once it is
 * in place (fileSink's onWritten, called before any signal's handler can run), so what an
 * interrupted run says about its reports is what is on the disk.
 */
export class ReportLedger {
  private readonly reports: (ReportFile & { written: boolean })[] = [];

  /** A report the command will write; the same one named again is counted once. */
  expect(report: ReportFile): void {
    if (!this.reports.some((r) => r.flag === report.flag && r.path === report.path)) this.reports.push({ ...report, written: false });
  }

  written(report: ReportFile): void {
    const entry = this.reports.find((r) => r.flag === report.flag && r.path === report.path);
    if (entry) entry.written = true;
  }

  /** Lines for stderr: the reports written and those not; empty when none was asked for. */
  summary(): string {
    const shown = (r: ReportFile): string => `${r.path} (${r.flag})`;
    const written = this.reports.filter((r) => r.written);
    const missing = this.reports.filter((r) => !r.written);
    const lines: string[] = [];
    if (written.length > 0) lines.push(`smtpspec: reports written: ${written.map(shown).join(', ')}\n`);
    // A report not written leaves what was at its path: the file of an earlier run, if any.
    const unwritten = (r: ReportFile): string => `${r.path} (${r.flag}${existsSync(r.path) ? '; the file there is an older one' : ''})`;
    if (missing.length > 0) lines.push(`smtpspec: reports not written: ${missing.map(unwritten).join(', ')}\n`);
    return lines.join('');
  }
}
