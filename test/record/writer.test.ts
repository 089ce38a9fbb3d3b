import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { yaml } from '../../src/yaml-lib.js';
import type { RecordedStep } from '../../src/record/steps.js';
import { expectationOf, literal, scenarioText, variablesNeeded, type ScenarioSettings } from '../../src/record/writer.js';
import type { Reply } from '../../src/smtp/types.js';

const reply = (code: number, enhanced?: string): Reply => ({ code, lines: ['x'], ...(enhanced ? { enhanced } : {}) });
const settings: ScenarioSettings = { target: 'mx.example.com:25', host: 'mx.example.com', loose: false, date: new Date('2025-01-02T03:04:05.000Z') };

describe('expectations', () => {
  test('exact codes, with the enhanced code when the reply carried one', () => {
    assert.equal(expectationOf(reply(250), false), 250);
    assert.equal(expectationOf(reply(550, '5.1.1'), false), '550 5.1.1');
  });

  test('--loose keeps the class, and the enhanced code without its detail', () => {
    assert.equal(expectationOf(reply(250), true), '2xx');
    assert.equal(expectationOf(reply(550, '5.1.1'), true), '5xx 5.1.x');
  });

  test('a code outside 200..599 is not expected at all', () => {
    assert.equal(expectationOf(reply(199), false), undefined);
  });
});

describe('scenarioText', () => {
  const steps: RecordedStep[] = [
    { kind: 'greeting', reply: reply(220) },
    { kind: 'send', line: 'MAIL FROM:<${x}@example.test>', reply: reply(250) },
    { kind: 'starttls', reply: reply(220) },
    { kind: 'auth', mechanism: 'LOGIN', initialResponse: false, cancel: false, reply: reply(235) },
    { kind: 'data', lines: ['Subject: hi', '', '.leading dot'], reply: reply(250, '2.0.0') },
  ];

  test('header, target, one case named after the host, and steps the loader reads back', () => {
    const text = scenarioText(steps, { ...settings, schema: '../schema/scenario.schema.json', tls: { verify: false } });
    const lines = text.split('\n');
    assert.equal(lines[0], '# yaml-language-server: $schema=../schema/scenario.schema.json');
    assert.match(text, /^# Recorded with smtpspec record on 2025-01-02T03:04:05.000Z from mx.example.com:25\.$/m);
    assert.match(text, /^# .*set SMTP_USER and SMTP_PASSWORD/m);
    const parsed = yaml.parse(text) as { target: string; tls: unknown; cases: { name: string; steps: Record<string, unknown>[] }[] };
    assert.equal(parsed.target, 'mx.example.com:25');
    assert.deepEqual(parsed.tls, { verify: false });
    assert.equal(parsed.cases[0]?.name, 'session with mx.example.com');
    assert.deepEqual(parsed.cases[0]?.steps, [
      { expect: 220 },
      { send: 'MAIL FROM:<$${x}@example.test>', expect: 250 },
      { starttls: true },
      { auth: { mechanism: 'LOGIN', username: '${env:SMTP_USER}', password: '${env:SMTP_PASSWORD}' }, expect: 235 },
      { data: 'Subject: hi\n\n.leading dot\n', expect: '250 2.0.0' },
    ]);
  });

  test('TLS settings are written only when the session used STARTTLS', () => {
    const text = scenarioText([{ kind: 'greeting', reply: reply(220) }], { ...settings, tls: { verify: false } });
    assert.doesNotMatch(text, /tls:/);
    assert.doesNotMatch(text, /SMTP_USER/);
  });

  test('auth options are written only where they differ from the defaults', () => {
    const auth = (mechanism: 'PLAIN' | 'LOGIN' | 'XOAUTH2', initialResponse: boolean, cancel = false): RecordedStep => ({ kind: 'auth', mechanism, initialResponse, cancel, reply: reply(235) });
    const read = (step: RecordedStep): unknown => (yaml.parse(scenarioText([step], settings)) as { cases: { steps: { auth: unknown }[] }[] }).cases[0]?.steps[0]?.auth;
    assert.deepEqual(read(auth('PLAIN', false, true)), { mechanism: 'PLAIN', username: '${env:SMTP_USER}', password: '${env:SMTP_PASSWORD}', initial_response: false, cancel: true });
    assert.deepEqual(read(auth('LOGIN', true)), { mechanism: 'LOGIN', username: '${env:SMTP_USER}', password: '${env:SMTP_PASSWORD}', initial_response: true });
    assert.deepEqual(read(auth('XOAUTH2', true)), { mechanism: 'XOAUTH2', username: '${env:SMTP_USER}', token: '${env:SMTP_TOKEN}' });
    assert.deepEqual(variablesNeeded([auth('XOAUTH2', true)]), ['SMTP_USER', 'SMTP_TOKEN']);
  });

  test('literal keeps typed text from starting a variable', () => {
    assert.equal(literal('a ${b} $c $${d}'), 'a $${b} $c $$${d}');
  });
});
