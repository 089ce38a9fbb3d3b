import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, Options, ValidateFunction } from 'ajv/dist/2020.js';
import type { SourceIssue } from '../errors.js';
import { packageRoot } from '../package-info.js';
import type { FileRoot } from './as-written.js';
import type { PositionFinder } from './positions.js';
import { explain } from './schema-messages.js';

const SCENARIO_SCHEMA_FILE = join('schema', 'scenario.schema.json');

/** schema/scenario.schema.json of this package. */
export function schemaPath(): string {
  return join(packageRoot(), SCENARIO_SCHEMA_FILE);
}

// ---- the compiled schema: precompiled at build time, compiled here only as a fallback ----

/** One schema and how it is compiled; the build step precompiles every spec with the same options. */
export interface ValidatorSpec {
  /** The schema, relative to the package root. */
  schemaFile: string;
  /** The URL of the compiled module that uses the validator; the precompiled file sits beside it. */
  moduleUrl: string;
  /** The precompiled validator's file name (CommonJS: ajv's standalone output uses require). */
  precompiledFile: string;
  options: Options;
  /** Schemas (relative to the package root) that this one's $refs point into. */
  refSchemaFiles?: string[];
}

/** verbose: errors carry the offending value, for messages that repeat it. */
const AJV_OPTIONS: Options = { strict: true, allowUnionTypes: true, allErrors: true, verbose: true };

export const scenarioValidatorSpec: ValidatorSpec = {
  schemaFile: SCENARIO_SCHEMA_FILE,
  moduleUrl: import.meta.url,
  precompiledFile: 'scenario-validator.cjs',
  options: AJV_OPTIONS,
};

/** Files of steps that scenarios include; the schema refers to the scenario schema's step. */
export const stepsValidatorSpec: ValidatorSpec = {
  schemaFile: join('schema', 'steps.schema.json'),
  moduleUrl: import.meta.url,
  precompiledFile: 'steps-validator.cjs',
  options: AJV_OPTIONS,
  refSchemaFiles: [SCENARIO_SCHEMA_FILE],
};

/**
 * The texts of a spec's schema and of the schemas it refers to, and the text a precompiled
 * validator records to be recognised as current (the schema alone when it refers to no other).
 */
export function specSources(spec: ValidatorSpec): { schema: string; refs: string[]; recordedText: string } {
  const read = (file: string) => readFileSync(join(packageRoot(), file), 'utf8');
  const schema = read(spec.schemaFile);
  const refs = (spec.refSchemaFiles ?? []).map(read);
  return { schema, refs, recordedText: [schema, ...refs].join('\n') };
}

/** The file the build step writes a spec's precompiled validator to. */
export function precompiledPath(spec: ValidatorSpec): string {
  return join(dirname(fileURLToPath(spec.moduleUrl)), spec.precompiledFile);
}

interface PrecompiledModule {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
  /** The schema text it was built from, to notice a schema edited since the build. */
  schemaText?: string;
}

/**
 * The spec's validator: the precompiled one when it was built from the schema as it is now,
 * otherwise compiled from the schema (slower to start: loads and runs ajv's compiler).
 */
export function loadValidator(spec: ValidatorSpec): ValidateFunction {
  const { schema, refs, recordedText } = specSources(spec);
  const require = createRequire(spec.moduleUrl);
  const precompiled = loadPrecompiled(require, spec, recordedText);
  if (precompiled) return precompiled as ValidateFunction;
  const { Ajv2020 } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  const ajv = new Ajv2020(spec.options);
  for (const ref of refs) ajv.addSchema(JSON.parse(ref) as object);
  return ajv.compile(JSON.parse(schema) as object);
}

function loadPrecompiled(require: NodeJS.Require, spec: ValidatorSpec, schemaText: string): PrecompiledModule | undefined {
  let loaded: PrecompiledModule;
  try {
    loaded = require(precompiledPath(spec)) as PrecompiledModule;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
  return loaded.schemaText === schemaText ? loaded : undefined;
}

const compiled: Partial<Record<FileRoot, ValidateFunction>> = {};

function validator(root: FileRoot): ValidateFunction {
  return (compiled[root] ??= loadValidator(root === 'scenario' ? scenarioValidatorSpec : stepsValidatorSpec));
}

/** The schema problems of data (empty when it is valid): one sentence per problem, at its position. */
export function schemaIssues(data: unknown, positions: PositionFinder, root: FileRoot = 'scenario'): SourceIssue[] {
  const validate = validator(root);
  if (validate(data)) return [];
  return explain(validate.errors ?? [], positions, root);
}

