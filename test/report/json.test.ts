import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonReporter, buildResultsJson, parseResultsJson } from '../../src/report/json.js';
import { fileSink, memorySink } from '../../src/report/sink.js';
import { UsageError } from '../../src/errors.js';
import type { CaseResult, RunResult } from '../../src/engine/results.js';
import { runResult } from './fixtures/run.js';
import { replay } from './fixtures/replay.js';
import { TLSA_DATA, checkRun } from './fixtures/check-run.js';

async function render(run: RunResult): Promise<string> {
  const sink = memorySink();
  await replay(new JsonReporter(sink), run);
  assert.equal(sink.closed, true, 'onEnd closes the sink');
  return sink.text;
}

/** The parsed document of a results file, for looking at its raw shape. */
const documentOf = (text: string): Record<string, unknown> => JSON.parse(text) as Record<string, unknown>;

describe('JsonReporter', () => {
  test('writes one document that reads back to the same run, hostile strings included', async () => {
    const text = await render(runResult);
    assert.ok(text.endsWith('}\n'));
    assert.deepEqual(parseResultsJson(text, 'results.json'), runResult);
    assert.deepEqual(documentOf(text)['cases'], runResult.cases);
  });

  test('starts with the format, version, run timing and counts', async () => {
    const document = documentOf(await render(runResult));
    assert.deepEqual(Object.keys(document), ['format', 'version', 'startedAt', 'durationMs', 'counts', 'cases']);
    assert.equal(document['format'], 'smtpspec-results');
    assert.equal(document['version'], 1);
    assert.equal(document['startedAt'], '2025-01-02T03:04:05.000Z');
    assert.equal(document['durationMs'], 1234);
    assert.deepEqual(document['counts'], { passed: 1, failed: 2, errors: 1, skipped: 1, total: 5 });
  });

  test('is well-formed UTF-8 with controls, lone surrogates and bidi controls escaped', async () => {
    const text = await render(runResult);
    assert.equal(Buffer.from(text, 'utf8').toString('utf8'), text, 'no lone surrogate survives as a raw character');
    assert.equal(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(text, 'utf8')), text);
    assert.doesNotMatch(text, /[\x00-\x09\x0B-\x1F\x7F-\x9F\u202E\uFFFE]/);
    for (const escape of ['\\u0000', '\\u001b', '\\u007f', '\\u0085', '\\u009b', '\\ud800', '\\ufffe', '\\u202e']) {
      assert.ok(text.includes(escape), `has ${escape}`);
    }
  });

  test('keeps every field a case carries: TLS facts, captures, latency, warnings, retries', async () => {
    const [first] = runResult.cases;
    const tls = {
      protocol: 'TLSv1.3',
      cipher: 'TLS_AES_256_GCM_SHA384',
      verified: false,
      authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      subject: 'CN=mx.test',
      issuer: 'CN=mx.test',
      validFrom: '2025-01-01T00:00:00.000Z',
      validTo: '2026-01-01T00:00:00.000Z',
      fingerprint256: 'AB:CD',
    };
    const steps = first!.steps.map((step, i) => (i === 1 ? { ...step, latencyMs: 3, captures: { id: 'Q1' }, tls } : step));
    const earlierAttempts = [{ startedAt: first!.startedAt, durationMs: 7, failure: { stepIndex: 0, pos: first!.pos, kind: 'reset' as const, message: 'step 1 (greeting): connection reset' } }];
    const extended: CaseResult = { ...first!, steps, tls, warnings: ['TLS verification is off'], flaky: true, attempts: 2, earlierAttempts };
    const run = { ...runResult, cases: [extended] };
    const back = parseResultsJson(await render(run), 'results.json');
    assert.deepEqual(back.cases, [extended]);
    assert.equal(back.cases[0]!.attempts, 2);
  });

  test('writes a file through fileSink that parses back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-json-'));
    try {
      const path = join(dir, 'out', 'results.json');
      await replay(new JsonReporter(fileSink(path)), runResult);
      assert.deepEqual(parseResultsJson(await readFile(path, 'utf8'), path), runResult);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('parseResultsJson', () => {
  const valid = (): Record<string, unknown> => documentOf(buildResultsJson(runResult));
  const rejects = (data: unknown, message: string): void =>
    assert.throws(
      () => parseResultsJson(typeof data === 'string' ? data : JSON.stringify(data), 'results.json'),
      (error: unknown) => error instanceof UsageError && error.message === message,
    );

  test('names what is wrong in one sentence', () => {
    const { format: _, ...noFormat } = valid();
    rejects(noFormat, 'results.json: not an smtpspec results file (missing "format")');
    rejects({ ...valid(), format: 'junit' }, 'results.json: not an smtpspec results file (format is "junit")');
    rejects([1, 2], 'results.json: not an smtpspec results file (not a JSON object)');
    rejects({ ...valid(), version: 2 }, 'results.json: results format version 2 is not supported (expected 1)');
    rejects({ ...valid(), cases: {} }, 'results.json: not a valid smtpspec results file ("cases" is not an array)');
    rejects({ ...valid(), startedAt: 'yesterday' }, 'results.json: not a valid smtpspec results file ("startedAt" is not a date)');
  });

  test('points at the case, step or transcript entry that is malformed', () => {
    const cases = valid()['cases'] as Record<string, unknown>[];
    const withCase = (i: number, patch: Record<string, unknown>) => ({
      ...valid(),
      cases: cases.map((c, j) => (j === i ? { ...c, ...patch } : c)),
    });
    rejects(withCase(1, { status: 'unknown' }), 'results.json: not a valid smtpspec results file (case 2: "status" is not one of passed, failed, error, skipped)');
    rejects(withCase(0, { target: 'mx' }), 'results.json: not a valid smtpspec results file (case 1: "target" is not an object)');
    const steps = cases[0]!['steps'] as Record<string, unknown>[];
    const { label: _, ...noLabel } = steps[2]!;
    rejects(withCase(0, { steps: [steps[0], steps[1], noLabel] }), 'results.json: not a valid smtpspec results file (case 1: step 3: missing "label")');
    rejects(withCase(4, { transcript: [null] }), 'results.json: not a valid smtpspec results file (case 5: transcript entry 1 is not an object)');
    const attempt = { startedAt: '2025-01-01T00:00:00.000Z', durationMs: 3, failure: { stepIndex: 0, pos: cases[0]!['pos'], kind: 'reset', message: 'reset' } };
    rejects(withCase(0, { earlierAttempts: 'twice' }), 'results.json: not a valid smtpspec results file (case 1: "earlierAttempts" is not an array)');
    rejects(withCase(0, { earlierAttempts: [attempt, { ...attempt, durationMs: '3' }] }), 'results.json: not a valid smtpspec results file (case 1: earlier attempt 2: "durationMs" is not a number)');
    rejects(withCase(0, { earlierAttempts: [{ ...attempt, failure: { kind: 'reset' } }] }), 'results.json: not a valid smtpspec results file (case 1: earlier attempt failure 1: missing "message")');
  });

  test('reports text that is not JSON with the parser message', () => {
    assert.throws(() => parseResultsJson('{"format": ', 'shard-2.json'), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /^shard-2\.json: not valid JSON \(.+\)$/);
      return true;
    });
  });

  test('keeps the flaky count of a batch run, recomputed', () => {
    const flaky = { ...runResult.cases[0]!, flaky: true, attempts: 2 };
    const run = { ...runResult, cases: [flaky, ...runResult.cases.slice(1)], counts: { ...runResult.counts, flaky: 7 } };
    assert.deepEqual(parseResultsJson(buildResultsJson(run), 'results.json').counts, { ...runResult.counts, flaky: 1 });
    assert.equal('flaky' in parseResultsJson(buildResultsJson(runResult), 'results.json').counts, false);
  });

  test('recomputes counts from the cases', () => {
    const text = JSON.stringify({ ...valid(), counts: { passed: 99, failed: 0, errors: 0, skipped: 0, total: 99 } });
    assert.deepEqual(parseResultsJson(text, 'results.json').counts, runResult.counts);
  });
});

