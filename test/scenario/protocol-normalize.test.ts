import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { loadScenarioFile, parseScenario, type LoadOptions } from '../../src/scenario/load.js';
import type { Scenario, Step } from '../../src/scenario/types.js';
import { DEFAULT_BDAT_CHUNK_BYTES } from '../../src/scenario/types.js';
import { sourcePath } from '../helpers/paths.js';
import { warningLines, withSteps } from './issues.js';

const folder = sourcePath('test/scenario/fixtures/valid');
const ENV = { SMTP_PASSWORD: 'pw-env', SMTP_TOKEN: 'tok-env' };

/** The fixtures name certificates and messages they do not ship: those are collected, not refused. */
function valid(name: string, options: LoadOptions = { env: ENV }): Promise<Scenario> {
  return loadScenarioFile(join(folder, name), { missingFiles: new Set(), ...options });
}

/** The parts of steps that are not positions and deadlines. */
function shapes(steps: Step[]): Omit<Step, 'pos' | 'timeoutMs' | 'index'>[] {
  return steps.map(({ pos: _pos, timeoutMs: _timeoutMs, index: _index, ...rest }) => rest);
}

const code = (...codes: string[]) => ({ anyOf: codes.map((c) => ({ code: c })) });

describe('submission.yaml: STARTTLS, AUTH, MAIL/RCPT parameters, pipelining, raw bytes, captures, conditions', () => {
  test('file settings and defaults', async () => {
    const scenario = await valid('submission.yaml');
    assert.equal(scenario.protocol, 'smtp');
    assert.deepEqual(scenario.target, { host: 'mx.example.test', port: 587 });
    assert.deepEqual(scenario.tls, {
      implicit: false,
      verify: true,
      ca: [join(folder, 'certs', 'ca.pem')],
      servername: 'mx.example.test',
    });
    assert.equal(scenario.proxy, undefined);
    assert.deepEqual(scenario.warnings, []);
    assert.deepEqual(scenario.secrets, ['pw-env', 'login-pw', 'cram-pw', 'tok-env'], 'passwords and tokens are secrets');
  });

  test('case conditions and resolved variables (a value that cannot resolve is left out)', async () => {
    const [first, second] = (await valid('submission.yaml')).cases;
    assert.deepEqual(first?.when, { not: { var: 'quick', written: 'var quick' }, written: 'not var quick' });
    assert.deepEqual(first?.vars, { mx: 'mx.example.test', user: 'alice', mode: 'strict' });
    assert.deepEqual(second?.when, { var: 'mode', equals: 'strict', written: 'var mode = strict' });
    assert.deepEqual(second?.vars, { mode: 'relaxed', mx: 'mx.example.test', user: 'alice' });
  });

  test('the greeting, EHLO with capability checks, STARTTLS with TLS checks', async () => {
    const steps = shapes((await valid('submission.yaml')).cases[0]?.steps ?? []);
    assert.deepEqual(steps.slice(0, 4), [
      {
        action: { type: 'read' },
        expect: code('220'),
        capture: [{ name: 'banner_host', pattern: { source: '^(\\S+)', flags: '', written: '/^(\\S+)/' } }],
      },
      {
        action: { type: 'send', line: 'EHLO client.example.test' },
        expect: code('250'),
        capabilities: {
          has: [
            { keyword: 'PIPELINING', kind: 'present' },
            { keyword: 'STARTTLS', kind: 'present' },
            { keyword: 'SIZE', kind: 'compare', op: '>=', value: 10485760 },
            { keyword: 'AUTH', kind: 'includes', params: ['PLAIN', 'LOGIN'] },
          ],
          lacks: [{ keyword: 'DSN', kind: 'present' }],
          written: ['has PIPELINING', 'has STARTTLS', 'has SIZE >= 10485760', 'has AUTH PLAIN LOGIN', 'lacks DSN'],
        },
        withinMs: 2000,
      },
      {
        action: { type: 'starttls' },
        expect: code('220'),
        tls: {
          minVersion: 'TLSv1.2',
          validForDays: 14,
          hostname: 'mx.example.test',
          issuer: { source: "Let's Encrypt", flags: 'i', written: "/Let's Encrypt/i" },
          subject: { source: 'CN=mx', flags: '', written: 'CN=mx' },
        },
      },
      { action: { type: 'send', line: { parts: ['EHLO ', { capture: 'banner_host' }] } }, expect: code('250') },
    ]);
  });

  test('AUTH: defaults for the initial response, credentials from variables', async () => {
    const steps = (await valid('submission.yaml')).cases[0]?.steps ?? [];
    assert.deepEqual(
      steps.slice(4, 8).map((step) => step.action),
      [
        { type: 'auth', mechanism: 'PLAIN', username: 'alice', password: 'pw-env', authzid: 'admin', initialResponse: true, cancel: false },
        { type: 'auth', mechanism: 'LOGIN', username: 'alice', password: 'login-pw', initialResponse: false, cancel: true },
        { type: 'auth', mechanism: 'CRAM-MD5', username: 'alice', password: 'cram-pw', initialResponse: false, cancel: false },
        { type: 'auth', mechanism: 'XOAUTH2', username: 'alice', token: 'tok-env', initialResponse: false, cancel: false },
      ],
    );
  });

  test('MAIL and RCPT maps become command lines', async () => {
    const steps = (await valid('submission.yaml')).cases[0]?.steps ?? [];
    assert.deepEqual(
      [8, 9, 17, 18].map((index) => steps[index]?.action),
      [
        { type: 'send', line: 'MAIL FROM:<a@example.test> SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ314159' },
        { type: 'send', line: 'RCPT TO:<b@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.test' },
        { type: 'send', line: 'MAIL FROM:<>' },
        { type: 'send', line: 'RCPT TO:<b@example.test>' },
      ],
    );
  });

  test('captures: run-time text in send, pipeline and data; step conditions', async () => {
    const steps = shapes((await valid('submission.yaml')).cases[0]?.steps ?? []);
    assert.deepEqual(steps[11], {
      action: { type: 'data', source: { kind: 'text', text: 'Subject: strict\n\nhello\n' } },
      expect: code('250'),
      capture: [
        { name: 'queue_id', pattern: { source: 'queued as ([A-Z0-9]+)', flags: 'i', written: '/queued as ([A-Z0-9]+)/i' } },
        { name: 'whole', pattern: { source: '[0-9]+', flags: '', written: '/[0-9]+/' } },
      ],
      when: { capability: { keyword: 'SIZE', kind: 'compare', op: '>=', value: 1000 }, written: 'capability SIZE >= 1000' },
    });
    assert.deepEqual(steps[12], {
      action: { type: 'send', line: { parts: ['X-TRACK ', { capture: 'queue_id' }] } },
      when: { var: 'mode', equals: 'strict', written: 'var mode = strict' },
    });
    assert.deepEqual(steps[14]?.action, {
      type: 'data',
      source: { kind: 'text', text: { parts: ['Ref: ', { capture: 'queue_id' }, ' (', { capture: 'whole' }, ')\n'] } },
    });
    assert.deepEqual(steps[20]?.when, {
      not: { capability: { keyword: 'AUTH', kind: 'includes', params: ['plain'] }, written: 'capability AUTH plain' },
      written: 'not capability AUTH plain',
    });
  });

  test('a pipeline keeps one expectation and position per command', async () => {
    const file = join(folder, 'submission.yaml');
    const step = (await valid('submission.yaml')).cases[0]?.steps[13];
    assert.equal(step?.expect, undefined);
    assert.deepEqual(step?.action, {
      type: 'pipeline',
      commands: [
        { line: 'MAIL FROM:<>', expect: code('250'), pos: { file, line: 52, col: 13 } },
        {
          line: { parts: ['RCPT TO:<q-', { capture: 'queue_id' }, '@example.test>'] },
          expect: { ...code('250', '251'), text: { source: 'ok', flags: 'i', written: '/ok/i' } },
          pos: { file, line: 54, col: 13 },
        },
        { line: 'DATA', expect: code('354'), pos: { file, line: 57, col: 13 } },
      ],
    });
  });

  test('raw bytes read a reply only when an expectation is written; data from a file with BDAT', async () => {
    const steps = (await valid('submission.yaml')).cases[0]?.steps ?? [];
    assert.deepEqual(steps[15]?.action, { type: 'raw', bytes: new Uint8Array([0x4e, 0x4f, 0x4f, 0x50, 0x0d, 0x0a]), readReply: false });
    assert.deepEqual(steps[16]?.action, {
      type: 'raw',
      bytes: new Uint8Array([0x52, 0x53, 0x45, 0x54, 0x0d, 0x0a, 0x00, 0xc3, 0xa9]),
      readReply: true,
    });
    assert.deepEqual(steps[19]?.action, {
      type: 'data',
      source: { kind: 'file', path: join(folder, 'messages', 'hello.eml') },
      bdatChunkBytes: DEFAULT_BDAT_CHUNK_BYTES,
    });
  });
});

