import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import { ScenarioError, formatIssue } from '../../src/errors.js';
import { parseScenario } from '../../src/scenario/load.js';
import { GENEROUS_MS, PROMPTLY_MS } from '../helpers/deadlines.js';
import { sourcePath } from '../helpers/paths.js';
import { capture } from '../helpers/capture.js';
import { expectedManifests, expectedScenarios } from './expected.js';
import { generatedManifests, generatedScenarios, type GeneratedFile } from './generated.js';


interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

async function cli(args: string[]): Promise<Outcome> {
  const c = capture({});
  const started = performance.now();
  const code = await main(args, c.io);
  return { code, stdout: c.stdout(), stderr: c.stderr(), ms: performance.now() - started };
}

/**
 * Exit 2, exactly the expected `path:line:col: message` lines on stderr, nothing on stdout, no stack
 * trace, and at once, whatever the input's size or shape: well before PROMPTLY_MS, a bound only a
 * file read or parsed in full (or a loop without end) comes near.
 */
async function assertRefused(args: string[], file: string, expected: string[]): Promise<void> {
  const outcome = await cli(args);
  assert.equal(outcome.code, 2, outcome.stderr);
  assert.equal(outcome.stdout, '');
  assert.doesNotMatch(outcome.stderr, /\n\s+at /, 'no stack trace');
  assert.deepEqual(outcome.stderr.split('\n').slice(0, -1), expected.map((line) => `${file}:${line}`));
  assert.ok(outcome.ms < PROMPTLY_MS, `took ${Math.round(outcome.ms)} ms`);
}

function filesIn(folder: string): string[] {
  return readdirSync(sourcePath('test/corpus', folder)).sort();
}

const validate = (file: string) => ['validate', file];
const run = (file: string) => ['run', file];

describe('broken files in the repository', () => {
  const kinds = [
    { folder: 'scenarios', expected: expectedScenarios, args: validate },
    { folder: 'manifests', expected: expectedManifests, args: run },
  ];
  for (const { folder, expected, args } of kinds) {
    test(`every file in ${folder}/ has its expected lines, and every entry a file`, () => {
      assert.deepEqual(filesIn(folder), Object.keys(expected).sort());
    });
    for (const [name, lines] of Object.entries(expected)) {
      test(`${folder}/${name}`, async () => {
        const file = sourcePath('test/corpus', folder, name);
        await assertRefused(args(file), file, lines);
      });
    }
  }
});

describe('broken files built by the test', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-corpus-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const kinds: { files: GeneratedFile[]; args: (file: string) => string[]; sub: string }[] = [
    { files: generatedScenarios, args: validate, sub: 'scenarios' },
    { files: generatedManifests, args: run, sub: 'manifests' },
  ];
  for (const { files, args, sub } of kinds) {
    for (const generated of files) {
      test(`${sub}: ${generated.name}`, async () => {
        const file = join(dir, `${sub}-${generated.name}`);
        await writeFile(file, generated.bytes());
        await assertRefused(args(file), file, generated.expected);
      });
    }
  }
});

describe('input without an end, and text given directly', () => {
  test('a device that never ends is refused before anything is read', { timeout: GENEROUS_MS }, async () => {
    const outcome = await cli(validate('/dev/zero'));
    assert.equal(outcome.code, 2, outcome.stderr);
    assert.equal(outcome.stderr.split('\n')[0], 'smtpspec: cannot read "/dev/zero": not a regular file (a character device)');
  });

  test('text given to parseScenario is measured in UTF-8 bytes, as the file would hold it', () => {
    // 3,000,000 characters, 6,000,000 bytes.
    const source = `name: ${'é'.repeat(3_000_000)}\ncases: []\n`;
    assert.throws(
      () => parseScenario(source, 'big.yaml'),
      (error: unknown) =>
        error instanceof ScenarioError &&
        error.issues.map(formatIssue).join('\n') === 'big.yaml:1:1: the file is 5.8 MB; scenario files may be at most 5 MB',
    );
  });
});
