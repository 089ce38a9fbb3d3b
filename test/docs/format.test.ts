import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sourcePath } from '../helpers/paths.js';

/** docs/format.md explains the keys of a scenario file in tables: they must be the schema's keys, all of them. */

const format = readFileSync(sourcePath('docs/format.md'), 'utf8');

/** The keys a table lists in its first column, under a heading of docs/format.md. */
function tableKeys(heading: string): string[] {
  const start = format.search(new RegExp(`^#{2,3} ${heading}\\n`, 'm'));
  assert.ok(start >= 0, `docs/format.md has a "${heading}" section`);
  const rest = format.slice(start + 1);
  const end = rest.search(/\n#{2,3} /);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((match) => match[1]!);
}

type Schema = { properties?: Record<string, unknown>; $defs?: Record<string, Schema> } & Record<string, unknown>;
const schema = JSON.parse(readFileSync(sourcePath('schema/scenario.schema.json'), 'utf8')) as Schema;

/** Every property name the schema allows anywhere. */
function schemaKeys(node: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const item of node) schemaKeys(item, into);
  else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    if (record.properties && typeof record.properties === 'object') for (const key of Object.keys(record.properties)) into.add(key);
    for (const value of Object.values(record)) schemaKeys(value, into);
  }
  return into;
}

describe('the scenario format page', () => {
  test('the keys in the format tables are keys of the schema', () => {
    const known = schemaKeys(schema);
    const keys = ['File', 'Case', 'Step'].flatMap(tableKeys);
    assert.ok(keys.length > 20, keys.join(', '));
    for (const key of keys) assert.ok(known.has(key), `"${key}" is in schema/scenario.schema.json`);
  });

  test('the top-level, case and step keys of the schema are all in the format tables', () => {
    const documented = new Set(['File', 'Case', 'Step'].flatMap(tableKeys));
    const defs = schema.$defs ?? {};
    const objects = [schema, defs['case'], defs['step']].filter((node): node is Schema => node !== undefined);
    assert.equal(objects.length, 3, 'the schema has $defs case and step');
    const missing = objects.flatMap((node) => Object.keys(node.properties ?? {})).filter((key) => !documented.has(key));
    assert.deepEqual([...new Set(missing)], []);
  });

  test('each table is read from its own section only', () => {
    const caseKeys = tableKeys('Case');
    assert.ok(caseKeys.includes('steps'), caseKeys.join(', '));
    assert.ok(!caseKeys.includes('cases') && !caseKeys.includes('send'), caseKeys.join(', '));
  });
});
