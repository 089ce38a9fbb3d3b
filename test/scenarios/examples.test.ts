import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { ScenarioError } from '../../src/errors.js';
import { loadScenarios } from '../../src/scenario/load.js';
import { sourcePath } from '../helpers/paths.js';
import { example, OTHER_SERVERS } from './fixtures/examples.js';

const SCENARIOS = sourcePath('scenarios');
const SCHEMA = sourcePath('schema/scenario.schema.json');
/** implicit-tls.yaml takes its credentials from the environment: without them it is invalid. */
const CREDENTIALS = { SMTP_USER: 'user@example.test', SMTP_PASSWORD: 'not-a-real-password' };

function yamlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => join(dir, name));
}

const bundled = yamlFiles(SCENARIOS);
const otherServers = yamlFiles(OTHER_SERVERS);
const checks = yamlFiles(join(SCENARIOS, 'checks'));

describe('the example scenarios', () => {
  test('there are examples for the embedded server and for other servers', () => {
    assert.ok(bundled.length >= 10, bundled.join(', '));
    assert.deepEqual(otherServers.map((file) => basename(file)), [
      'bdat.yaml',
      'client-certificate.yaml',
      'implicit-tls.yaml',
      'lmtp.yaml',
      'proxy-xclient.yaml',
      'sendmail-bs.yaml',
    ]);
  });

  test('every file in scenarios/, scenarios/other-servers/ and scenarios/checks/ passes validation, without warnings', async () => {
    const missingFiles = new Set<string>();
    const scenarios = await loadScenarios([SCENARIOS], { env: CREDENTIALS, missingFiles });
    // The only files an example names but does not ship are the certificates its user brings.
    const certs = join(SCENARIOS, 'other-servers', 'certs');
    assert.deepEqual([...missingFiles].sort(), ['ca.pem', 'client-key.pem', 'client.pem'].map((name) => join(certs, name)));
    assert.ok(checks.length >= 9, checks.join(', '));
    assert.deepEqual(scenarios.map((s) => s.file).sort(), [...bundled, ...otherServers, ...checks].sort());
    for (const scenario of scenarios) assert.deepEqual(scenario.warnings, [], `warnings in ${scenario.file}`);
  });

  test('each file starts with the schema line, then a comment saying what it shows', () => {
    for (const file of [...bundled, ...otherServers]) {
      const lines = readFileSync(file, 'utf8').split('\n');
      const schema = relative(dirname(file), SCHEMA).split('\\').join('/');
      assert.equal(lines[0], `# yaml-language-server: $schema=${schema}`, file);
      assert.equal(lines[1], '#', file);
      assert.match(lines[2] ?? '', /^# \S/, file);
    }
  });

  test('each example for another server shows the command that runs it', () => {
    for (const file of otherServers) {
      const command = `smtpspec run scenarios/other-servers/${basename(file)}`;
      assert.ok(readFileSync(file, 'utf8').includes(command), `${file} mentions "${command}"`);
    }
  });

  test('each example for another server has a test here that runs it against a real server', () => {
    for (const file of otherServers) {
      const testFile = sourcePath('test/scenarios', `${basename(file, '.yaml')}.test.ts`);
      assert.ok(existsSync(testFile), `${testFile} exists`);
    }
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
