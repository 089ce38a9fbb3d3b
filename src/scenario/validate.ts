import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { SourceIssue, SourcePos } from '../errors.js';
import { packageRoot } from '../package-info.js';
import { caseKeys, scenarioFileKeys, stepKeys, targetKeys } from './as-written.js';
import { comparePos, pathFromPointer, type DataPath, type PositionFinder } from './positions.js';

const SCHEMA_FILE = join('schema', 'scenario.schema.json');

/** schema/scenario.schema.json of this package. */
export function schemaPath(): string {
  return join(packageRoot(), SCHEMA_FILE);
}

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(schemaPath(), 'utf8')) as object;
    // strictRequired is off because the step's `not`/`anyOf` name keys declared one level up.
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allowUnionTypes: true, allErrors: true });
    compiled = ajv.compile(schema);
  }
  return compiled;
}

/** The schema problems of data (empty when it is valid): one sentence per problem, at its position. */
export function schemaIssues(data: unknown, positions: PositionFinder): SourceIssue[] {
  const validate = validator();
  if (validate(data)) return [];
  return explain(validate.errors ?? [], positions);
}

// ---- turning ajv errors into sentences ----

/** What a map in the file is, for messages. */
export type MapKind = 'file' | 'case' | 'step' | 'target';

const KEYS_OF: Record<MapKind, readonly string[]> = {
  file: Object.keys(scenarioFileKeys),
  case: Object.keys(caseKeys),
  step: Object.keys(stepKeys),
  target: Object.keys(targetKeys),
};

const WHERE: Record<MapKind, string> = {
  file: 'at the top level',
  case: 'in a case',
  step: 'in a step',
  target: 'in target',
};

const EXPECT_MESSAGE =
  'expect must be a reply code (250), a pattern ("2xx", "550 5.1.1", "5.7.1") or a list of them';

