import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { parseDocument, LineCounter } from 'yaml';
import { PositionFinder } from '../../src/scenario/positions.js';
import { editDistance } from '../../src/scenario/edit-distance.js';
import { suggest } from '../../src/scenario/schema-messages.js';
import { schemaIssues, schemaPath } from '../../src/scenario/validate.js';

function issuesOf(source: string): string[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter });
  return schemaIssues(doc.toJS(), new PositionFinder(doc, lineCounter, 's.yaml')).map(
    (issue) => `${issue.pos.line}:${issue.pos.col}: ${issue.message}`,
  );
}

describe('schema validation', () => {
  test('the schema file is found from the compiled module', () => {
    assert.ok(existsSync(schemaPath()));
    assert.match(schemaPath(), /schema[\\/]scenario\.schema\.json$/);
  });

  test('a valid file has no issues', () => {
    assert.deepEqual(issuesOf('cases:\n  - name: a\n    steps: [{ send: NOOP, expect: [250, "2xx"] }]\n'), []);
  });

  test('a misspelt key is suggested and its "missing" twin is not reported', () => {
    assert.deepEqual(issuesOf('cases:\n  - nmae: a\n    steps: [{ expect: 220 }]\n'), [
      '2:5: unknown key "nmae" in a case (did you mean "name"?)',
    ]);
  });

  test('the new step keys, protocol settings and conditions are accepted', () => {
    const source = [
      'protocol: lmtp',
      'target: { socket: /run/lmtp }',
      'tls: { verify: false, ca: [a.pem, b.pem], cert: c.pem, key: k.pem }',
      'proxy: { version: 2, source: "192.0.2.1:1" }',
      'cases:',
      '  - name: a',
      '    when: { not: { var: x, equals: 1 } }',
      '    steps:',
      '      - { starttls: true, tls: { min_version: TLSv1.3 } }',
      '      - { auth: { mechanism: XOAUTH2, username: u, token: t, initial_response: false, cancel: true } }',
      '      - { pipeline: [{ send: RSET, expect: 250, text: ok }] }',
      '      - { raw: "x", expect: 250, within: 1s }',
      '      - { mail: "", when: { capability: "SIZE > 1" } }',
      '      - { rcpt: { to: b, notify: [NEVER], orcpt: b } }',
      '      - { data: { headers: { X-A: 1 }, attachments: [{ file: f }] }, bdat: true, expect_each: [250, [4xx, 5.2.2]] }',
      '      - { send: EHLO x, capabilities: { has: [STARTTLS] }, capture: { x: /(a)/i } }',
    ].join('\n');
    assert.deepEqual(issuesOf(source), []);
  });

  test('type errors name the key and the expected type', () => {
    assert.deepEqual(issuesOf('name: 7\ncases:\n  - name: [a]\n    steps: { expect: 220 }\n'), [
      '1:7: name must be a string',
      '3:11: name must be a string',
      '4:12: steps must be a list',
    ]);
  });
});

describe('suggestions', () => {
  test('close misspellings of allowed keys', () => {
    assert.equal(suggest('sned', 'step'), 'send');
    assert.equal(suggest('Expect', 'step'), 'expect');
    assert.equal(suggest('timout', 'case'), 'timeout');
    assert.equal(suggest('prot', 'target'), 'port');
    assert.equal(suggest('sockt', 'target'), 'socket');
    assert.equal(suggest('pasword', 'auth'), 'password');
    assert.equal(suggest('initial-response', 'auth'), 'initial_response');
    assert.equal(suggest('verfy', 'tls'), 'verify');
    assert.equal(suggest('notfy', 'rcpt'), 'notify');
    assert.equal(suggest('vars', 'condition'), 'var');
    assert.equal(suggest('expect-each', 'step'), 'expect_each');
  });

  test('nothing for keys far from every allowed key', () => {
    assert.equal(suggest('server', 'file'), undefined);
    assert.equal(suggest('xyz', 'step'), undefined);
  });

  test('edit distance counts a swap of neighbours as one edit', () => {
    assert.equal(editDistance('sned', 'send'), 1);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', 'abc'), 3);
  });
});
