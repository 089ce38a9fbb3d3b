import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SaxesParser } from 'saxes';
import { Parser } from 'tap-parser';

/**
 * The four report files a run can write, in one folder, and what a complete one of each looks like:
 * JUnit XML that parses, JSON results, a TAP stream with its plan, a whole HTML page.
 */

export const REPORT_NAMES = { junit: 'r.xml', json: 'r.json', tap: 'r.tap', html: 'r.html' } as const;

/** `--junit <dir>/r.xml --json <dir>/r.json --tap <dir>/r.tap --html <dir>/r.html` */
export function allReportFlags(dir: string): string[] {
  return Object.entries(REPORT_NAMES).flatMap(([flag, name]) => [`--${flag}`, join(dir, name)]);
}

/** Fails unless the text is a complete report of its kind with `cases` cases (undefined: any number); returns that count. */
export async function assertCompleteReport(kind: keyof typeof REPORT_NAMES, text: string, cases?: number): Promise<number> {
  let count: number;
  if (kind === 'junit') {
    count = 0;
    const parser = new SaxesParser();
    parser.on('opentag', (tag) => {
      if (tag.name === 'testcase') count += 1;
    });
    parser.write(text).close(); // throws on a cut document
  } else if (kind === 'json') {
    count = (JSON.parse(text) as { cases: unknown[] }).cases.length;
  } else if (kind === 'tap') {
    const result = await new Promise<{ ok: boolean; count: number; plan: { end: number | null } }>((resolve) => new Parser({ strict: true }, resolve).end(text));
    assert.equal(result.plan.end, result.count, `the TAP plan covers every test point:\n${text}`);
    count = result.count;
  } else {
    assert.match(text, /^<!DOCTYPE html>/);
    assert.match(text, /<\/body><\/html>\s*$/, 'the page is whole');
    count = cases ?? 0;
  }
  if (cases !== undefined) assert.equal(count, cases, `${kind}: ${cases} cases`);
  return count;
}

/** Each report in `dir` either complete or absent, and no temporary file beside them; the names of those present. */
export async function reportsCompleteOrAbsent(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  assert.deepEqual(names.filter((name) => name.endsWith('.tmp')), [], 'no temporary file left');
  const present: string[] = [];
  for (const [kind, name] of Object.entries(REPORT_NAMES) as [keyof typeof REPORT_NAMES, string][]) {
    if (!names.includes(name)) continue;
    await assertCompleteReport(kind, await readFile(join(dir, name), 'utf8'));
    present.push(name);
  }
  return present;
}
