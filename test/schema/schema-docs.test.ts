import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { sourcePath } from '../helpers/paths.js';

const require = createRequire(import.meta.url);
const { Ajv2020 } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
const addFormats = require('ajv-formats') as (ajv: InstanceType<typeof Ajv2020>) => unknown;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type SchemaNode = { [key: string]: Json };

const SCHEMA_FILES = ['schema/scenario.schema.json', 'schema/manifest.schema.json', 'schema/steps.schema.json'];
const schemas = SCHEMA_FILES.map((file) => ({ file, root: JSON.parse(readFileSync(sourcePath(file), 'utf8')) as SchemaNode }));

/** Keywords whose value maps names to schemas: every entry is a schema, whatever its name. */
const SCHEMA_MAPS = new Set(['properties', '$defs', 'patternProperties', 'dependentSchemas']);
/** Keywords whose value is data, not schemas. */
const DATA_KEYWORDS = new Set(['examples', 'enum', 'const', 'default', 'required', 'dependentRequired']);

interface Found {
  pointer: string;
  node: SchemaNode;
  /** Whether the node is an entry of a `properties` map. */
  property: boolean;
}

/** Every schema node below root, with its JSON pointer. */
function schemaNodes(node: Json, pointer = '', property = false): Found[] {
  if (typeof node !== 'object' || node === null) return [];
  if (Array.isArray(node)) return node.flatMap((item, index) => schemaNodes(item, `${pointer}/${index}`));
  const found: Found[] = [{ pointer, node, property }];
  for (const [key, value] of Object.entries(node)) {
    const at = `${pointer}/${escapePointer(key)}`;
    if (SCHEMA_MAPS.has(key) && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [name, child] of Object.entries(value)) found.push(...schemaNodes(child, `${at}/${escapePointer(name)}`, key === 'properties'));
    } else if (!DATA_KEYWORDS.has(key)) {
      found.push(...schemaNodes(value, at));
    }
  }
  return found;
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function ajvWithEverySchema(): InstanceType<typeof Ajv2020> {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  addFormats(ajv);
  for (const { root } of schemas) ajv.addSchema(root);
  return ajv;
}

describe('the schemas document every property', () => {
  for (const { file, root } of schemas) {
    test(`${file}: every property has a description and examples`, () => {
      const properties = schemaNodes(root).filter((found) => found.property);
      assert.ok(properties.length > 0);
      const undocumented = properties.flatMap(({ pointer, node }) => [
        ...(typeof node['description'] === 'string' && node['description'].trim().length >= 10 ? [] : [`${pointer}: no description`]),
        ...(Array.isArray(node['examples']) && node['examples'].length > 0 ? [] : [`${pointer}: no examples`]),
      ]);
      assert.deepEqual(undocumented, []);
    });

    test(`${file}: every example is valid against its own subschema`, () => {
      const ajv = ajvWithEverySchema();
      const id = String(root['$id']);
      const invalid: string[] = [];
      let checked = 0;
      for (const { pointer, node } of schemaNodes(root)) {
        const examples = node['examples'];
        if (!Array.isArray(examples)) continue;
        const validate = ajv.compile({ $ref: `${id}#${encodeURI(pointer)}` });
        examples.forEach((example, index) => {
          checked += 1;
          if (!validate(example)) invalid.push(`${pointer}/examples/${index}: ${ajv.errorsText(validate.errors)}`);
        });
      }
      assert.ok(checked > 0, "examples were checked");
      assert.deepEqual(invalid, []);
    });
  }

  test('the walk finds properties inside $defs, items and alternatives, and a bad example is caught', () => {
    const root: SchemaNode = {
      $id: 'https://example.test/probe.schema.json',
      type: 'object',
      properties: { port: { description: 'A port number.', type: 'integer', examples: ['not a number'] } },
      $defs: { list: { type: 'array', items: { oneOf: [{ type: 'object', properties: { inner: { type: 'string' } } }] } } },
    };
    const found = schemaNodes(root).filter((node) => node.property).map((node) => node.pointer);
    assert.deepEqual(found, ['/properties/port', '/$defs/list/items/oneOf/0/properties/inner']);
    const ajv = new Ajv2020({ strict: true });
    ajv.addSchema(root);
    assert.equal(ajv.compile({ $ref: `${String(root['$id'])}#/properties/port` })('not a number'), false);
  });
});
