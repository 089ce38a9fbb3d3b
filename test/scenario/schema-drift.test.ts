import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  ACTION_KEYS,
  attachmentKeys,
  authKeys,
  capabilitiesKeys,
  caseKeys,
  CHECK_KEYS,
  conditionKeys,
  dataKeys,
  mailKeys,
  pipelineCommandKeys,
  proxyKeys,
  rcptKeys,
  scenarioFileKeys,
  stepKeys,
  targetKeys,
  tlsAssertionKeys,
  tlsKeys,
} from '../../src/scenario/as-written.js';
import { schemaPath } from '../../src/scenario/validate.js';
import { dsnCheckKeys, mailboxFindKeys, mailboxKeys, mailboxStepKeys } from '../../src/scenario/as-written-mailboxes.js';

interface ObjectSchema {
  properties?: Record<string, { description?: string; examples?: unknown[] }>;
  required?: string[];
  description?: string;
  examples?: unknown[];
  $defs?: Record<string, ObjectSchema>;
}

const schema = JSON.parse(readFileSync(schemaPath(), 'utf8')) as ObjectSchema;
const defs = schema.$defs ?? {};

/** The key table an object schema implies: each property, required or optional. */
function tableOf(object: ObjectSchema | undefined): Record<string, string> {
  assert.ok(object?.properties, 'the schema object has properties');
  const required = new Set(object.required ?? []);
  return Object.fromEntries(
    Object.keys(object.properties)
      .sort()
      .map((key) => [key, required.has(key) ? 'required' : 'optional']),
  );
}

function sorted(table: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(table).sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('the as-written types and the schema agree', () => {
  const pairs: [string, ObjectSchema | undefined, Record<string, string>][] = [
    ['scenario file (root)', schema, scenarioFileKeys],
    ['case', defs['case'], caseKeys],
    ['step', defs['step'], stepKeys],
    ['target map', defs['target'], targetKeys],
    ['tls settings', defs['tls'], tlsKeys],
    ['proxy', defs['proxy'], proxyKeys],
    ['condition', defs['condition'], conditionKeys],
    ['tls assertions', defs['tlsAssertions'], tlsAssertionKeys],
    ['auth', defs['auth'], authKeys],
    ['pipeline command', defs['pipelineCommand'], pipelineCommandKeys],
    ['mail map', defs['mail'], mailKeys],
    ['rcpt map', defs['rcpt'], rcptKeys],
    ['data map', defs['data'], dataKeys],
    ['attachment', defs['attachment'], attachmentKeys],
    ['capabilities', defs['capabilities'], capabilitiesKeys],
    ['mailbox', defs['mailbox'], mailboxKeys],
    ['mailbox step', defs['mailboxStep'], mailboxStepKeys],
    ['mailbox find', defs['mailboxStep']?.properties?.['find'] as ObjectSchema | undefined, mailboxFindKeys],
    ['dsn check', defs['mailboxStep']?.properties?.['dsn'] as ObjectSchema | undefined, dsnCheckKeys],
  ];
  for (const [name, object, table] of pairs) {
    test(name, () => {
      assert.deepEqual(sorted(table), tableOf(object));
    });
  }

  test('every object definition with properties has a key table', () => {
    const covered = new Set(pairs.map(([, object]) => object));
    const uncovered = Object.entries(defs).filter(([, object]) => object.properties && !covered.has(object));
    assert.deepEqual(uncovered.map(([name]) => name), []);
  });

  test('the action and check keys are step keys', () => {
    for (const key of [...ACTION_KEYS, ...CHECK_KEYS]) assert.ok(key in stepKeys, key);
    assert.deepEqual(
      [...ACTION_KEYS, ...CHECK_KEYS].filter((key, index, all) => all.indexOf(key) !== index),
      [],
      'no key is both an action and a check',
    );
  });

  test('every property and definition has a description and examples', () => {
    const objects: [string, ObjectSchema][] = [['root', schema], ...Object.entries(defs)];
    for (const [name, object] of objects) {
      if (name !== 'root') {
        assert.ok(object.description, `${name} has a description`);
        assert.ok(object.examples?.length, `${name} has examples`);
      }
      for (const [key, property] of Object.entries(object.properties ?? {})) {
        assert.ok(property.description, `${name}.${key} has a description`);
        assert.ok(property.examples?.length, `${name}.${key} has examples`);
      }
    }
  });
});
