import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ScenarioError, UsageError } from '../../src/errors.js';
import { loadScenarioFile, loadScenarios } from '../../src/scenario/load.js';
import { sourcePath } from '../helpers/paths.js';

const fixtures = sourcePath('test/scenario/fixtures');
const minimal = (name: string) => `cases:\n  - name: ${name}\n    steps: [{ expect: 220 }]\n`;

describe('loadScenarios', () => {
  test('finds *.yaml and *.yml recursively, sorted, ignoring other files and dot-folders', async () => {
    const tree = join(fixtures, 'tree');
    const scenarios = await loadScenarios([tree], { env: {} });
    assert.deepEqual(
      scenarios.map((scenario) => scenario.file),
      [join(tree, 'a.yaml'), join(tree, 'b.yml'), join(tree, 'sub', 'c.yaml')],
    );
    assert.deepEqual(
      scenarios.map((scenario) => scenario.cases[0]?.name),
      ['a', 'b', 'c'],
    );
  });

  test('files keep the order given, and a file named twice is loaded once', async () => {
    const a = join(fixtures, 'tree', 'a.yaml');
    const b = join(fixtures, 'tree', 'b.yml');
    const scenarios = await loadScenarios([b, a, b], { env: {} });
    assert.deepEqual(
      scenarios.map((scenario) => scenario.file),
      [b, a],
    );
  });

  test('skips node_modules', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-load-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, 'node_modules', 'pkg'), { recursive: true });
    await writeFile(join(dir, 'node_modules', 'pkg', 'x.yaml'), 'not: [valid');
    await writeFile(join(dir, 'only.yaml'), minimal('only'));
    const scenarios = await loadScenarios([dir], { env: {} });
    assert.deepEqual(
      scenarios.map((scenario) => scenario.name),
      ['only'],
    );
  });

  test('collects the issues of every file into one ScenarioError', async () => {
    const dir = join(fixtures, 'two-broken');
    const error = await loadScenarios([dir], { env: {} }).then(
      () => assert.fail('expected a ScenarioError'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof ScenarioError);
    assert.deepEqual(error.message.split('\n'), [
      `${join(dir, 'one.yaml')}:3:15: unknown key "sned" in a step (did you mean "send"?)`,
      `${join(dir, 'two.yaml')}:1:8: cases must list at least one case`,
    ]);
  });

  test('a missing path is a usage error', async () => {
    const missing = join(fixtures, 'no-such-folder');
    await assert.rejects(loadScenarios([missing]), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.equal(error.message, `cannot read "${missing}": no such file or directory`);
      return true;
    });
    await assert.rejects(loadScenarioFile(join(missing, 'x.yaml')), UsageError);
  });

  test('a folder without scenario files is a usage error', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-empty-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'readme.txt'), 'nothing');
    await assert.rejects(loadScenarios([dir]), {
      name: 'UsageError',
      message: `no scenario files (*.yaml, *.yml) in "${dir}"`,
    });
  });

  test('a relative path stays relative in the result and in positions', async () => {
    const path = relative(process.cwd(), join(fixtures, 'valid', 'no-timeout.yaml'));
    const scenario = await loadScenarioFile(path);
    assert.equal(scenario.file, path);
    assert.equal(scenario.cases[0]?.pos.file, path);
  });

  describe('manifests and files of steps met in folders and patterns', () => {
    /** A folder of checks as it is often kept: scenarios, their manifest and shared steps together. */
    async function checksFolder(t: { after(fn: () => Promise<void>): void }): Promise<string> {
      const dir = await mkdtemp(join(tmpdir(), 'smtpspec-kinds-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      await mkdir(join(dir, 'preludes'));
      await writeFile(join(dir, 'greeting.yaml'), 'cases:\n  - name: greeting\n    steps:\n      - include: preludes/ehlo.yaml\n');
      await writeFile(join(dir, 'preludes', 'ehlo.yaml'), 'steps:\n  - expect: 220\n  - send: EHLO x.test\n    expect: 250\n');
      await writeFile(join(dir, 'fleet.yaml'), 'targets:\n  - host: mx.example.com\nscenarios: ["*.yaml"]\n');
      return dir;
    }

    test('are left out of a folder: only its scenarios are loaded, includes still work', async (t) => {
      const dir = await checksFolder(t);
      const scenarios = await loadScenarios([dir], { env: {} });
      assert.deepEqual(scenarios.map((scenario) => scenario.file), [join(dir, 'greeting.yaml')]);
      assert.equal(scenarios[0]?.cases[0]?.steps.length, 2);
    });

    test('are left out of a pattern\'s matches', async (t) => {
      const dir = await checksFolder(t);
      const scenarios = await loadScenarios([join(dir, '**', '*.yaml')], { env: {} });
      assert.deepEqual(scenarios.map((scenario) => scenario.file), [join(dir, 'greeting.yaml')]);
    });

    test('a file named on its own is loaded as a scenario, and its errors are reported', async (t) => {
      const dir = await checksFolder(t);
      await assert.rejects(loadScenarios([join(dir, 'preludes', 'ehlo.yaml')], { env: {} }), (error: unknown) => {
        assert.ok(error instanceof ScenarioError);
        assert.ok(error.issues.some((issue) => /missing required key "cases"/.test(issue.message)), String(error.message));
        return true;
      });
    });

    test('a folder holding only a manifest is a usage error that says what to run', async (t) => {
      const dir = await checksFolder(t);
      await rm(join(dir, 'greeting.yaml'));
      await assert.rejects(loadScenarios([dir]), {
        name: 'UsageError',
        message: `no scenario files in "${dir}": ${join(dir, 'fleet.yaml')} is a manifest; run it on its own`,
      });
      await rm(join(dir, 'fleet.yaml'));
      await assert.rejects(loadScenarios([dir]), {
        name: 'UsageError',
        message: `no scenario files in "${dir}", only files of steps for include: (${join(dir, 'preludes', 'ehlo.yaml')})`,
      });
    });
  });
});
