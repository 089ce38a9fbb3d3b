import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadScenarioFile, parseScenario, type LoadOptions } from '../../src/scenario/load.js';
import { DEFAULT_TIMEOUT_MS, type Scenario } from '../../src/scenario/types.js';
import { sourcePath } from '../helpers/paths.js';

function valid(name: string, options: LoadOptions = { env: {} }): Promise<Scenario> {
  return loadScenarioFile(sourcePath('test/scenario/fixtures/valid', name), options);
}

const oneCase = (head: string) => `${head}\ncases:\n  - name: a\n    steps: [{ expect: 220 }]\n`;

describe('normalised scenarios', () => {
  test('the documented example', async () => {
    const file = sourcePath('test/scenario/fixtures/valid/basic.yaml');
    const scenario = await loadScenarioFile(file, { env: { SMTP_PASSWORD: 'pw-from-env' } });
    assert.equal(scenario.file, file);
    assert.equal(scenario.name, 'Basic SMTP conversation');
    assert.deepEqual(scenario.target, { host: '127.0.0.1', port: 2525 });
    assert.equal(scenario.timeoutMs, 30_000);
    assert.deepEqual(scenario.secrets, ['pw-from-env']);
    const [first] = scenario.cases;
    assert.ok(first);
    assert.deepEqual({ index: first.index, name: first.name, pos: first.pos }, {
      index: 0,
      name: 'server accepts a message',
      pos: { file, line: 10, col: 5 },
    });
    assert.deepEqual(first.steps[0], {
      index: 0,
      pos: { file, line: 14, col: 9 },
      action: { type: 'read' },
      expect: { anyOf: [{ code: '220' }], text: { source: 'ESMTP|SMTP', flags: '', written: '/ESMTP|SMTP/' } },
      timeoutMs: 10_000,
    });
    assert.deepEqual(first.steps[1], {
      index: 1,
      pos: { file, line: 16, col: 9 },
      name: 'say hello',
      action: { type: 'send', line: 'EHLO test.com' },
      expect: { anyOf: [{ code: '250' }] },
      timeoutMs: 5_000,
    });
    assert.deepEqual(
      first.steps.map((step) => step.action),
      [
        { type: 'read' },
        { type: 'send', line: 'EHLO test.com' },
        { type: 'send', line: 'MAIL FROM:<tester@test.com>' },
        { type: 'send', line: 'RCPT TO:<a@example.test> NOTIFY=SUCCESS,FAILURE' },
        { type: 'send', line: 'RCPT TO:<nobody@example.test>' },
        { type: 'send', line: 'AUTH PLAIN pw-from-env' },
        { type: 'send', line: 'DATA' },
        { type: 'data', source: { kind: 'text', text: 'Subject: test\n\nbody\n' } },
      ],
    );
    assert.equal(first.steps[5]?.expect, undefined, 'a step without expect accepts any reply');
  });

  test('timeouts: step, then case, then file, then the default', async () => {
    const scenario = await valid('timeouts.yaml');
    assert.equal(scenario.timeoutMs, 120_000);
    assert.deepEqual(
      scenario.cases.map((c) => c.steps.map((step) => step.timeoutMs)),
      [[1_500, 500], [120_000]],
    );
    const defaults = await valid('no-timeout.yaml');
    assert.equal(defaults.timeoutMs, DEFAULT_TIMEOUT_MS);
    assert.equal(defaults.cases[0]?.steps[0]?.timeoutMs, DEFAULT_TIMEOUT_MS);
  });

  test('the name defaults to the file name without its extension', async () => {
    assert.equal((await valid('timeouts.yaml')).name, 'timeouts');
  });

  test('expectation forms and text patterns', async () => {
    const steps = (await valid('expectations.yaml')).cases[0]?.steps ?? [];
    assert.deepEqual(
      steps.map((step) => step.expect),
      [
        { anyOf: [{ code: '250' }] },
        { anyOf: [{ code: '2xx' }] },
        { anyOf: [{ code: '550', enhanced: '5.1.1' }] },
        { anyOf: [{ enhanced: '5.7.1' }] },
        { anyOf: [{ enhanced: '5.1.x' }] },
        { anyOf: [{ code: '250' }, { code: '25x' }, { code: '4xx', enhanced: '4.2.x' }] },
        { anyOf: [], text: { source: 'Queued as', flags: '', written: 'Queued as' } },
        { anyOf: [], text: { source: '^mx\\d+\\.', flags: 'i', written: '/^mx\\d+\\./i' } },
        { anyOf: [], text: { source: 'a\\.b \\(c\\)', flags: '', written: 'a.b (c)' } },
        undefined,
        undefined,
      ],
    );
    const plain = steps[8]?.expect?.text;
    assert.ok(plain);
    assert.ok(new RegExp(plain.source, plain.flags).test('250 a.b (c) ok'));
    assert.ok(!new RegExp(plain.source, plain.flags).test('250 axb (c) ok'), 'a plain substring matches literally');
    assert.deepEqual(
      steps[10]?.action,
      { type: 'data', source: { kind: 'text', text: 'line 1\nline 2\n' } },
      'data keeps LF line ends',
    );
  });

  test('variables: case over file, references resolved where used, $${ kept literal', async () => {
    const scenario = await valid('vars.yaml', { env: { SMTP_TOKEN: 'tok-123' } });
    const [inCase, inFile] = scenario.cases;
    assert.equal(inCase?.name, 'case case');
    assert.deepEqual(
      inCase?.steps.map((step) => step.action),
      [
        { type: 'send', line: 'MAIL FROM:<tester@case.example.test>' },
        { type: 'send', line: 'HELO case' },
        { type: 'send', line: 'AUTH tok-123' },
        { type: 'send', line: 'X-COUNT 3 true' },
        { type: 'send', line: 'LITERAL ${who} and $$ and $x' },
      ],
    );
    assert.equal(inFile?.name, 'file file');
    assert.deepEqual(inFile?.steps[0]?.action, { type: 'send', line: 'MAIL FROM:<tester@file.example.test>' });
    assert.deepEqual(scenario.secrets, ['tok-123']);
  });

  test('command-line variables win over case and file variables', async () => {
    const scenario = await valid('vars.yaml', { env: { SMTP_TOKEN: 't' }, vars: { who: 'cli', token: 'plain' } });
    assert.deepEqual(
      scenario.cases.map((c) => c.name),
      ['case cli', 'file cli'],
    );
    assert.deepEqual(scenario.cases[0]?.steps[2]?.action, { type: 'send', line: 'AUTH plain' });
    assert.deepEqual(scenario.secrets, ['plain'], 'a variable named "token" is secret; the overridden env reference is never read');
  });

  test('targets in every written form', () => {
    const target = (head: string, env: Record<string, string> = {}) => parseScenario(oneCase(head), 't.yaml', { env }).target;
    assert.equal(target(''), undefined);
    assert.deepEqual(target('target: mx.example.test'), { host: 'mx.example.test', port: 25 });
    assert.deepEqual(target('target: "[::1]:2525"'), { host: '::1', port: 2525 });
    assert.deepEqual(target('target: { host: "::1" }'), { host: '::1', port: 25 });
    assert.deepEqual(target('target: { host: mx.example.test, port: 587 }'), { host: 'mx.example.test', port: 587 });
    assert.deepEqual(target('target: ${env:SMTP_HOST}:${env:SMTP_PORT}', { SMTP_HOST: 'h.test', SMTP_PORT: '26' }), {
      host: 'h.test',
      port: 26,
    });
  });

  test('an empty environment value is allowed but is not a secret', () => {
    const scenario = parseScenario(
      'cases:\n  - name: a\n    steps: [{ send: "NOOP ${env:EMPTY}" }]\n',
      'e.yaml',
      { env: { EMPTY: '' } },
    );
    assert.deepEqual(scenario.cases[0]?.steps[0]?.action, { type: 'send', line: 'NOOP ' });
    assert.deepEqual(scenario.secrets, []);
  });

  test('a step and a case reused through YAML anchors keep the anchor position', () => {
    const source = 'cases:\n  - name: a\n    steps:\n      - &hello { send: NOOP, expect: 250 }\n      - *hello\n';
    const steps = parseScenario(source, 'anchors.yaml').cases[0]?.steps ?? [];
    assert.deepEqual(
      steps.map((step) => [step.index, step.pos.line, step.pos.col]),
      [
        [0, 4, 16],
        [1, 4, 16],
      ],
    );
  });
});
