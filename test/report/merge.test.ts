import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SaxesParser } from 'saxes';
import { Parser, type FinalResults } from 'tap-parser';
import { caseKey, mergeResults, renderMerged } from '../../src/report/merge.js';
import { parseResultsJson } from '../../src/report/json.js';
import { countResults } from '../../src/engine/results.js';
import { UsageError } from '../../src/errors.js';
import type { CaseResult, RunResult } from '../../src/engine/results.js';
import { runResult } from './fixtures/run.js';

const [passed, failed, skipped, errored, hostile] = runResult.cases as [CaseResult, CaseResult, CaseResult, CaseResult, CaseResult];

function shard(startedAt: string, durationMs: number, cases: CaseResult[]): RunResult {
  return { startedAt, durationMs, cases, counts: countResults(cases) };
}

// Three shards that ran in parallel; the listing order is not the order in which they started.
const shards = [
  shard('2025-01-02T03:04:06.000Z', 500, [hostile, failed]),
  shard('2025-01-02T03:04:05.000Z', 300, [errored, passed]),
  shard('2025-01-02T03:04:05.500Z', 2000, [skipped]),
];

async function withTempDir(use: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'smtpspec-merge-'));
  try {
    await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Counts testcase elements with a strict XML parser, which throws on anything not well-formed. */
function junitTestcases(xml: string): string[] {
  const names: string[] = [];
  const parser = new SaxesParser();
  parser.on('opentag', (tag) => {
    if (tag.name === 'testcase') names.push(String(tag.attributes['name']));
  });
  parser.write(xml).close();
  return names;
}

function parseTap(text: string): FinalResults {
  let final: FinalResults | undefined;
  const parser = new Parser((results) => (final = results));
  parser.end(text);
  assert.ok(final);
  return final;
}

describe('mergeResults', () => {
  test('equals the unsplit run apart from timing, in the same order', () => {
    const merged = mergeResults(shards);
    assert.deepEqual(merged.cases, runResult.cases);
    assert.deepEqual(merged.counts, runResult.counts);
  });

  test('counts flaky cases when the shards counted them', () => {
    const retried = { ...errored, status: 'passed' as const, flaky: true, attempts: 3 };
    const batch = shard('2025-01-02T03:04:09.000Z', 10, [retried]);
    const merged = mergeResults([shards[0]!, { ...batch, counts: { ...batch.counts, flaky: 1 } }]);
    assert.deepEqual(merged.counts, { passed: 1, failed: 2, errors: 0, skipped: 0, total: 3, flaky: 1 });
    assert.equal('flaky' in mergeResults(shards).counts, false);
  });

  test('starts with the earliest shard and spans to the latest end', () => {
    const merged = mergeResults(shards);
    assert.equal(merged.startedAt, '2025-01-02T03:04:05.000Z');
    // The third shard ends last: 05.500 + 2000 ms = 07.500, 2500 ms after the earliest start.
    assert.equal(merged.durationMs, 2500);
  });

  test('gives the same result whatever order the shards come in', () => {
    assert.deepEqual(mergeResults([...shards].reverse()), mergeResults(shards));
  });

  test('keeps the same case against different targets, ordered by target', () => {
    const elsewhere = { ...passed, target: { host: '127.0.0.1', port: 2424 } };
    const merged = mergeResults([shard(runResult.startedAt, 10, [passed]), shard(runResult.startedAt, 10, [elsewhere])]);
    assert.deepEqual(merged.cases.map(caseKey), ['scenarios/basic.yaml#0@127.0.0.1:2424', 'scenarios/basic.yaml#0@127.0.0.1:2525']);
    assert.equal(merged.counts.total, 2);
  });

  test('rejects a case that appears in two shards, naming both', () => {
    const again = shard('2025-01-02T03:04:09.000Z', 10, [failed]);
    assert.throws(
      () => mergeResults([...shards, again], ['a.json', 'b.json', 'c.json', 'd.json']),
      (error: unknown) =>
        error instanceof UsageError &&
        error.message ===
          'case scenarios/basic.yaml#1@127.0.0.1:2525 ("unknown recipient is rejected") appears in a.json and d.json: each case and target must come from one shard only',
    );
    assert.throws(() => mergeResults([shard(runResult.startedAt, 1, [passed, passed])]), /appears twice in results 1:/);
  });

  test('refuses to merge nothing', () => {
    assert.throws(() => mergeResults([]), (error: unknown) => error instanceof UsageError && error.message === 'no results to merge');
  });
});

describe('renderMerged', () => {
  test('writes JUnit, JSON and TAP files for the merged run', async () => {
    await withTempDir(async (dir) => {
      const outputs = { junit: join(dir, 'junit.xml'), json: join(dir, 'json', 'results.json'), tap: join(dir, 'results.tap') };
      const merged = mergeResults(shards);
      await renderMerged(merged, outputs);
      const testcases = junitTestcases(await readFile(outputs.junit, 'utf8'));
      assert.equal(testcases.length, 5);
      assert.equal(testcases[0], 'greeting and EHLO');
      assert.deepEqual(parseResultsJson(await readFile(outputs.json, 'utf8'), outputs.json), merged);
      const tap = parseTap(await readFile(outputs.tap, 'utf8'));
      // Two targets: one top-level point per target, each failing because one of its cases did.
      assert.deepEqual([tap.plan.end, tap.count, tap.fail, tap.skip], [2, 2, 2, 0]);
    });
  });

  test('writes only the formats asked for', async () => {
    await withTempDir(async (dir) => {
      await renderMerged(mergeResults(shards), { junit: join(dir, 'only.xml') });
      assert.equal(junitTestcases(await readFile(join(dir, 'only.xml'), 'utf8')).length, 5);
      await assert.rejects(readFile(join(dir, 'results.json')), { code: 'ENOENT' });
    });
  });

  test('still writes the other reports when one cannot be written, then rejects', async () => {
    await withTempDir(async (dir) => {
      const blocker = join(dir, 'not-a-folder');
      await writeFile(blocker, 'x');
      const outputs = { junit: join(blocker, 'junit.xml'), json: join(dir, 'results.json') };
      await assert.rejects(renderMerged(mergeResults(shards), outputs), /not-a-folder/);
      assert.equal(parseResultsJson(await readFile(outputs.json, 'utf8'), outputs.json).counts.total, 5);
    });
  });
});
