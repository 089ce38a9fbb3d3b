import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ScenarioError } from '../../src/errors.js';
import { loadScenarios } from '../../src/scenario/load.js';
import { sourcePath } from '../helpers/paths.js';
import { example, EXAMPLES } from './fixtures/examples.js';

/** auth.yaml and implicit-tls.yaml take their credentials from the environment: without them they are invalid. */
const CREDENTIALS = { SMTP_USER: 'user@example.test', SMTP_PASSWORD: 'not-a-real-password' };

const examples = readdirSync(EXAMPLES)
  .filter((name) => name.endsWith('.yaml'))
  .sort()
  .map((name) => join(EXAMPLES, name));

/** The comment lines a file starts with, after the schema line and the blank comment line. */
function header(file: string): string[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  return lines.slice(2, lines.findIndex((line) => !line.startsWith('#')));
}

describe('the examples for particular servers (examples/)', () => {
  test('are the ones the README lists', () => {
    assert.deepEqual(examples.map((file) => basename(file)), [
      'auth.yaml',
      'bdat.yaml',
      'client-certificate.yaml',
      'implicit-tls.yaml',
      'lmtp.yaml',
      'proxy-xclient.yaml',
      'sendmail-bs.yaml',
    ]);
  });

  test('every file passes validation, without warnings, given what its header says it needs', async () => {
    const missingFiles = new Set<string>();
    const scenarios = await loadScenarios([EXAMPLES], { env: CREDENTIALS, missingFiles });
    // The only files an example names but does not ship are the certificates its user brings.
    const certs = join(EXAMPLES, 'certs');
    assert.deepEqual([...missingFiles].sort(), ['ca.pem', 'client-key.pem', 'client.pem'].map((name) => join(certs, name)));
    assert.deepEqual(scenarios.map((s) => s.file).sort(), examples);
    for (const scenario of scenarios) assert.deepEqual(scenario.warnings, [], `warnings in ${scenario.file}`);
  });

  test('each file starts with the schema line, then the command that runs it and what it needs', () => {
    for (const file of examples) {
      const lines = readFileSync(file, 'utf8').split('\n');
      assert.equal(lines[0], '# yaml-language-server: $schema=../schema/scenario.schema.json', file);
      assert.equal(lines[1], '#', file);
      const top = header(file);
      const needs = top.findIndex((line) => line.startsWith('# Needs: '));
      assert.ok(needs > 0, `${file} says what it needs`);
      // The command, continued over lines ending in a backslash, comes first.
      const command = top.slice(0, needs).map((line) => line.replace(/^# (Run it: )? */, '').replace(/ *\\$/, '')).join(' ');
      assert.match(top[0] ?? '', /^# Run it: /, file);
      assert.match(command, new RegExp(`^(?:[A-Z_]+=\\S+ )*smtpspec run examples/${basename(file).replace('.', '\\.')}(?: |$)`), file);
    }
  });

  test('each example has a test here that runs it against a real server', () => {
    for (const file of examples) {
      const testFile = sourcePath('test/examples', `${basename(file, '.yaml')}.test.ts`);
      assert.ok(existsSync(testFile), `${testFile} exists`);
    }
  });

  test('a folder run of scenarios/ does not pick them up', async () => {
    const bundled = await loadScenarios([sourcePath('scenarios')]);
    assert.ok(bundled.length > 0);
    assert.deepEqual(bundled.filter((scenario) => scenario.file.startsWith(EXAMPLES)), []);
  });

  test('implicit-tls.yaml is invalid without its credentials in the environment', async () => {
    const file = example('implicit-tls.yaml');
    await assert.rejects(loadScenarios([file], { env: {} }), (error: unknown) => {
      assert.ok(error instanceof ScenarioError);
      assert.deepEqual(
        error.issues.map((issue) => issue.message),
        ['environment variable SMTP_USER is not set', 'environment variable SMTP_PASSWORD is not set'],
      );
      return true;
    });
  });
});
