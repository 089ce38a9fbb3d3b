import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScenarioError, formatIssue } from '../../src/errors.js';
import { parseScenario } from '../../src/scenario/load.js';
import { fixtureProblems } from './issues.js';

const EXPECT = 'expect must be a reply code (250), a pattern ("2xx", "550 5.1.1", "5.7.1") or a list of them';
const DURATION = 'timeout must be a duration such as "500ms", "30s" or "2m"';

/** The issues a broken fixture produces, as `line:col: message` lines; files it names that do not exist are among them. */
const problems = (name: string): Promise<string[]> => fixtureProblems(name, { env: {} });

function parseProblems(source: string): string[] {
  try {
    parseScenario(source, 'inline.yaml', { env: {} });
  } catch (error) {
    assert.ok(error instanceof ScenarioError);
    return error.issues.map((issue) => formatIssue(issue));
  }
  return assert.fail('parsed without errors');
}

describe('broken scenario files', () => {
  test('YAML syntax error', async () => {
    assert.deepEqual(await problems('yaml-syntax.yaml'), [
      '4:1: YAML syntax error: flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  test('duplicate key', async () => {
    assert.deepEqual(await problems('duplicate-key.yaml'), [
      '6:9: duplicate key "expect": a key may appear only once in a map',
    ]);
  });

  test('unknown key with a suggestion', async () => {
    assert.deepEqual(await problems('unknown-key.yaml'), ['5:9: unknown key "sned" in a step (did you mean "send"?)']);
  });

  test('wrong type, bad pattern and out-of-range code for expect', async () => {
    assert.deepEqual(await problems('expect-type.yaml'), [`4:17: ${EXPECT}`, `5:23: ${EXPECT}`, `6:17: ${EXPECT}`]);
  });

  test('missing cases', async () => {
    assert.deepEqual(await problems('missing-cases.yaml'), ['1:1: missing required key "cases"']);
  });

  test('send with a line break written in a double-quoted string', async () => {
    assert.deepEqual(await problems('send-line-break.yaml'), ['4:15: send must be one line: it contains a line break']);
  });

  test('both send and data', async () => {
    assert.deepEqual(await problems('send-and-data.yaml'), ['5:9: a step cannot have both "send" and "data"']);
  });

  test('bad durations', async () => {
    assert.deepEqual(await problems('bad-duration.yaml'), [
      `1:10: ${DURATION}`,
      `4:14: ${DURATION}`,
      '7:18: timeout must be at least 1ms',
    ]);
  });

  test('regular expressions that do not compile or have meaningless flags', async () => {
    assert.deepEqual(await problems('bad-regex.yaml'), [
      '5:15: text /ESMTP(/ is not a valid regular expression: unterminated group',
      '7:15: text /ok/g has the flag "g", which means nothing here: use i, m, s or u',
    ]);
  });

  test('duplicate case name, found after interpolation, reported at the second', async () => {
    assert.deepEqual(await problems('duplicate-case-name.yaml'), [
      '7:11: duplicate case name "greeting" (first used on line 4): case names must be unique',
    ]);
  });

  test('undefined variable', async () => {
    assert.deepEqual(await problems('undefined-variable.yaml'), ['4:15: undefined variable "rcpt"']);
  });

  test('unset environment variable, reported where it is written', async () => {
    assert.deepEqual(await problems('unset-env.yaml'), ['2:13: environment variable SMTP_PASSWORD is not set']);
  });

  test('a variable holding a line break used in send', async () => {
    assert.deepEqual(await problems('newline-variable.yaml'), [
      '8:15: send must be one line: variable "helo" contains a line break',
    ]);
  });

  test('alias bomb', async () => {
    assert.deepEqual(await problems('alias-bomb.yaml'), [
      '2:8: the YAML aliases expand too far (more than 100 uses): reuse fewer anchors',
    ]);
  });

  test('empty file', async () => {
    assert.deepEqual(await problems('empty.yaml'), ['1:1: the file is empty: a scenario needs at least "cases:"']);
  });

  test('bytes that are not UTF-8', async () => {
    assert.deepEqual(await problems('not-utf8.yaml'), ['3:12: the file is not UTF-8 text: byte 0xFF is not valid here']);
  });

  test('several problems in one file are all reported, in order', async () => {
    assert.deepEqual(await problems('many-problems.yaml'), [
      `2:10: ${DURATION}`,
      '7:9: unknown key "sned" in a step (did you mean "send"?)',
      '9:9: a step cannot have both "send" and "data"',
      '11:5: unknown key "stepz" in a case (did you mean "steps"?)',
      '13:11: duplicate case name "first" (first used on line 4): case names must be unique',
      '15:15: text /(/ is not a valid regular expression: unterminated group',
      '16:15: undefined variable "who"',
    ]);
  });
});

describe('problems found in inline sources', () => {
  test('more than one YAML document', () => {
    assert.deepEqual(parseProblems('cases: []\n---\nname: x\n'), [
      'inline.yaml:2:1: the file holds more than one YAML document ("---"): a scenario file is one document',
    ]);
  });

  test('a comment alone counts as empty', () => {
    assert.deepEqual(parseProblems('# nothing here\n'), [
      'inline.yaml:1:1: the file is empty: a scenario needs at least "cases:"',
    ]);
  });

  test('a file that is not a map', () => {
    assert.deepEqual(parseProblems('- a\n- b\n'), ['inline.yaml:1:1: a scenario file must be a map with at least "cases:"']);
  });

  test('a NUL byte', () => {
    assert.deepEqual(parseProblems('cases:\n  x\0y\n'), ['inline.yaml:2:4: the file contains a NUL byte: it is not YAML text']);
  });

  test('missing keys of a case are named together', () => {
    assert.deepEqual(parseProblems('cases:\n  - timeout: 1s\n'), [
      'inline.yaml:2:5: missing required keys "name" and "steps" in a case',
    ]);
  });

  test('a step with nothing to do', () => {
    assert.deepEqual(parseProblems('cases:\n  - name: a\n    steps:\n      - name: idle\n'), [
      'inline.yaml:4:9: a step needs an action (send, data, mail, rcpt, auth, starttls, pipeline, raw, mailbox or a DNS check: fcrdns, dane, mta_sts, tls_rpt, dnsbl) or a check of the reply (expect, text, capture, capabilities, tls or within)',
    ]);
  });

  test('an unknown key far from every allowed key gets no suggestion', () => {
    assert.deepEqual(parseProblems('server: x\ncases:\n  - name: a\n    steps: [{ expect: 220 }]\n'), [
      'inline.yaml:1:1: unknown key "server" at the top level',
    ]);
  });

  test('bad variable names and values, and a target that is not an address', () => {
    assert.deepEqual(
      parseProblems('target: "mx:99999"\nvars:\n  1st: a\n  list: [1]\ncases:\n  - name: a\n    steps: [{ expect: 220 }]\n'),
      [
        'inline.yaml:1:9: target "mx:99999" is not "host", "host:port" or "[ipv6]:port" with a port from 1 to 65535',
        'inline.yaml:3:3: variable name "1st" is not valid: use letters, digits and _, not starting with a digit',
        'inline.yaml:4:9: variable "list" must be a string, a number or a boolean',
      ],
    );
  });

  test('target map with a bad port and a misspelt key', () => {
    assert.deepEqual(parseProblems('target: { host: mx, port: 0, tls: true }\ncases:\n  - name: a\n    steps: [{ expect: 220 }]\n'), [
      'inline.yaml:1:27: port must be a whole number from 1 to 65535',
      'inline.yaml:1:30: unknown key "tls" in target',
    ]);
  });

  test('an expectation whose enhanced code contradicts its reply code', () => {
    assert.deepEqual(parseProblems('cases:\n  - name: a\n    steps: [{ expect: 550 2.1.1 }]\n'), [
      'inline.yaml:3:23: expect "550 2.1.1" can never match: an enhanced status code starts with the reply code\'s first digit',
    ]);
  });

  test('empty cases and steps lists', () => {
    assert.deepEqual(parseProblems('cases: []\n'), ['inline.yaml:1:8: cases must list at least one case']);
    assert.deepEqual(parseProblems('cases:\n  - name: a\n    steps: []\n'), ['inline.yaml:3:12: steps must list at least one step']);
  });

  test('a ScenarioError message lists every issue, one per line', () => {
    assert.throws(() => parseScenario('cases: []\nextra: 1\n', 'x.yaml'), {
      name: 'ScenarioError',
      message: 'x.yaml:1:8: cases must list at least one case\nx.yaml:2:1: unknown key "extra" at the top level',
    });
  });
});
