import { UsageError } from '../errors.js';
import { countResults, type CaseResult, type CheckOutcome, type RunCounts, type RunResult, type Status } from '../engine/results.js';
import type { Reporter } from '../engine/events.js';
import type { Sink } from './sink.js';

export const RESULTS_FORMAT = 'smtpspec-results';
export const RESULTS_VERSION = 1;

/** The document written by JsonReporter and read back by `parseResultsJson`. */
export interface ResultsDocument {
  format: typeof RESULTS_FORMAT;
  version: typeof RESULTS_VERSION;
  startedAt: string;
  durationMs: number;
  counts: RunResult['counts'];
  cases: CaseResult[];
}

/**
 * The whole run as one JSON document, written at the end. One document rather than JSON
 * Lines: the file is written atomically once the run is over, so a reader sees it whole or
 * not at all, and `JSON.parse` or `jq` read it without knowing a line protocol. Live progress
 * is the console's job.
 */
export class JsonReporter implements Reporter {
  constructor(private readonly sink: Sink) {}

  async onEnd(result: RunResult): Promise<void> {
    this.sink.write(buildResultsJson(result));
    await this.sink.close();
  }
}

// Valid JSON, but unsafe to show raw: DEL and C1 controls, line separators some readers take as
// line breaks, bidirectional controls that disguise text, and noncharacters.
const UNSAFE_IN_JSON = /[\x7F-\x9F\u200E\u200F\u202A-\u202E\u2028\u2029\u2066-\u2069\uFFFE\uFFFF]/g;

/**
 * The document as text, ending with a newline. JSON.stringify already escapes C0 controls and
 * lone surrogates (`\ud800`), so the text is well-formed UTF-8 whatever a server replied; the
 * characters above are escaped too. They can only occur inside strings, so escaping keeps the data.
 */
export function buildResultsJson(result: RunResult): string {
  const document: ResultsDocument = {
    format: RESULTS_FORMAT,
    version: RESULTS_VERSION,
    startedAt: result.startedAt,
    durationMs: result.durationMs,
    counts: result.counts,
    cases: result.cases,
  };
  return jsonText(document);
}

/** A JSON document as text, indented, ending with a newline, with the characters above escaped. */
export function jsonText(document: unknown): string {
  const text = JSON.stringify(document, null, 2);
  return text.replace(UNSAFE_IN_JSON, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`) + '\n';
}

type Json = Record<string, unknown>;
type FieldType = 'string' | 'number' | 'object' | 'array' | 'status';

const STATUSES: readonly Status[] = ['passed', 'failed', 'error', 'skipped'];
const DESCRIPTIONS: Record<FieldType, string> = {
  string: 'a string',
  number: 'a number',
  object: 'an object',
  array: 'an array',
  status: `one of ${STATUSES.join(', ')}`,
};

// Enough for every reporter to render a case without tripping over a missing field.
const CASE_FIELDS: Record<string, FieldType> = {
  id: 'string',
  file: 'string',
  scenarioName: 'string',
  caseName: 'string',
  caseIndex: 'number',
  pos: 'object',
  target: 'object',
  status: 'status',
  startedAt: 'string',
  durationMs: 'number',
  steps: 'array',
  transcript: 'array',
};
const STEP_FIELDS: Record<string, FieldType> = {
  index: 'number',
  pos: 'object',
  label: 'string',
  status: 'status',
  durationMs: 'number',
};
const ENTRY_FIELDS: Record<string, FieldType> = { atMs: 'number', dir: 'string', text: 'string' };
const ATTEMPT_FIELDS: Record<string, FieldType> = { startedAt: 'string', durationMs: 'number', failure: 'object' };
const FAILURE_FIELDS: Record<string, FieldType> = { kind: 'string', message: 'string' };

/**
 * Reads a document written by JsonReporter. Throws a UsageError of one sentence, starting
 * with `file`, when the text is not one. Counts are recomputed from the cases, so they always agree.
 */
export function parseResultsJson(text: string, file: string): RunResult {
  const fail = (why: string): never => {
    throw new UsageError(`${file}: ${why}`);
  };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return fail(`not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isObject(data)) return fail('not an smtpspec results file (not a JSON object)');
  if (!('format' in data)) return fail('not an smtpspec results file (missing "format")');
  if (data['format'] !== RESULTS_FORMAT) {
    return fail(`not an smtpspec results file (format is ${JSON.stringify(data['format'])})`);
  }
  if (data['version'] !== RESULTS_VERSION) {
    return fail(`results format version ${JSON.stringify(data['version'])} is not supported (expected ${RESULTS_VERSION})`);
  }
  const problem =
    fieldProblem(data, { startedAt: 'string', durationMs: 'number', cases: 'array' }) ??
    (Number.isFinite(Date.parse(data['startedAt'] as string)) ? undefined : '"startedAt" is not a date') ??
    casesProblem(data['cases'] as unknown[]);
  if (problem) return fail(`not a valid smtpspec results file (${problem})`);
  const cases = data['cases'] as CaseResult[];
  const startedAt = data['startedAt'] as string;
  const counted = isObject(data['counts']) && 'flaky' in data['counts'];
  return { startedAt, durationMs: data['durationMs'] as number, cases, counts: recount(cases, counted) };
}

