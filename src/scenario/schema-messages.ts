import type { ErrorObject } from 'ajv/dist/2020.js';
import type { SourceIssue } from '../errors.js';
import {
  attachmentKeys,
  authKeys,
  capabilitiesKeys,
  caseKeys,
  conditionKeys,
  dataKeys,
  mailKeys,
  pipelineCommandKeys,
  proxyKeys,
  rcptKeys,
  scenarioFileKeys,
  stepKeys,
  targetKeys,
  includedFileKeys,
  tlsAssertionKeys,
  tlsKeys,
  type FileRoot,
} from './as-written.js';
import { nearestKey } from './edit-distance.js';
import { pathFromPointer, type DataPath, type PositionFinder } from './positions.js';
import { groupBy } from '../group-by.js';
import { orList } from '../words.js';

// Turns ajv's errors into one sentence per problem, at the position where it was written.

/** What a map in the file is, for messages. */
export type MapKind =
  | 'file'
  | 'case'
  | 'step'
  | 'target'
  | 'tls'
  | 'proxy'
  | 'condition'
  | 'tls check'
  | 'auth'
  | 'pipeline command'
  | 'mail'
  | 'rcpt'
  | 'data'
  | 'attachment'
  | 'capabilities'
  | 'included file';

const MAPS: Record<MapKind, { keys: readonly string[]; where: string }> = {
  file: { keys: Object.keys(scenarioFileKeys), where: 'at the top level' },
  case: { keys: Object.keys(caseKeys), where: 'in a case' },
  step: { keys: Object.keys(stepKeys), where: 'in a step' },
  target: { keys: Object.keys(targetKeys), where: 'in target' },
  tls: { keys: Object.keys(tlsKeys), where: 'in tls' },
  proxy: { keys: Object.keys(proxyKeys), where: 'in proxy' },
  condition: { keys: Object.keys(conditionKeys), where: 'in a condition' },
  'tls check': { keys: Object.keys(tlsAssertionKeys), where: "in a step's tls" },
  auth: { keys: Object.keys(authKeys), where: 'in auth' },
  'pipeline command': { keys: Object.keys(pipelineCommandKeys), where: 'in a pipeline command' },
  mail: { keys: Object.keys(mailKeys), where: 'in mail' },
  rcpt: { keys: Object.keys(rcptKeys), where: 'in rcpt' },
  data: { keys: Object.keys(dataKeys), where: 'in data' },
  attachment: { keys: Object.keys(attachmentKeys), where: 'in an attachment' },
  capabilities: { keys: Object.keys(capabilitiesKeys), where: 'in capabilities' },
  'included file': { keys: Object.keys(includedFileKeys), where: 'at the top level of an included file' },
};

