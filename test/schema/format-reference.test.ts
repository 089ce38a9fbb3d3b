import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { GENEROUS_MS } from '../helpers/deadlines.js';
import { sourcePath } from '../helpers/paths.js';

interface Generator {
  OUTPUT: string;
  render(schemas?: Record<string, unknown>): string;
  loadSchemas(): Record<string, { $defs?: Record<string, { description?: string }> }>;
  firstDifference(expected: string, actual: string): string | undefined;
}

const script = sourcePath('scripts/format-reference.mjs');
const generator = (await import(pathToFileURL(script).href)) as Generator;

describe('docs/format-reference.md', () => {
  test('is what the generator makes of the schemas as they are now', () => {
    const committed = readFileSync(sourcePath(generator.OUTPUT), 'utf8');
    const difference = generator.firstDifference(generator.render(), committed);
    assert.equal(difference, undefined, `${generator.OUTPUT} is stale (${difference}): run node scripts/format-reference.mjs`);
  });

  test('has a section with an anchor for every definition of every schema', () => {
    const rendered = generator.render();
    const schemas = generator.loadSchemas();
    for (const [key, schema] of Object.entries(schemas)) {
      assert.ok(rendered.includes(`<a id="${key}-file"></a>`), `${key} file section`);
      for (const name of Object.keys(schema.$defs ?? {})) {
        const anchor = `${key}-${name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`;
        assert.ok(rendered.includes(`<a id="${anchor}"></a>`), `section ${anchor}`);
      }
    }
    assert.match(rendered, /^\| `include` \| string \| Insert the steps of another file here/m);
  });

  test('follows a change of a schema, and --check names the difference', async () => {
    const schemas = generator.loadSchemas();
    const step = schemas['scenario']!.$defs!['step']!;
    step.description = 'A changed description.';
    const changed = generator.render(schemas);
    assert.match(changed, /^A changed description\.$/m);
    assert.match(generator.firstDifference(changed, generator.render()) ?? '', /^line \d+: expected "A changed description\.", found "One action/);
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [script, '--check'], { timeout: GENEROUS_MS });
    assert.equal(stdout + stderr, '');
  });
});