/** Counts from the cases; with `flaky` (passed after a retry) when the run counted it. */
export function recount(cases: CaseResult[], withFlaky: boolean): RunCounts {
  const counts = countResults(cases);
  return withFlaky ? { ...counts, flaky: cases.filter((c) => c.flaky === true).length } : counts;
}

function casesProblem(cases: unknown[]): string | undefined {
  for (const [i, item] of cases.entries()) {
    const where = `case ${i + 1}`;
    if (!isObject(item)) return `${where} is not an object`;
    const problem =
      fieldProblem(item, CASE_FIELDS) ??
      listProblem(item['steps'] as unknown[], 'step', STEP_FIELDS) ??
      listProblem(item['transcript'] as unknown[], 'transcript entry', ENTRY_FIELDS) ??
      earlierAttemptsProblem(item['earlierAttempts']) ??
      checksProblem(item['steps'] as unknown[]);
    if (problem) return `${where}: ${problem}`;
  }
  return undefined;
}

const CHECK_FIELDS: Record<string, FieldType> = { check: 'string', verdict: 'string', reasons: 'array', facts: 'object' };
const CHECK_NAMES: readonly string[] = ['fcrdns', 'dane', 'mta-sts', 'tls-rpt', 'dnsbl'] satisfies CheckOutcome['check'][];
const VERDICTS: readonly string[] = ['pass', 'fail', 'warn', 'error'] satisfies CheckOutcome['verdict'][];

/** A step's `check` is optional; when present, reporters read its name, verdict, reasons and facts. */
function checksProblem(steps: unknown[]): string | undefined {
  for (const [i, step] of steps.entries()) {
    const check = (step as Json)['check'];
    if (check === undefined) continue;
    const where = `step ${i + 1} check`;
    if (!isObject(check)) return `${where} is not ${DESCRIPTIONS.object}`;
    const problem = fieldProblem(check, CHECK_FIELDS);
    if (problem) return `${where}: ${problem}`;
    if (!CHECK_NAMES.includes(check['check'] as string)) return `${where}: "check" is not one of ${CHECK_NAMES.join(', ')}`;
    if (!VERDICTS.includes(check['verdict'] as string)) return `${where}: "verdict" is not one of ${VERDICTS.join(', ')}`;
  }
  return undefined;
}

/** Optional; when present, reporters read each attempt's failure message and duration. */
function earlierAttemptsProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return `"earlierAttempts" is not ${DESCRIPTIONS.array}`;
  return (
    listProblem(value, 'earlier attempt', ATTEMPT_FIELDS) ??
    listProblem(
      value.map((attempt: Json) => attempt['failure']),
      'earlier attempt failure',
      FAILURE_FIELDS,
    )
  );
}

function listProblem(items: unknown[], what: string, fields: Record<string, FieldType>): string | undefined {
  for (const [i, item] of items.entries()) {
    if (!isObject(item)) return `${what} ${i + 1} is not an object`;
    const problem = fieldProblem(item, fields);
    if (problem) return `${what} ${i + 1}: ${problem}`;
  }
  return undefined;
}

function fieldProblem(data: Json, fields: Record<string, FieldType>): string | undefined {
  for (const [name, type] of Object.entries(fields)) {
    if (!(name in data)) return `missing "${name}"`;
    if (!hasType(data[name], type)) return `"${name}" is not ${DESCRIPTIONS[type]}`;
  }
  return undefined;
}

function hasType(value: unknown, type: FieldType): boolean {
  switch (type) {
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isObject(value);
    case 'status':
      return STATUSES.includes(value as Status);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    default:
      return typeof value === type;
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
