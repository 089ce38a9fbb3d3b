import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { sourcePath } from './helpers/paths.js';

const readme = readFileSync(sourcePath('README.md'), 'utf8');

/** The text outside fenced code blocks. */
function prose(markdown: string): string {
  return markdown.split(/^```.*$/m).filter((_, index) => index % 2 === 0).join('\n');
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

function headings(markdown: string): Set<string> {
  return new Set([...prose(markdown).matchAll(/^#{1,6} (.+)$/gm)].map((match) => anchorOf(match[1]!)));
}

/** The keys a table lists in its first column, under a heading of the README. */
function tableKeys(heading: string): string[] {
  const start = readme.indexOf(`\n### ${heading}\n`);
  assert.ok(start >= 0, `README has a "${heading}" section`);
  const section = readme.slice(start + 1).split(/\n#{2,3} /)[0]!;
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

describe('the README', () => {
  test('every link to a heading of the README points at one that exists', () => {
    const known = headings(readme);
    const links = [...prose(readme).matchAll(/\]\(#([^)]+)\)/g)].map((match) => match[1]!);
    assert.ok(links.length > 10);
    for (const link of links) assert.ok(known.has(link), `#${link} is a heading`);
  });

  test('every link to a file of the project points at one that exists', () => {
    const links = [...prose(readme).matchAll(/\]\(((?:scenarios|examples|schema|docs|src|test|bench)[^)#]*)\)/g)].map((match) => match[1]!);
    assert.ok(links.length > 10);
    for (const link of links) assert.ok(existsSync(sourcePath(link)), `${link} exists`);
  });

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
});
