import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { shownPath, yamlFileKind } from '../../src/scenario/files.js';

describe('yamlFileKind', () => {
  const kind = (source: string) => yamlFileKind('x.yaml', source);

  test('a manifest has targets: and no cases:', () => {
    assert.equal(kind('targets:\n  - host: mx.example.com\nscenarios: ["*.yaml"]\n'), 'manifest');
    assert.equal(kind('targets: []\ncases: []\n'), 'scenario');
  });

  test('a file of steps has steps: and only description: and vars: beside it', () => {
    assert.equal(kind('steps:\n  - expect: 220\n'), 'steps');
    assert.equal(kind('description: prelude\nvars: { a: b }\nsteps: []\n'), 'steps');
  });

  test('a scenario written with steps: at the top by mistake is still a scenario, to get its errors', () => {
    assert.equal(kind('name: oops\ntarget: mx.example.com\nsteps:\n  - expect: 220\n'), 'scenario');
    assert.equal(kind('target: mx.example.com\nsteps: []\n'), 'scenario');
  });

  test('anything else is a scenario: cases, an empty file, a list, broken YAML without those keys', () => {
    assert.equal(kind('cases:\n  - name: a\n    steps: [{ expect: 220 }]\n'), 'scenario');
    assert.equal(kind(''), 'scenario');
    assert.equal(kind('- a\n- b\n'), 'scenario');
    assert.equal(kind('cases: [\n'), 'scenario');
  });

  test('YAML the parser gives up on is told by its top-level keys, line by line', () => {
    assert.equal(kind('targets:\n  - host: "mx.example.com\n'), 'manifest');
    assert.equal(kind('steps:\n  - send: "EHLO\n'), 'steps');
    assert.equal(kind('name: x\nsteps:\n  - send: "EHLO\n'), 'scenario');
  });

  test('a file that cannot be read is a scenario, for loading to report', () => {
    assert.equal(yamlFileKind('/no/such/file.yaml'), 'scenario');
  });
});

describe('shownPath', () => {
  const cwd = join('/', 'srv', 'mail');

  test('a file under the working folder is shown relative to it, however it is written', () => {
    assert.equal(shownPath(join(cwd, 'scenarios', 'basic.yaml'), cwd), join('scenarios', 'basic.yaml'));
    assert.equal(shownPath(join('scenarios', 'basic.yaml'), cwd), join('scenarios', 'basic.yaml'));
    assert.equal(shownPath(join(cwd, '..foo', 'a.yaml'), cwd), join('..foo', 'a.yaml'));
    assert.equal(shownPath(cwd, cwd), '.');
  });

  test('a file elsewhere keeps the path it was given', () => {
    assert.equal(shownPath(join('/', 'usr', 'lib', 'checks', 'greeting.yaml'), cwd), join('/', 'usr', 'lib', 'checks', 'greeting.yaml'));
    assert.equal(shownPath(join('/', 'srv', 'mailer', 'a.yaml'), cwd), join('/', 'srv', 'mailer', 'a.yaml'));
  });
});