describe('lmtp.yaml: LMTP over a UNIX socket, a composed message, BDAT, one expectation per recipient', () => {
  test('protocol and socket target relative to the file', async () => {
    const scenario = await valid('lmtp.yaml');
    assert.equal(scenario.protocol, 'lmtp');
    assert.deepEqual(scenario.target, { kind: 'unix', path: join(folder, 'run', 'lmtp.sock') });
  });

  test('the composed message and expect_each', async () => {
    const steps = shapes((await valid('lmtp.yaml')).cases[0]?.steps ?? []);
    assert.deepEqual(steps[3]?.action, { type: 'send', line: 'RCPT TO:<b@example.test> NOTIFY=NEVER' });
    assert.deepEqual(steps[5], {
      action: {
        type: 'data',
        source: {
          kind: 'compose',
          headers: [
            ['From', 'a@example.test'],
            ['To', 'b@example.test, c@example.test'],
            ['Subject', 'Hello Bob'],
            ['X-Priority', '1'],
          ],
          body: 'Hello\n',
          attachments: [
            { path: join(folder, 'files', 'report.pdf'), filename: 'report.pdf', contentType: 'application/pdf' },
            { path: '/srv/files/notes.txt', filename: 'notes.txt', contentType: 'application/octet-stream' },
          ],
        },
        bdatChunkBytes: 4096,
      },
      expectEach: [code('250'), { anyOf: [{ code: '452' }, { enhanced: '5.2.2' }] }],
    });
  });
});

