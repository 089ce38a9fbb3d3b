import { join } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import type { SourceIssue } from '../errors.js';
import { packageRoot } from '../package-info.js';
import { pathFromPointer, type DataPath, type PositionFinder } from '../scenario/positions.js';
import { nearestKey } from '../scenario/edit-distance.js';
import { typeName } from '../scenario/schema-messages.js';
import { loadValidator, scenarioValidatorSpec, type ValidatorSpec } from '../scenario/validate.js';

const MANIFEST_SCHEMA_FILE = join('schema', 'manifest.schema.json');

/** schema/manifest.schema.json of this package. */
export function manifestSchemaPath(): string {
  return join(packageRoot(), MANIFEST_SCHEMA_FILE);
}

/** Compiled as the scenario schema is (precompiled by the build step when it can be). */
export const manifestValidatorSpec: ValidatorSpec = {
  schemaFile: MANIFEST_SCHEMA_FILE,
  moduleUrl: import.meta.url,
  precompiledFile: 'manifest-validator.cjs',
  options: scenarioValidatorSpec.options,
};

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  return (compiled ??= loadValidator(manifestValidatorSpec));
}

/** The maps of a manifest, their allowed keys, and how messages say where they are. */
const MAPS = {
  manifest: { shape: /^$/, where: 'at the top level', keys: ['scenarios', 'checks', 'dns_server', 'secrets', 'defaults', 'targets'] },
  defaults: { shape: /^defaults$/, where: 'in defaults', keys: ['timeout', 'tls', 'vars', 'mx', 'local_address', 'family'] },
  target: {
    shape: /^targets\/#$/,
    where: 'in a target',
    keys: ['name', 'host', 'domain', 'port', 'tags', 'timeout', 'tls', 'vars', 'mx', 'local_address', 'family', 'scenarios', 'checks'],
  },
  tls: { shape: /^(defaults|targets\/#)\/tls$/, where: 'in tls', keys: ['implicit', 'verify', 'ca', 'servername', 'cert', 'key'] },
} as const;

type MapKind = keyof typeof MAPS;

const MAP_SHAPE: Record<MapKind, string> = {
  manifest: 'a manifest must be a map with at least "targets:"',
  defaults: 'defaults must be a map such as { timeout: 10s }',
  target: 'a target must be a map such as { host: mx.example.com } or { domain: example.org }',
  tls: 'tls must be a map such as { verify: true, ca: certs/ca.pem }',
};

const NAME_RULE = 'use letters, digits and _, not starting with a digit';

/** The schema problems of data (empty when it is valid): one sentence per problem, at its position. */
export function manifestSchemaIssues(data: unknown, positions: PositionFinder): SourceIssue[] {
  const validate = validator();
  if (validate(data)) return [];
  const issues: SourceIssue[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    if (error.schemaPath.includes('/propertyNames/')) continue;
    const issue = explain(pathFromPointer(error.instancePath), error, positions);
    const id = `${issue.pos.line}:${issue.pos.col}:${issue.message}`;
    if (!seen.has(id)) issues.push(issue);
    seen.add(id);
  }
  return issues;
}

function explain(path: DataPath, error: ErrorObject, positions: PositionFinder): SourceIssue {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      return { pos: positions.keyAt(path, key), message: unknownKeyMessage(key, mapKind(path)) };
    }
    case 'required':
      return { pos: positions.at(path), message: `missing required key "${String(params['missingProperty'])}"${whereOf(path)}` };
    case 'dependentRequired': {
      const key = String(params['property']);
      const message = `"${key}" needs "${String(params['missingProperty'])}" beside it: a client certificate and its private key go together`;
      return { pos: positions.keyAt(path, key), message };
    }
    case 'propertyNames': {
      const name = String(params['propertyName']);
      return { pos: positions.keyAt(path, name), message: `variable name "${name}" is not valid: ${NAME_RULE}` };
    }
    default:
      return { pos: positions.at(path), message: valueMessage(path, error) };
  }
}

function unknownKeyMessage(key: string, kind: MapKind | undefined): string {
  if (!kind) return `unknown key "${key}"`;
  const near = nearestKey(key, MAPS[kind].keys);
  return `unknown key "${key}" ${MAPS[kind].where}${near ? ` (did you mean "${near}"?)` : ''}`;
}

function mapKind(path: DataPath): MapKind | undefined {
  const shape = path.map((segment) => (typeof segment === 'number' ? '#' : segment)).join('/');
  return (Object.keys(MAPS) as MapKind[]).find((kind) => MAPS[kind].shape.test(shape));
}

function whereOf(path: DataPath): string {
  const kind = mapKind(path);
  return kind && kind !== 'manifest' ? ` ${MAPS[kind].where}` : '';
}

/** A sentence for a value of the wrong type or form, named by the key it is written under. */
function valueMessage(path: DataPath, error: ErrorObject): string {
  const kind = mapKind(path);
  if (kind) return MAP_SHAPE[kind];
  const last = path.at(-1);
  const item = typeof last === 'number';
  const key = String(item ? path.at(-2) : last);
  if (path.at(-2) === 'vars') return `variable "${key}" must be a string, a number or a boolean`;
  const special = SPECIAL[key]?.(item, error.keyword);
  if (special) return special;
  const subject = item ? `each entry of ${key}` : key;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'minLength':
      return `${subject} must not be empty`;
    case 'minItems':
      return `${key} must list at least one entry`;
    case 'uniqueItems':
      return `${key} must not list the same value twice`;
    case 'type':
      return `${subject} must be ${typeName(params['type'], MANIFEST_TYPE_WORDS)}`;
    default:
      return `${subject} ${error.message ?? 'is not valid'}`;
  }
}

const SPECIAL: Record<string, (item: boolean, keyword: string) => string | undefined> = {
  timeout: () => 'timeout must be a duration such as "500ms", "30s" or "2m"',
  port: () => 'port must be a whole number from 1 to 65535',
  mx: () => 'mx must be "all" or "primary"',
  family: () => 'family must be 4 (IPv4 only) or 6 (IPv6 only)',
  tags: (item, keyword) =>
    item && keyword !== 'uniqueItems' ? 'a tag must be text of letters, digits, ".", "_" and "-" (no spaces or commas)' : undefined,
  targets: (item, keyword) => (keyword === 'minItems' ? 'targets must list at least one target' : item ? undefined : 'targets must be a list of targets'),
  scenarios: (item, keyword) =>
    keyword === 'minItems' ? 'scenarios must list at least one file, folder or pattern' : item ? undefined : 'scenarios must be a list of files, folders and patterns',
  ca: (_item, keyword) => (keyword === 'minLength' ? 'ca must not be empty' : 'ca must be a path or a list of paths'),
};

/** In a manifest, string values are named as text. */
const MANIFEST_TYPE_WORDS = { string: 'text' };
