import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureProblems, inlineProblems, withSteps } from './issues.js';

describe('broken protocol-depth files: one problem each, at its position', () => {
  const cases: [string, string][] = [
    ['pipeline-data-not-last.yaml', '7:13: DATA must be the last command of a pipeline group (RFC 2920)'],
    ['unknown-mechanism.yaml', '5:22: mechanism "DIGEST-MD5" is not supported: use PLAIN, LOGIN, CRAM-MD5 or XOAUTH2'],
    [
      'cram-md5-initial-response.yaml',
      '4:73: CRAM-MD5 cannot send an initial response: the server speaks first with its challenge (RFC 2195)',
    ],
    [
      'notify-never.yaml',
      '6:19: notify NEVER must stand alone (RFC 3461): it cannot be combined with SUCCESS, FAILURE or DELAY',
    ],
    ['bad-raw-escape.yaml', '4:14: raw has a bad escape at character 9: "\\q" is not an escape: use \\r, \\n, \\t, \\0, \\\\ or \\xHH'],
    [
      'capture-two-groups.yaml',
      '6:21: capture queue_id: /queued as ([A-Z]+)-([0-9]+)/ has 2 groups: use one for the value, or none for the whole match, and (?:…) for grouping',
    ],
    [
      'capture-before-captured.yaml',
      '4:15: variable "queue_id" is captured by the step on line 5, so it can only be used after that step',
    ],
    [
      'case-capability-condition.yaml',
      '3:13: a case-level condition cannot test capabilities: they are known only after EHLO; put it on a step',
    ],
    [
      'expect-each-without-lmtp.yaml',
      '5:9: expect_each is for LMTP (protocol: lmtp): an SMTP server sends one reply to the message',
    ],
    ['cert-without-key.yaml', '3:3: "cert" needs "key" beside it: a client certificate and its private key go together'],
    ['proxy-exec-target.yaml', '3:1: proxy needs a TCP target: a PROXY header cannot be sent to a program run with exec'],
    ['target-host-and-socket.yaml', '3:3: target has both "host" and "socket": a target is one of host, socket or exec'],
    ['bad-capability-spec.yaml', '6:29: capability "SIZE >=" is not valid: a whole number must follow ">="'],
  ];
  for (const [file, problem] of cases) {
    test(file, async () => {
      assert.deepEqual(await fixtureProblems(file), [problem]);
    });
  }
});

describe('files with many protocol-depth problems', () => {
  test('steps: actions, credentials, captures, conditions and checks', async () => {
    assert.deepEqual(await fixtureProblems('protocol-problems.yaml'), [
      '7:9: a step cannot have both "send" and "mail"',
      '8:58: XOAUTH2 takes "token", not "password"',
      '9:15: LOGIN needs "password"',
      '9:56: "authzid" goes only with PLAIN, not LOGIN',
      '12:9: a pipeline step has no "expect" of its own: give each command its own',
      '13:15: mail takes the address without angle brackets: write a@example.test, the < > are added',
      '15:9: bdat goes only on a data step: it sends the message in BDAT chunks',
      '17:11: capture "user" has the name of a variable: a captured value cannot replace a variable, choose another name',
      '18:23: variable "id" is captured by the step on line 19, so it can only be used after that step',
      '22:23: variable "id" is captured at run time and cannot be used in mail (only in send, pipeline and data text)',
      '23:25: a condition cannot have both "var" and "capability"',
      '25:30: data cannot have both "file" and "body": a message is a file, or composed from headers, body and attachments',
      '27:9: a raw step without "expect" or "text" reads no reply, so "within" has nothing to check',
      '28:23: capabilities needs "has" or "lacks"',
      '30:24: issuer /(/ is not a valid regular expression: unterminated group',
      '32:35: environment variable NOPE is not set',
    ]);
  });

  test('file settings: target, tls, proxy and protocol', async () => {
    assert.deepEqual(await fixtureProblems('target-problems.yaml'), [
      '3:3: "port" goes only with "host": a socket target has no port',
      '4:6: tls must be "implicit" or a map such as { verify: false }',
      '5:1: proxy needs a TCP target: a PROXY header cannot be sent to a UNIX socket',
      '6:11: proxy source "mx.example.test:40000" must be an IP address and a port, such as 203.0.113.7:40000 or [2001:db8::7]:40000',
      '7:16: proxy destination "192.0.2.1" must be an IP address and a port, such as 203.0.113.7:40000 or [2001:db8::7]:40000',
      '8:11: protocol must be smtp or lmtp',
    ]);
  });
});