describe('tls-proxy.yaml and exec.yaml: TLS settings, PROXY header, a program as target', () => {
  test('implicit TLS without verification, with CA list and client certificate, warns once', async () => {
    const scenario = await valid('tls-proxy.yaml');
    assert.deepEqual(scenario.target, { host: '2001:db8::25', port: 465 });
    assert.deepEqual(scenario.tls, {
      implicit: true,
      verify: false,
      ca: [join(folder, 'certs', 'root.pem'), '/etc/ssl/extra.pem'],
      cert: join(folder, 'certs', 'client.pem'),
      key: join(folder, 'certs', 'client-key.pem'),
    });
    assert.deepEqual(scenario.proxy, {
      version: 2,
      source: { host: '2001:db8::7', port: 40000 },
      destination: { host: '2001:db8::25', port: 25 },
    });
    assert.deepEqual(warningLines(scenario.warnings), ['4:3: certificate verification is off: every report will say so']);
  });

  test('--ca files are resolved from the current folder and appended', async () => {
    const scenario = await valid('tls-proxy.yaml', { env: {}, ca: ['extra/ca.pem', '/abs/ca.pem'] });
    assert.deepEqual(scenario.tls.ca.slice(2), [resolve('extra/ca.pem'), '/abs/ca.pem']);
    const plain = parseScenario(withSteps(['{ expect: 220 }']), 'p.yaml', { ca: ['c.pem'] });
    assert.deepEqual(plain.tls, { implicit: false, verify: true, ca: [resolve('c.pem')] });
  });

  test('exec: a relative program path is the scenario\'s neighbour; arguments may use variables', async () => {
    const scenario = await valid('exec.yaml');
    assert.deepEqual(scenario.target, { kind: 'exec', argv: [join(folder, 'bin', 'fake-mta'), '-bs', 'strict', ''] });
    const bare = parseScenario(withSteps(['{ expect: 220 }'], 'target: { exec: [sendmail, -bs] }'), 'x.yaml');
    assert.deepEqual(bare.target, { kind: 'exec', argv: ['sendmail', '-bs'] });
  });
});