/** Path shapes (list indexes as #) and the map found there. */
const SHAPES: [RegExp, MapKind][] = [
  [/^$/, 'file'],
  [/^cases\/#$/, 'case'],
  [/^cases\/#\/steps\/#$/, 'step'],
  [/^target$/, 'target'],
  [/^tls$/, 'tls'],
  [/^proxy$/, 'proxy'],
  [/^cases\/#(\/steps\/#)?\/when(\/not)*$/, 'condition'],
  [/^cases\/#\/steps\/#\/tls$/, 'tls check'],
  [/^cases\/#\/steps\/#\/auth$/, 'auth'],
  [/^cases\/#\/steps\/#\/pipeline\/#$/, 'pipeline command'],
  [/^cases\/#\/steps\/#\/mail$/, 'mail'],
  [/^cases\/#\/steps\/#\/rcpt$/, 'rcpt'],
  [/^cases\/#\/steps\/#\/data$/, 'data'],
  [/^cases\/#\/steps\/#\/data\/attachments\/#$/, 'attachment'],
  [/^cases\/#\/steps\/#\/capabilities$/, 'capabilities'],
];

const EXPECT_MESSAGE =
  'expect must be a reply code (250), a pattern ("2xx", "550 5.1.1", "5.7.1") or a list of them';
const EXPECT_EACH_MESSAGE =
  'expect_each must list one expectation per recipient: each a reply code (250), a pattern ("2xx", "550 5.1.1") or a list of them';
const DURATION_EXAMPLES = 'a duration such as "500ms", "30s" or "2m"';
const NAME_RULE = 'use letters, digits and _, not starting with a digit';

/** What one entry of a list is called, for "must list at least one …". */
const ENTRY_NOUN: Record<string, string> = {
  cases: 'case',
  steps: 'step',
  pipeline: 'command',
  has: 'capability',
  lacks: 'capability',
  notify: 'condition',
  attachments: 'attachment',
};

/** The sentences for ajv's errors on one file, grouped by the value they are about. */
export function explain(errors: ErrorObject[], positions: PositionFinder, root: FileRoot): SourceIssue[] {
  const relevant = errors.filter((error) => !/\/propertyNames\//.test(error.schemaPath));
  const issues: SourceIssue[] = [];
  for (const [pointer, group] of groupBy(relevant, (error) => error.instancePath)) {
    // A loop, not push(...): spreading a hundred thousand issues overflows the stack.
    for (const issue of explainGroup(pathFromPointer(pointer), group, positions, root)) issues.push(issue);
  }
  return issues;
}

function explainGroup(path: DataPath, errors: ErrorObject[], positions: PositionFinder, root: FileRoot): SourceIssue[] {
  const kind = mapKind(path, root);
  const unknown = errors.filter((error) => error.keyword === 'additionalProperties');
  const suggestions = unknown.map((error) => suggest(String(error.params['additionalProperty']), kind));
  const issues: SourceIssue[] = unknown.map((error, index) => {
    const key = String(error.params['additionalProperty']);
    const hint = suggestions[index] ? ` (did you mean "${suggestions[index]}"?)` : '';
    return { pos: positions.keyAt(path, key), message: `unknown key "${key}" ${MAPS[kind].where}${hint}` };
  });
  const missing = errors
    .filter((error) => error.keyword === 'required')
    .map((error) => String(error.params['missingProperty']))
    .filter((key) => !suggestions.includes(key));
  if (missing.length > 0) issues.push({ pos: positions.at(path), message: missingMessage(missing, kind) });
  for (const error of errors) {
    const issue = explainOne(path, error, positions, root);
    if (issue) issues.push(issue);
  }
  return dedupe(issues);
}

function explainOne(path: DataPath, error: ErrorObject, positions: PositionFinder, root: FileRoot): SourceIssue | undefined {
  switch (error.keyword) {
    case 'maxProperties':
      return { pos: positions.keyAt(path, 'include'), message: INCLUDE_ALONE };
    case 'additionalProperties':
    case 'required':
      return undefined;
    case 'dependentRequired': {
      const key = String(error.params['property']);
      return { pos: positions.keyAt(path, key), message: pairMessage(key, String(error.params['missingProperty'])) };
    }
    case 'propertyNames': {
      const name = String(error.params['propertyName']);
      return { pos: positions.keyAt(path, name), message: nameMessage(name, path.at(-1)) };
    }
    default:
      return { pos: positions.at(path), message: valueMessage(path, error, root) };
  }
}

const INCLUDE_ALONE = 'a step with "include" has no other key: put them on the steps of the included file, or in a step of their own';

function pairMessage(key: string, missing: string): string {
  const why = key === 'cert' || key === 'key' ? ': a client certificate and its private key go together' : '';
  return `"${key}" needs "${missing}" beside it${why}`;
}

function nameMessage(name: string, map: string | number | undefined): string {
  if (map === 'headers') return `header name "${name}" is not valid: use printable characters other than ":" and spaces`;
  if (map === 'capture') return `capture name "${name}" is not valid: ${NAME_RULE}`;
  return `variable name "${name}" is not valid: ${NAME_RULE}`;
}

/** A sentence for a value that has the wrong type or form. */
function valueMessage(path: DataPath, error: ErrorObject, root: FileRoot): string {
  const kind = mapKindOrUndefined(path, root);
  if (kind === 'file' || kind === 'case' || kind === 'step' || kind === 'included file') return MAP_SHAPE[kind];
  const { key, parent, item } = subjectOf(path);
  const special = specialMessage(key, parent, item, error, path.length);
  if (special) return special;
  const subject = item ? `each entry of ${key}` : key;
  switch (error.keyword) {
    case 'minLength':
      return `${key} must not be empty`;
    case 'minItems':
      return `${key} must list at least one ${ENTRY_NOUN[key] ?? 'entry'}`;
    case 'uniqueItems':
      return `${key} must not list the same value twice`;
    case 'enum':
      return `${subject} must be ${alternatives(error.params['allowedValues'])}`;
    case 'minimum':
      return `${subject} must be at least ${String(error.params['limit'])}`;
    case 'maximum':
      return `${subject} must be at most ${String(error.params['limit'])}`;
    case 'type':
      return `${subject} must be ${typeName(error.params['type'])}`;
    default:
      return `${subject} ${error.message ?? 'is not valid'}`;
  }
}

const MAP_SHAPE = {
  file: 'a scenario file must be a map with at least "cases:"',
  case: 'a case must be a map with "name" and "steps"',
  step: 'a step must be a map such as { send: NOOP, expect: 250 }',
  'included file': 'an included file must be a map with "steps:"',
} as const;

/** Messages that say more than the generic ones, by the key the value is written under. */
function specialMessage(
  key: string,
  parent: string | number | undefined,
  item: boolean,
  error: ErrorObject,
  depth: number,
): string | undefined {
  if (parent === 'vars') return `variable "${key}" must be a string, a number or a boolean`;
  if (parent === 'headers') return `header "${key}" must be text`;
  if (parent === 'capture') return `capture "${key}" must be a regular expression such as /queued as ([A-Z0-9]+)/i`;
  switch (key) {
    case 'expect':
      return EXPECT_MESSAGE;
    case 'expect_each':
      return EXPECT_EACH_MESSAGE;
    case 'timeout':
    case 'within':
      return `${key} must be ${DURATION_EXAMPLES}`;
    case 'target':
      return 'target must be "host", "host:port", "[ipv6]:port" or a map with host, socket or exec';
    case 'port':
      return 'port must be a whole number from 1 to 65535';
    case 'send':
      return error.keyword === 'pattern' ? 'send must be one line: it contains a line break' : undefined;
    case 'tls':
      return depth === 1 ? 'tls must be "implicit" or a map such as { verify: false }' : 'tls must be a map of checks such as { min_version: TLSv1.2 }';
    case 'proxy':
      return 'proxy must be a map such as { source: "203.0.113.7:40000" }';
    case 'starttls':
      return 'starttls must be true';
    case 'bdat':
      return 'bdat must be true or a chunk size in bytes (a whole number from 1)';
    case 'mail':
      return 'mail must be the sender address or a map with "from"';
    case 'rcpt':
      return 'rcpt must be the recipient address or a map with "to"';
    case 'data':
      return 'data must be the message text, or a map with "file" or with "headers" and "body"';
    case 'exec':
      return error.keyword === 'minItems' || !item ? 'exec must be a list: the program to run, then its arguments' : 'exec must list strings: the program to run, then its arguments';
    case 'ca':
      return error.keyword === 'minLength' ? 'ca must not be empty' : 'ca must be a path or a list of paths';
    case 'when':
    case 'not':
      return 'a condition must be a map such as { var: name } or { capability: STARTTLS }';
    case 'var':
      return error.keyword === 'pattern' ? `var must be a variable name: ${NAME_RULE}` : undefined;
    case 'mechanism':
      return `mechanism "${String(error.data)}" is not supported: use PLAIN, LOGIN, CRAM-MD5 or XOAUTH2`;
    case 'pipeline':
      return item && error.keyword === 'type' ? 'a pipeline command must be a map such as { send: NOOP, expect: 250 }' : undefined;
    case 'attachments':
      return item && error.keyword === 'type' ? 'an attachment must be a map with "file"' : undefined;
    case 'size':
    case 'valid_for_days':
      return `${key} must be a whole number of at least 0`;
    default:
      return undefined;
  }
}

/** The key a value is written under (for a list entry: the list's key), the segment above it, and whether it is a list entry. */
function subjectOf(path: DataPath): { key: string; parent: string | number | undefined; item: boolean } {
  const last = path.at(-1);
  if (typeof last === 'string') return { key: last, parent: path.at(-2), item: false };
  const key = [...path].reverse().find((segment): segment is string => typeof segment === 'string') ?? '';
  return { key, parent: undefined, item: true };
}

/** The steps of an included file have the shapes of a case's steps. */
function mapKindOrUndefined(path: DataPath, root: FileRoot): MapKind | undefined {
  const shape = path.map((segment) => (typeof segment === 'number' ? '#' : segment)).join('/');
  if (root === 'steps') {
    if (shape === '') return 'included file';
    if (!/^steps(\/|$)/.test(shape)) return undefined;
  }
  const asInCase = root === 'steps' ? `cases/#/${shape}` : shape;
  return SHAPES.find(([pattern]) => pattern.test(asInCase))?.[1];
}

function mapKind(path: DataPath, root: FileRoot): MapKind {
  return mapKindOrUndefined(path, root) ?? (root === 'steps' ? 'included file' : 'file');
}

function missingMessage(keys: string[], kind: MapKind): string {
  const where = kind === 'file' ? '' : ` ${MAPS[kind].where}`;
  if (keys.length === 1) return `missing required key "${keys[0]}"${where}`;
  return `missing required keys ${keys.map((key) => `"${key}"`).join(' and ')}${where}`;
}

function alternatives(values: unknown): string {
  return orList((Array.isArray(values) ? values : [values]).map(String));
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a map',
};

/** A JSON-schema type (or list of types) in words; `words` overrides some of them. */
export function typeName(type: unknown, words: Readonly<Record<string, string>> = {}): string {
  const types = Array.isArray(type) ? type : [type];
  return types.map((name) => words[String(name)] ?? TYPE_WORDS[String(name)] ?? String(name)).join(' or ');
}

/** The allowed key nearest to a misspelt one, when it is close enough to be a likely typo. */
export function suggest(key: string, kind: MapKind): string | undefined {
  return nearestKey(key, MAPS[kind].keys);
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
