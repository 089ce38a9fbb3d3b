import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { includedFileKeys } from '../../src/scenario/as-written.js';
import { parseYamlDocument, yamlData } from '../../src/scenario/positions.js';
import { loadValidator, schemaIssues, stepsValidatorSpec } from '../../src/scenario/validate.js';
import { formatIssue } from '../../src/errors.js';
import { sourcePath } from '../helpers/paths.js';

interface ObjectSchema {
  properties: Record<string, unknown>;
  required?: string[];
}

const schema = JSON.parse(readFileSync(sourcePath('schema/steps.schema.json'), 'utf8')) as ObjectSchema;

function issuesOf(source: string): string[] {
  const parsed = parseYamlDocument(source, 'prelude.yaml');
  assert.ok(!('problem' in parsed));
  const data = yamlData(parsed);
  assert.ok('data' in data);
  return schemaIssues(data.data, parsed.positions, 'steps').map(formatIssue);
}

describe('schema/steps.schema.json', () => {
  test('agrees with the as-written key table', () => {
    const required = new Set(schema.required ?? []);
    const fromSchema = Object.fromEntries(Object.keys(schema.properties).sort().map((key) => [key, required.has(key) ? 'required' : 'optional']));
    const fromTable = Object.fromEntries(Object.entries(includedFileKeys).sort(([a], [b]) => (a < b ? -1 : 1)));
    assert.deepEqual(fromTable, fromSchema);
  });

  test('its steps are the scenario schema steps, through a $ref to that schema', () => {
    const validate = loadValidator(stepsValidatorSpec);
    assert.equal(validate({ steps: [{ send: 'EHLO x', expect: 250 }], vars: { x: 1 } }), true);
    assert.equal(validate({ steps: [{ send: 'EHLO x', expect: 'nonsense' }] }), false);
    assert.equal(validate({ cases: [] }), false);
  });

  test('problems read as they do in a scenario, at their positions', () => {
    assert.deepEqual(issuesOf('steps:\n  - expect: 220\n  - sned: EHLO x\n'), ['prelude.yaml:3:5: unknown key "sned" in a step (did you mean "send"?)']);
    assert.deepEqual(issuesOf('cases: []\nsteps: []\n'), [
      'prelude.yaml:1:1: unknown key "cases" at the top level of an included file',
      'prelude.yaml:2:8: steps must list at least one step',
    ]);
    assert.deepEqual(issuesOf('description: x\n'), ['prelude.yaml:1:1: missing required key "steps" at the top level of an included file']);
    assert.deepEqual(issuesOf('- expect: 220\n'), ['prelude.yaml:1:1: an included file must be a map with "steps:"']);
    assert.deepEqual(issuesOf('steps:\n  - send: NOOP\n    timeout: soon\n'), ['prelude.yaml:3:14: timeout must be a duration such as "500ms", "30s" or "2m"']);
  });
});
