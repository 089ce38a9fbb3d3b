import { readFile } from 'node:fs/promises';
import { EXIT, type CliIO } from './io.js';
import type { MergeCommand } from './types.js';
import { UsageError } from '../errors.js';
import { parseResultsJson } from '../report/json.js';
import { mergeResults, renderMerged } from '../report/merge.js';
import { plural } from '../words.js';
import { prepareReportFiles } from './report-files.js';
import { reportFilesOf } from './report-ledger.js';

/** Reads the JSON results of several runs (shards), merges them, writes the reports asked for. */
export async function mergeCommand(command: MergeCommand, io: CliIO): Promise<number> {
  prepareReportFiles(reportFilesOf(command), command.paths.map((path) => ({ path, what: 'the results file' })));
  const runs = await Promise.all(
    command.paths.map(async (path) => {
      const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(`cannot read "${path}": ${error.code === 'ENOENT' ? 'no such file or directory' : error.message}`);
      });
      return parseResultsJson(text, path);
    }),
  );
  const merged = mergeResults(runs, command.paths);
  await renderMerged(merged, {
    ...(command.junitFile ? { junit: command.junitFile } : {}),
    ...(command.jsonFile ? { json: command.jsonFile } : {}),
    ...(command.tapFile ? { tap: command.tapFile } : {}),
    ...(command.htmlFile ? { html: command.htmlFile } : {}),
  });
  const c = merged.counts;
  io.stdout.write(`merged ${plural(runs.length, 'result file')}: ${c.passed} passed, ${c.failed + c.errors} failed${c.skipped ? `, ${c.skipped} skipped` : ''}\n`);
  return c.failed + c.errors === 0 ? EXIT.passed : EXIT.failed;
}
