import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isManifestFile, parseManifest } from '../../src/manifest/manifest.js';
import { decodeUtf8 } from '../../src/scenario/yaml-source.js';
import { assertCleanFailure } from '../corpus/check-issues.js';
import { fuzzContext, fuzzMutations, fuzzSeed, mutate, Random } from '../corpus/mutate.js';
import { sourcePath } from '../helpers/paths.js';

/** Mutations of the manifest: a few in the suite; `npm run fuzz` makes many more. */
const MUTATIONS = fuzzMutations(100);

describe('fuzzing the manifest loader: a manifest or a ScenarioError with clean positions, nothing else', () => {
  test('mutations of a manifest', () => {
    const file = sourcePath('test/manifest/fixtures/fleet.yaml');
    const original = readFileSync(file);
    assert.ok(parseManifest(original.toString('utf8'), file).targets.length > 0, 'the unmutated manifest loads');
    const random = new Random(fuzzSeed('fleet.yaml'));
    let failures = 0;
    for (let round = 0; round < MUTATIONS; round++) {
      const bytes = mutate(original, random);
      const context = `mutation ${round}${fuzzContext()}:\n${bytes.toString('utf8')}\n`;
      assert.equal(typeof isManifestFile(file, bytes.toString('utf8')), 'boolean', context);
      try {
        parseManifest(decodeUtf8(bytes, file), file);
      } catch (error) {
        failures += 1;
        assertCleanFailure(error, file, bytes, context);
      }
    }
    assert.ok(failures > MUTATIONS / 10, `only ${failures} of ${MUTATIONS} mutations were refused`);
  });
});