describe('protocol-depth problems in inline sources', () => {
  test('schema messages for the new step keys', () => {
    assert.deepEqual(inlineProblems(withSteps(['{ starttls: false }', '{ data: x, bdat: 0 }'])), [
      '4:21: starttls must be true',
      '5:26: bdat must be true or a chunk size in bytes (a whole number from 1)',
    ]);
    assert.deepEqual(inlineProblems(withSteps(['{ rcpt: { to: b, notify: [SUCCESS, SUCCESS, sometimes] } }'])), [
      '4:34: notify must not list the same value twice',
      '4:53: each entry of notify must be NEVER, SUCCESS, FAILURE or DELAY',
    ]);
    assert.deepEqual(inlineProblems(withSteps(['{ pipeline: [] }', '{ pipeline: [NOOP] }'])), [
      '4:21: pipeline must list at least one command',
      '5:22: a pipeline command must be a map such as { send: NOOP, expect: 250 }',
    ]);
    assert.deepEqual(inlineProblems(withSteps(['{ data: 5 }', '{ auth: PLAIN }', '{ mail: { size: 10 } }'])), [
      '4:17: data must be the message text, or a map with "file" or with "headers" and "body"',
      '5:17: auth must be a map',
      '6:17: missing required key "from" in mail',
    ]);
  });

  test('misspelt keys in the new maps get suggestions', () => {
    assert.deepEqual(inlineProblems(withSteps(['{ auth: { mechanism: PLAIN, username: u, pasword: p } }'], 'tls: { verfy: false }')), [
      '1:8: unknown key "verfy" in tls (did you mean "verify"?)',
      '5:50: unknown key "pasword" in auth (did you mean "password"?)',
    ]);
    assert.deepEqual(inlineProblems('cases:\n  - name: a\n    when: { vra: x }\n    steps: [{ expect: 220 }]\n'), [
      '3:13: unknown key "vra" in a condition (did you mean "var"?)',
    ]);
  });

  test('names of captures and headers, and the values under them', () => {
    assert.deepEqual(inlineProblems(withSteps(['{ expect: 250, capture: { 1st: /x/, ok: "queued" } }'])), [
      '4:35: capture name "1st" is not valid: use letters, digits and _, not starting with a digit',
      '4:49: capture "ok" must be a regular expression such as /queued as ([A-Z0-9]+)/i',
    ]);
    assert.deepEqual(inlineProblems(withSteps(['{ data: { headers: { "Bad Name": x, Good: [1] } } }'])), [
      '4:30: header name "Bad Name" is not valid: use printable characters other than ":" and spaces',
      '4:51: header "Good" must be text',
    ]);
    assert.deepEqual(inlineProblems(withSteps(['{ expect: 220, capture: { x: "/a/g" } }'])), [
      '4:38: capture x: /a/g has the flag "g", which means nothing here: use i, m, s or u',
    ]);
  });

  test('conditions: one test each, equals only with var, no capabilities at case level', () => {
    assert.deepEqual(inlineProblems('cases:\n  - name: a\n    when: {}\n    steps: [{ expect: 220, when: { equals: 1 } }]\n'), [
      '3:11: a condition needs "capability", "var" or "not"',
      '4:34: a condition needs "capability", "var" or "not"',
      '4:36: "equals" goes only with "var"',
    ]);
    assert.deepEqual(inlineProblems('cases:\n  - name: a\n    when: { not: { capability: AUTH } }\n    steps: [{ expect: 220 }]\n'), [
      '3:20: a case-level condition cannot test capabilities: they are known only after EHLO; put it on a step',
    ]);
    assert.deepEqual(inlineProblems(withSteps(['{ expect: 220, when: { var: "a-b" } }', '{ expect: 220, when: { capability: "SIZE > big" } }'])), [
      '4:37: var must be a variable name: use letters, digits and _, not starting with a digit',
      '5:44: capability "SIZE > big" is not valid: a whole number must follow ">"',
    ]);
  });

  test('targets: one kind, a program to run', () => {
    const head = (target: string) => withSteps(['{ expect: 220 }'], `target: ${target}`);
    assert.deepEqual(inlineProblems(head('{ port: 25 }')), ['1:9: target needs "host", "socket" or "exec"']);
    assert.deepEqual(inlineProblems(head('{ exec: [] }')), ['1:17: exec must be a list: the program to run, then its arguments']);
    assert.deepEqual(inlineProblems(head('{ exec: ["", x] }')), ['1:18: exec must start with the program to run']);
    assert.deepEqual(inlineProblems(head('{ exec: [sendmail], host: mx }')), [
      '1:29: target has both "host" and "exec": a target is one of host, socket or exec',
    ]);
    assert.deepEqual(inlineProblems(head('25')), [
      '1:9: target must be "host", "host:port", "[ipv6]:port" or a map with host, socket or exec',
    ]);
  });

  test('proxy addresses must be of one IP version; the version is 1 or 2', () => {
    assert.deepEqual(inlineProblems(withSteps(['{ expect: 220 }'], 'proxy: { source: "192.0.2.1:1", destination: "[::1]:25", version: 3 }')), [
      '1:46: proxy source and destination must both be IPv4 or both be IPv6 addresses',
      '1:67: version must be 1 or 2',
    ]);
    assert.deepEqual(inlineProblems(withSteps(['{ expect: 220 }'], 'proxy: { source: "::1:25" }')), [
      '1:18: proxy source "::1:25" must be an IP address and a port, such as 203.0.113.7:40000 or [2001:db8::7]:40000',
    ]);
  });

  test('line breaks in MAIL, RCPT and header fields, literal or from a variable', () => {
    const source = withSteps(['{ mail: "${two}" }', '{ data: { headers: { Subject: "${two}" } } }', '{ mail: "x\\ny" }', '{ rcpt: { to: b, orcpt: "${two}" } }'], 'vars: { two: "a\\r\\nb" }');
    assert.deepEqual(inlineProblems(source), [
      '5:17: mail must be one line: variable "two" contains a line break',
      '6:39: header "Subject" must be one line: variable "two" contains a line break',
      '7:17: mail must be one line: it contains a line break',
      '8:33: orcpt must be one line: variable "two" contains a line break',
    ]);
  });

  test('expect_each: only on data steps, never with expect, each entry an expectation', () => {
    const source = withSteps(['{ send: DATA, expect_each: [250] }', '{ data: x, expect: 250, expect_each: [250] }', '{ data: y, expect_each: [250, true] }'], 'protocol: lmtp');
    assert.deepEqual(inlineProblems(source), [
      '5:23: expect_each goes only on a data step: it checks the replies to the message',
      '6:33: a step cannot have both "expect" and "expect_each"',
      '7:39: expect_each must list one expectation per recipient: each a reply code (250), a pattern ("2xx", "550 5.1.1") or a list of them',
    ]);
  });

  test('captured values are run-time text: not usable in patterns, raw bytes or credentials', () => {
    const source = withSteps([
      '{ expect: 220, capture: { x: /(a)/ } }',
      '{ send: NOOP, text: "${x}" }',
      '{ raw: "${x}", expect: 250 }',
      '{ auth: { mechanism: PLAIN, username: "${x}", password: p } }',
    ]);
    assert.deepEqual(inlineProblems(source), [
      '5:29: variable "x" is captured at run time and cannot be used in text (only in send, pipeline and data text)',
      '6:16: variable "x" is captured at run time and cannot be used in raw (only in send, pipeline and data text)',
      '7:47: variable "x" is captured at run time and cannot be used in auth username (only in send, pipeline and data text)',
    ]);
  });

  test('a captured value is not visible in other cases', () => {
    const source = 'cases:\n  - name: a\n    steps: [{ expect: 220, capture: { x: /(a)/ } }]\n  - name: b\n    steps: [{ send: "NOOP ${x}" }]\n';
    assert.deepEqual(inlineProblems(source), ['5:21: undefined variable "x"']);
  });

  test('a step with three actions names each extra one', () => {
    assert.deepEqual(inlineProblems(withSteps(['{ raw: x, send: y, rcpt: z }'])), [
      '4:19: a step cannot have both "raw" and "send"',
      '4:28: a step cannot have both "raw" and "rcpt"',
    ]);
  });

  test('TLS checks and within', () => {
    assert.deepEqual(inlineProblems(withSteps(['{ expect: 220, tls: { min_version: SSLv3, valid_for_days: -1 } }'])), [
      '4:44: min_version must be TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3',
      '4:67: valid_for_days must be a whole number of at least 0',
    ]);
    assert.deepEqual(inlineProblems(withSteps(['{ expect: 220, tls: { valid_for_days: soon } }', '{ expect: 220, tls: { valid_for_days: "${days}" } }'], 'vars: { days: two }')), [
      '5:47: valid_for_days must be a whole number of at least 0',
      '6:47: valid_for_days must be a whole number of at least 0, got "two"',
    ]);
    assert.deepEqual(inlineProblems(withSteps(['{ expect: 220, within: soon }', '{ expect: 220, within: 0ms }'])), [
      '4:32: within must be a duration such as "500ms", "30s" or "2m"',
      '5:32: within must be at least 1ms',
    ]);
  });
});
