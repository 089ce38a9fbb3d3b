// Runs the loaders' fuzz tests long: many more mutations of every file than the test suite makes.
//
//   npm run fuzz                                   2000 mutations of each file, the suite's sequences
//   npm run fuzz -- --mutations 10000 --seed 7     as many as asked, from a sequence of their own
//
// FUZZ_MUTATIONS and FUZZ_SEED in the environment do the same. Expects a build (npm run fuzz makes one).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const here = import.meta.dirname ?? new URL('.', import.meta.url).pathname;
const LONG = '2000';

let options;
try {
  options = parseArgs({ options: { mutations: { type: 'string' }, seed: { type: 'string' } } }).values;
} catch (error) {
  console.error(`fuzz: ${error.message}`);
  process.exit(2);
}
const mutations = options.mutations ?? process.env.FUZZ_MUTATIONS ?? LONG;
if (!/^[1-9]\d*$/.test(mutations)) {
  console.error(`fuzz: --mutations expects a whole number of at least 1, not "${mutations}"`);
  process.exit(2);
}
const seed = options.seed ?? process.env.FUZZ_SEED;
const env = { ...process.env, FUZZ_MUTATIONS: mutations, ...(seed ? { FUZZ_SEED: seed } : {}) };
console.log(`fuzzing the loaders: ${mutations} mutations of each file${seed ? `, seed ${seed}` : ''}`);
const result = spawnSync(process.execPath, [join(here, 'run-tests.mjs'), 'fuzz.test'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