function explain(errors: ErrorObject[], positions: PositionFinder): SourceIssue[] {
  const relevant = errors.filter((error) => !/\/(anyOf|propertyNames)\//.test(error.schemaPath));
  const issues: SourceIssue[] = [];
  for (const [pointer, group] of groupBy(relevant, (error) => error.instancePath)) {
    issues.push(...explainGroup(pathFromPointer(pointer), group, positions));
  }
  return issues;
}

function explainGroup(path: DataPath, errors: ErrorObject[], positions: PositionFinder): SourceIssue[] {
  const kind = mapKind(path);
  const unknown = errors.filter((error) => error.keyword === 'additionalProperties');
  const suggestions = unknown.map((error) => suggest(String(error.params['additionalProperty']), kind));
  const issues: SourceIssue[] = unknown.map((error, index) => {
    const key = String(error.params['additionalProperty']);
    const hint = suggestions[index] ? ` (did you mean "${suggestions[index]}"?)` : '';
    return { pos: positions.keyAt(path, key), message: `unknown key "${key}" ${WHERE[kind]}${hint}` };
  });
  const missing = errors
    .filter((error) => error.keyword === 'required')
    .map((error) => String(error.params['missingProperty']))
    .filter((key) => !suggestions.includes(key));
  if (missing.length > 0) issues.push({ pos: positions.at(path), message: missingMessage(missing, kind) });
  for (const error of errors) {
    const issue = explainOne(path, error, positions, unknown.length > 0);
    if (issue) issues.push(issue);
  }
  return dedupe(issues);
}

function explainOne(
  path: DataPath,
  error: ErrorObject,
  positions: PositionFinder,
  hasUnknownKeys: boolean,
): SourceIssue | undefined {
  switch (error.keyword) {
    case 'additionalProperties':
    case 'required':
      return undefined;
    case 'not':
      return { pos: laterKey(path, ['send', 'data'], positions), message: 'a step cannot have both "send" and "data"' };
    case 'anyOf':
      // An unknown key is the likelier cause (a typo in "send"), and is reported already.
      if (hasUnknownKeys) return undefined;
      return { pos: positions.at(path), message: 'a step needs at least one of "send", "data", "expect" or "text"' };
    case 'propertyNames': {
      const name = String(error.params['propertyName']);
      return {
        pos: positions.keyAt(path, name),
        message: `variable name "${name}" is not valid: use letters, digits and _, not starting with a digit`,
      };
    }
    default:
      return { pos: positions.at(path), message: valueMessage(path, error) };
  }
}

/** A sentence for a value that has the wrong type or form. */
function valueMessage(path: DataPath, error: ErrorObject): string {
  const subject = valueSubject(path);
  switch (subject) {
    case 'file':
      return 'a scenario file must be a map with at least "cases:"';
    case 'case':
      return 'a case must be a map with "name" and "steps"';
    case 'step':
      return 'a step must be a map such as { send: NOOP, expect: 250 }';
    case 'expect':
      return EXPECT_MESSAGE;
    case 'timeout':
      return 'timeout must be a duration such as "500ms", "30s" or "2m"';
    case 'target':
      return 'target must be "host", "host:port", "[ipv6]:port" or a map with host and port';
    case 'port':
      return 'port must be a whole number from 1 to 65535';
    case 'send':
      if (error.keyword === 'pattern') return 'send must be one line: it contains a line break';
      break;
    case 'cases':
    case 'steps':
      if (error.keyword === 'minItems') return `${subject} must list at least one ${subject.slice(0, -1)}`;
      break;
    case 'var':
      return `variable "${String(path.at(-1))}" must be a string, a number or a boolean`;
  }
  if (error.keyword === 'minLength') return `${subject} must not be empty`;
  if (error.keyword === 'type') return `${subject} must be ${typeName(error.params['type'])}`;
  return `${subject} ${error.message ?? 'is not valid'}`;
}

/** What the value at path is: a map kind, a list, or the key it is written under. */
function valueSubject(path: DataPath): string {
  const kind = mapKindOrUndefined(path);
  if (kind && kind !== 'target') return kind;
  const last = path.at(-1);
  const parent = path.at(-2);
  if (parent === 'vars') return 'var';
  if (typeof last === 'number' && parent === 'expect') return 'expect';
  return String(last);
}

function mapKindOrUndefined(path: DataPath): MapKind | undefined {
  const shape = path.map((segment) => (typeof segment === 'number' ? '#' : segment)).join('/');
  switch (shape) {
    case '':
      return 'file';
    case 'cases/#':
      return 'case';
    case 'cases/#/steps/#':
      return 'step';
    case 'target':
      return 'target';
    default:
      return undefined;
  }
}

function mapKind(path: DataPath): MapKind {
  return mapKindOrUndefined(path) ?? 'file';
}

function missingMessage(keys: string[], kind: MapKind): string {
  const where = kind === 'file' ? '' : ` ${WHERE[kind]}`;
  if (keys.length === 1) return `missing required key "${keys[0]}"${where}`;
  return `missing required keys ${keys.map((key) => `"${key}"`).join(' and ')}${where}`;
}

function typeName(type: unknown): string {
  const names: Record<string, string> = {
    string: 'a string',
    integer: 'a whole number',
    number: 'a number',
    boolean: 'true or false',
    array: 'a list',
    object: 'a map',
  };
  const types = Array.isArray(type) ? type : [type];
  return types.map((name) => names[String(name)] ?? String(name)).join(' or ');
}

function laterKey(path: DataPath, keys: string[], positions: PositionFinder): SourcePos {
  const found = keys.map((key) => positions.keyAt(path, key));
  return found.reduce((later, pos) => (comparePos(pos, later) > 0 ? pos : later));
}

/** The allowed key nearest to a misspelt one, when it is close enough to be a likely typo. */
export function suggest(key: string, kind: MapKind): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of KEYS_OF[kind]) {
    const distance = editDistance(key.toLowerCase(), candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  const allowed = key.length <= 3 ? 1 : 2;
  return bestDistance <= allowed ? best : undefined;
}

/** Levenshtein distance, with a swap of two neighbouring letters counting as one edit. */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = rows[i]!;
      row[j] = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j]!, rows[i - 2]![j - 2]! + 1);
      }
    }
  }
  return rows[a.length]![b.length]!;
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

function dedupe(issues: SourceIssue[]): SourceIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const id = `${issue.pos.line}:${issue.pos.col}:${issue.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
