import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario, type LoadOptions } from '../../src/scenario/load.js';
import { decodeUtf8 } from '../../src/scenario/yaml-source.js';
import { assertCleanFailure } from '../corpus/check-issues.js';
import { fuzzContext, fuzzMutations, fuzzSeed, mutate, Random } from '../corpus/mutate.js';
import { sourcePath } from '../helpers/paths.js';

/** Mutations of each example: a few in the suite; `npm run fuzz` makes many more. */
const MUTATIONS_PER_FILE = fuzzMutations(40);

const examples = ['scenarios', 'examples'].flatMap((dir) =>
  readdirSync(sourcePath(dir))
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => join(dir, name)),
);

/** Every variable the file uses set on the command line, and every environment variable set. */
function optionsFor(source: string): LoadOptions {
  const names = [...source.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((match) => match[1]!);
  const env = new Proxy<Record<string, string | undefined>>({}, { get: (_, name) => (typeof name === 'string' ? `env-${name}` : undefined) });
  // Certificates an example leaves to its user are collected, as validate does, not refused.
  return { vars: Object.fromEntries(names.map((name) => [name, 'value'])), env, missingFiles: new Set() };
}

function load(bytes: Buffer, file: string, options: LoadOptions): unknown {
  return parseScenario(decodeUtf8(bytes, file), file, options);
}

describe('fuzzing the scenario loader: a scenario or a ScenarioError with clean positions, nothing else', () => {
  test('there are examples to mutate', () => {
    assert.ok(examples.length >= 10, examples.join(', '));
  });

  for (const example of examples) {
    test(example, () => {
      const file = sourcePath(example);
      const original = readFileSync(file);
      const options = optionsFor(original.toString('utf8'));
      assert.ok(load(original, file, options), 'the unmutated example loads');
      const random = new Random(fuzzSeed(example));
      let failures = 0;
      for (let round = 0; round < MUTATIONS_PER_FILE; round++) {
        const bytes = mutate(original, random);
        try {
          load(bytes, file, options);
        } catch (error) {
          failures += 1;
          assertCleanFailure(error, file, bytes, `${example}, mutation ${round}${fuzzContext()}:\n${bytes.toString('utf8')}\n`);
        }
      }
      assert.ok(failures > MUTATIONS_PER_FILE / 10, `only ${failures} of ${MUTATIONS_PER_FILE} mutations were refused`);
    });
  }
});
