import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import { expandBraces, expandPattern, isPattern, partMatcher } from '../../src/scenario/glob.js';
import { loadScenarios } from '../../src/scenario/load.js';

const minimal = (name: string) => `cases:\n  - name: ${name}\n    steps: [{ expect: 220 }]\n`;

describe('pattern parts', () => {
  test('*, ? and classes match within one name', () => {
    assert.ok(partMatcher('*.yaml')('relay.yaml'));
    assert.ok(!partMatcher('*.yaml')('relay.yml'));
    assert.ok(partMatcher('*.y?ml')('relay.yaml'));
    assert.ok(partMatcher('[ab]*')('b.yaml'));
    assert.ok(!partMatcher('[ab]*')('c.yaml'));
    assert.ok(partMatcher('[a-c]?')('cx'));
    assert.ok(!partMatcher('[!a]*')('a.yaml'));
    assert.ok(partMatcher('[!a]*')('b.yaml'));
    assert.ok(partMatcher('[^a]*')('b.yaml'));
  });

  test('a leading dot is matched only by a part that starts with one', () => {
    assert.ok(!partMatcher('*')('.hidden.yaml'));
    assert.ok(!partMatcher('?hidden.yaml')('.hidden.yaml'));
    assert.ok(partMatcher('.*')('.hidden.yaml'));
  });

  test('regular-expression characters in a pattern are plain', () => {
    assert.ok(partMatcher('a+b(1).*')('a+b(1).yaml'));
    assert.ok(!partMatcher('a+b(1).*')('aab1.yaml'));
    assert.ok(partMatcher('a^b$.yaml')('a^b$.yaml'));
  });

  test('braces give one pattern per choice, nested and in sequence', () => {
    assert.deepEqual(expandBraces('s/{a,b}.yaml'), ['s/a.yaml', 's/b.yaml']);
    assert.deepEqual(expandBraces('{a,b{c,d}}{1,2}'), ['a1', 'a2', 'bc1', 'bc2', 'bd1', 'bd2']);
    assert.deepEqual(expandBraces('x{a}y'), ['x{a}y'], 'a brace without a comma is kept');
    assert.deepEqual(expandBraces('plain.yaml'), ['plain.yaml']);
  });

  test('only paths with pattern characters are patterns', () => {
    assert.ok(isPattern('scenarios/*.yaml'));
    assert.ok(isPattern('s/{a,b}.yaml'));
    assert.ok(isPattern('s/[ab].yaml'));
    assert.ok(!isPattern('scenarios/relay.yaml'));
  });
});

describe('expandPattern', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-glob-'));
    for (const file of ['a.yaml', 'b.yml', 'c.txt', '.hidden.yaml', 'sub/d.yaml', 'sub/deep/e.yaml', 'node_modules/p/f.yaml', '.git/g.yaml', 'x[1].yaml']) {
      await mkdir(join(dir, file, '..'), { recursive: true });
      await writeFile(join(dir, file), minimal(file.replace(/\W/g, '_')));
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('matches names in one folder, written as the pattern is', () => {
    assert.deepEqual(expandPattern('*.yaml', dir), ['a.yaml', 'x[1].yaml']);
    assert.deepEqual(expandPattern('*.y*ml', dir), ['a.yaml', 'b.yml', 'x[1].yaml']);
    assert.deepEqual(expandPattern('*', dir), ['a.yaml', 'b.yml', 'c.txt', 'sub', 'x[1].yaml']);
    assert.deepEqual(expandPattern(join(dir, '?.yml'), '/'), [join(dir, 'b.yml')]);
  });

  test('** stands for any number of folders, skipping node_modules and dot-folders', () => {
    assert.deepEqual(expandPattern('**/*.yaml', dir), ['a.yaml', 'sub/d.yaml', 'sub/deep/e.yaml', 'x[1].yaml']);
    assert.deepEqual(expandPattern('sub/**', dir), ['sub', 'sub/deep']);
  });

  test('node_modules is matched only by a plain part that names it', () => {
    assert.deepEqual(expandPattern('*/*/f.yaml', dir), []);
    assert.deepEqual(expandPattern('node_*', dir), []);
    assert.deepEqual(expandPattern('node_modules/*/f.yaml', dir), ['node_modules/p/f.yaml']);
  });

  test('plain parts and braces combine with the rest', () => {
    assert.deepEqual(expandPattern('sub/*/e.yaml', dir), ['sub/deep/e.yaml']);
    assert.deepEqual(expandPattern('{a,sub/d}.yaml', dir), ['a.yaml', 'sub/d.yaml']);
    assert.deepEqual(expandPattern('.*', dir), ['.git', '.hidden.yaml']);
  });

  test('a backslash makes the next character plain', { skip: process.platform === 'win32' && 'a backslash separates folders on Windows' }, () => {
    assert.deepEqual(expandPattern('x\\[1\\].yaml', dir), ['x[1].yaml']);
    assert.deepEqual(expandPattern('x[1].yaml', dir), [], '[1] is a class: it matches x1.yaml only');
  });

  test('finds nothing where nothing matches, or the folder is missing', () => {
    assert.deepEqual(expandPattern('*.json', dir), []);
    assert.deepEqual(expandPattern('missing/*.yaml', dir), []);
  });

  test('follows a symbolic link to a folder named by a part, not by **', async (t) => {
    const link = join(dir, 'linked');
    await symlink(join(dir, 'sub'), link);
    t.after(() => rm(link, { force: true }));
    assert.deepEqual(expandPattern('l*/d.yaml', dir), ['linked/d.yaml']);
    assert.deepEqual(expandPattern('**/d.yaml', dir), ['sub/d.yaml']);
  });

  test('loadScenarios takes a pattern: scenario files among the matches, folders searched', async () => {
    const scenarios = await loadScenarios([join(dir, '*')], { env: {} });
    // Folders among the matches are searched; * does not name node_modules.
    assert.deepEqual(
      scenarios.map((scenario) => scenario.file),
      ['a.yaml', 'b.yml', 'sub/d.yaml', 'sub/deep/e.yaml', 'x[1].yaml'].map((file) => join(dir, file)),
    );
    const deep = await loadScenarios([join(dir, '**', '*.y*ml')], { env: {} });
    assert.deepEqual(
      deep.map((scenario) => scenario.file),
      ['a.yaml', 'b.yml', 'sub/d.yaml', 'sub/deep/e.yaml', 'x[1].yaml'].map((file) => join(dir, file)),
    );
  });

  test('an existing path is taken as written, even if it looks like a pattern', async () => {
    const scenarios = await loadScenarios([join(dir, 'x[1].yaml')], { env: {} });
    assert.deepEqual(
      scenarios.map((scenario) => scenario.file),
      [join(dir, 'x[1].yaml')],
    );
  });

  test('a pattern that finds no scenario file is a usage error that quotes it', async () => {
    const pattern = join(dir, '*.txt');
    await assert.rejects(loadScenarios([pattern], { env: {} }), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.equal(error.message, `no scenario files (*.yaml, *.yml) match "${pattern}"`);
      return true;
    });
  });
});