describe('JSON results with DNS check steps', () => {
  test('keep the whole check record of each step, hex data whole, and read back to the same run', async () => {
    const text = await render(checkRun);
    assert.deepEqual(parseResultsJson(text, 'results.json'), checkRun);
    const cases = documentOf(text)['cases'] as { steps: { check?: { check: string; verdict: string } }[] }[];
    assert.deepEqual(
      cases.map((item) => [item.steps.at(-1)?.check?.check, item.steps.at(-1)?.check?.verdict]),
      [['fcrdns', 'pass'], ['fcrdns', 'error'], ['dane', 'fail'], ['mta-sts', 'warn'], ['tls-rpt', 'pass'], ['dnsbl', 'fail']],
    );
    assert.ok(text.includes(`"data": "${TLSA_DATA}"`));
  });

  test('a check record a reporter cannot read is named in one sentence', () => {
    const document = documentOf(buildResultsJson(checkRun));
    const cases = document['cases'] as { steps: Record<string, unknown>[] }[];
    const withCheck = (check: unknown) => JSON.stringify({ ...document, cases: [{ ...cases[0], steps: [cases[0]!.steps[0], { ...cases[0]!.steps[1], check }] }] });
    const problem = (check: unknown): void =>
      assert.throws(() => parseResultsJson(withCheck(check), 'r.json'), (error: unknown) => error instanceof UsageError && /^r\.json: not a valid smtpspec results file \(case 1: step 2 check/.test(error.message));
    problem('pass');
    problem({ check: 'fcrdns', verdict: 'pass', facts: {} });
    problem({ check: 'spf', verdict: 'pass', reasons: [], facts: {} });
    problem({ check: 'dane', verdict: 'maybe', reasons: [], facts: {} });
    assert.throws(() => parseResultsJson(withCheck({ check: 'dane', verdict: 'maybe', reasons: [], facts: {} }), 'r.json'), /step 2 check: "verdict" is not one of pass, fail, warn, error/);
  });
});