describe('defaults and shorthands', () => {
  test('a file without the new keys gets SMTP, verifying TLS and no warnings', () => {
    const scenario = parseScenario(withSteps(['{ expect: 220 }']), 'd.yaml');
    assert.equal(scenario.protocol, 'smtp');
    assert.deepEqual(scenario.tls, { implicit: false, verify: true, ca: [] });
    assert.equal(scenario.proxy, undefined);
    assert.deepEqual(scenario.warnings, []);
    assert.deepEqual(scenario.cases[0]?.vars, {});
  });

  test('tls: implicit and a PROXY v1 header with its default version', () => {
    const scenario = parseScenario(withSteps(['{ expect: 220 }'], 'tls: implicit\nproxy: { source: "203.0.113.7:40000" }'), 'i.yaml');
    assert.deepEqual(scenario.tls, { implicit: true, verify: true, ca: [] });
    assert.deepEqual(scenario.proxy, { version: 1, source: { host: '203.0.113.7', port: 40000 } });
  });

  test('starttls expects 220 unless told otherwise, and keeps a text check', () => {
    const steps = parseScenario(withSteps(['{ starttls: true, text: Ready }', '{ starttls: true, expect: 454 }', '{ send: EHLO x }']), 's.yaml').cases[0]?.steps;
    assert.deepEqual(steps?.[0]?.expect, { ...code('220'), text: { source: 'Ready', flags: '', written: 'Ready' } });
    assert.deepEqual(steps?.[1]?.expect, code('454'));
  });

  test('bdat: false sends with DATA; mail and rcpt strings are bare addresses', () => {
    const steps = parseScenario(withSteps(['{ data: x, bdat: false }', '{ mail: a@x }', '{ rcpt: b@x }']), 'b.yaml').cases[0]?.steps;
    assert.deepEqual(
      steps?.map((step) => step.action),
      [
        { type: 'data', source: { kind: 'text', text: 'x' } },
        { type: 'send', line: 'MAIL FROM:<a@x>' },
        { type: 'send', line: 'RCPT TO:<b@x>' },
      ],
    );
  });

  test('text written beside expect_each applies to every reply', () => {
    const source = withSteps(['{ data: x, expect_each: [250, 5xx], text: /ok/ }'], 'protocol: lmtp');
    const step = parseScenario(source, 'l.yaml').cases[0]?.steps[0];
    const text = { source: 'ok', flags: '', written: '/ok/' };
    assert.deepEqual(step?.expectEach, [{ ...code('250'), text }, { ...code('5xx'), text }]);
  });

  test('a capture with no group, or one named group, is allowed', () => {
    const step = parseScenario(withSteps(['{ expect: 250, capture: { all: "/[0-9]+/", id: "/id=(?<id>\\\\w+)(?:;|$)/m" } }']), 'c.yaml').cases[0]?.steps[0];
    assert.deepEqual(
      step?.capture?.map((capture) => capture.name),
      ['all', 'id'],
    );
  });
});

describe('variables of a case', () => {
  test('command line over case over file; only the values of secret variables are secrets', () => {
    const source = 'vars: { a: file, b: file, c: "${env:C}", d: "${b}-d" }\ncases:\n  - name: n\n    vars: { b: case }\n    steps: [{ expect: 220 }]\n';
    const scenario = parseScenario(source, 'v.yaml', { vars: { a: 'cli' }, env: { C: 'from-env' } });
    assert.deepEqual(scenario.cases[0]?.vars, { a: 'cli', b: 'case', c: 'from-env', d: 'case-d' });
    assert.deepEqual(scenario.secrets, [], 'an environment value is not secret for coming from the environment');
    const declared = parseScenario(source, 'v.yaml', { vars: { a: 'cli' }, env: { C: 'from-env' }, secrets: ['C', 'a'] });
    assert.deepEqual([...declared.secrets].sort(), ['cli', 'from-env'], '--secret names a variable or an environment variable');
    const inFile = parseScenario(`secrets: [d]\n${source}`, 'v.yaml', { env: { C: 'from-env' } });
    assert.deepEqual(inFile.secrets, ['case-d'], 'the file declares its own');
    const byName = parseScenario(source.replace('${env:C}', '${env:RELAY_PASSWORD}'), 'v.yaml', { env: { RELAY_PASSWORD: 'pw-from-env' } });
    assert.deepEqual(byName.secrets, ['pw-from-env'], 'a name that says it is secret is secret');
  });
});

describe('warnings', () => {
  test('no EHLO after STARTTLS, and capabilities on a step that does not greet', async () => {
    const scenario = await valid('warnings.yaml');
    assert.deepEqual(warningLines(scenario.warnings), [
      '7:9: no EHLO after STARTTLS: the server has forgotten the session (RFC 3207), so most commands will be refused',
      '9:9: capabilities are checked on an EHLO or LHLO reply, and this step does not send EHLO or LHLO',
    ]);
  });

  test('greeting again with HELO, LHLO, a captured host or raw bytes after STARTTLS is enough', () => {
    for (const again of ['{ send: HELO x }', '{ send: lhlo x }', '{ raw: "NOOP\\r\\nEHLO x\\r\\n" }']) {
      const scenario = parseScenario(withSteps(['{ starttls: true }', again]), 'w.yaml');
      assert.deepEqual(scenario.warnings, [], again);
    }
  });

  test('a warning never stops the file from loading, and a later STARTTLS needs its own EHLO', () => {
    const scenario = parseScenario(withSteps(['{ starttls: true }', '{ send: EHLO x }', '{ starttls: true }']), 'w.yaml');
    assert.deepEqual(warningLines(scenario.warnings), [
      '6:9: no EHLO after STARTTLS: the server has forgotten the session (RFC 3207), so most commands will be refused',
    ]);
  });
});
