import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CaseResult, StepResult, TlsFacts } from '../../src/engine/results.js';
import type { TcpTarget } from '../../src/scenario/types.js';
import { MxTableReporter, mxRows, mxTableLines } from '../../src/report/mx-table.js';
import { memorySink } from '../../src/report/sink.js';
import { assertGolden } from './fixtures/golden.js';
import { mtaStsWarn, tlsRptPass } from './fixtures/check-run.js';
import { countResults, type CheckOutcome } from '../../src/engine/results.js';

/** Recorded results of `smtpspec mx` with a fixed clock: two MX hosts, an implicit MX and a domain that does not exist. */
const NOW = Date.parse('2026-01-01T00:00:00Z');
const pos = { file: 'scenarios/checks/greeting.yaml', line: 1, col: 1 };

const TLS: TlsFacts = {
  protocol: 'TLSv1.3',
  cipher: 'TLS_AES_256_GCM_SHA384',
  verified: true,
  subject: 'CN=mx2.example.test',
  issuer: 'CN=Test CA',
  validFrom: '2025-10-01T00:00:00Z',
  validTo: '2026-03-01T12:00:00Z',
  fingerprint256: 'AA:BB',
};

function step(index: number, fields: Partial<StepResult>): StepResult {
  return { index, pos, label: 'step', status: 'passed', durationMs: 1, ...fields };
}

const greeting = (text: string) => step(0, { label: 'greeting', reply: { code: 220, lines: [text] } });
const ehlo = (...lines: string[]) => step(1, { sent: 'EHLO smtpspec.invalid', reply: { code: 250, lines } });

function kase(check: string, target: TcpTarget, status: CaseResult['status'], steps: StepResult[], extra: Partial<CaseResult> = {}): CaseResult {
  const connected = target.resolveError ? [] : [{ atMs: 0, dir: '*' as const, text: `connected to ${target.host}:${target.port} (${target.addresses?.[0] ?? target.host})` }];
  return {
    id: `${check}@${target.host}`,
    file: `scenarios/checks/${check}.yaml`,
    scenarioName: check,
    caseName: 'a case',
    caseIndex: 0,
    pos,
    target,
    status,
    startedAt: '2026-01-01T00:00:00.000Z',
    durationMs: 5,
    steps,
    transcript: connected,
    ...(target.resolveError ? {} : { remoteAddress: target.addresses?.[0] ?? target.host }),
    ...extra,
  };
}

const MX1: TcpTarget = { kind: 'tcp', host: 'mx1.example.test', port: 25, name: 'example.test MX mx1.example.test', addresses: ['192.0.2.1'], mx: { domain: 'example.test', preference: 10 } };
const MX2: TcpTarget = { kind: 'tcp', host: 'mx2.example.test', port: 25, name: 'example.test MX mx2.example.test', addresses: ['2001:db8::2'], mx: { domain: 'example.test', preference: 20 } };
const IMPLICIT: TcpTarget = { kind: 'tcp', host: 'implicit.test', port: 25, name: 'implicit.test MX implicit.test', addresses: ['192.0.2.3'], mx: { domain: 'implicit.test', implicit: true } };
const MISSING: TcpTarget = { kind: 'tcp', host: 'missing.test', port: 25, name: 'missing.test', resolveError: 'domain missing.test does not exist (NXDOMAIN)', mx: { domain: 'missing.test' } };

const DOMAIN: TcpTarget = { kind: 'tcp', host: 'example.test', port: 25, name: 'example.test', mx: { domain: 'example.test', wholeDomain: true } };
const NO_MX_ROW: TcpTarget = { kind: 'tcp', host: 'nomx.test', port: 25, name: 'nomx.test', mx: { domain: 'nomx.test', wholeDomain: true } };

/** A case run once for a whole domain: one DNS check step, no session. */
function domainCase(check: string, target: TcpTarget, outcome: CheckOutcome): CaseResult {
  const { remoteAddress: _, ...item } = kase(check, target, 'passed', [step(0, { label: check, check: outcome })], { transcript: [] });
  return item;
}

const cases: CaseResult[] = [
  kase('greeting', MX1, 'passed', [greeting('mx1.example.test ESMTP Postfix (Debian/GNU) with a very long banner text'), ehlo('mx1.example.test', 'PIPELINING')]),
  kase('starttls', MX1, 'failed', [greeting('mx1.example.test ESMTP'), ehlo('mx1.example.test', 'PIPELINING')]),
  kase('greeting', MX2, 'passed', [greeting('mx2.example.test ESMTP')]),
  kase('starttls', MX2, 'passed', [greeting('mx2.example.test ESMTP'), ehlo('mx2.example.test', 'STARTTLS'), step(2, { sent: 'STARTTLS', tls: TLS })], { tls: TLS }),
  kase('greeting', IMPLICIT, 'error', [step(0, { status: 'error', label: 'greeting', message: 'connection refused' })], { transcript: [] }),
  kase('starttls', IMPLICIT, 'skipped', []),
  kase('greeting', MISSING, 'error', []),
  kase('starttls', MISSING, 'error', []),
  // MTA-STS: the policy once for the domain (a warning), each MX's STARTTLS on its own (mx1's fails).
  kase('mta-sts', MX1, 'failed', [greeting('mx1.example.test ESMTP')]),
  kase('mta-sts', MX2, 'passed', [greeting('mx2.example.test ESMTP')]),
  domainCase('mta-sts', DOMAIN, mtaStsWarn),
  domainCase('tls-rpt', NO_MX_ROW, { ...tlsRptPass, facts: { ...tlsRptPass.facts, domain: 'nomx.test', recordName: '_smtp._tls.nomx.test' } } as CheckOutcome),
];

describe('the mx table', () => {
  test('matches the golden output', async () => {
    const sink = memorySink();
    await new MxTableReporter(sink, { now: () => NOW }).onEnd({ startedAt: '2026-01-01T00:00:00.000Z', durationMs: 40, cases, counts: countResults(cases) });
    await assertGolden('mx-table.txt', sink.text);
    assert.ok(sink.closed);
  });

  test('one row per MX host with what the sessions saw; - where nothing is known', () => {
    const rows = mxRows(cases, NOW);
    assert.deepEqual(rows.map((row) => [row.domain, row.preference, row.implicit, row.host, row.address, row.starttls, row.certificateDaysLeft]), [
      ['example.test', 10, undefined, 'mx1.example.test', '192.0.2.1', false, undefined],
      ['example.test', 20, undefined, 'mx2.example.test', '2001:db8::2', true, 59],
      ['implicit.test', undefined, true, 'implicit.test', '192.0.2.3', undefined, undefined],
      ['missing.test', undefined, undefined, 'missing.test', undefined, undefined, undefined],
      ['nomx.test', undefined, undefined, 'nomx.test', undefined, undefined, undefined],
    ]);
    assert.deepEqual(rows.map((row) => row.checks), [
      { greeting: 'pass', starttls: 'FAIL', 'mta-sts': 'FAIL' },
      { greeting: 'pass', starttls: 'pass', 'mta-sts': 'warn' },
      { greeting: 'error', starttls: 'skip' },
      { greeting: 'error', starttls: 'error' },
      { 'tls-rpt': 'pass' },
    ]);
    assert.equal(rows[0]!.greeting, '220 mx1.example.test ESMTP Postfix (Debian/GNU) with a very long banner text');
    assert.equal(rows[3]!.error, 'domain missing.test does not exist (NXDOMAIN)');
  });

  test('columns line up, the greeting is cut, and a row that did not resolve says why below the table', () => {
    const lines = mxTableLines(mxRows(cases, NOW));
    const header = lines[0]!;
    for (const line of lines.slice(1, 5)) assert.equal(line.search(/(pass|FAIL|error|skip)/), header.indexOf('greeting', header.indexOf('cert days')), line);
    assert.ok(lines[1]!.includes('…'));
    assert.equal(lines.at(-1), 'missing.test: domain missing.test does not exist (NXDOMAIN)');
  });

  test('a case run once for the whole domain fills its column in every row of the domain, or has a row of its own', () => {
    const rows = mxRows(cases, NOW);
    assert.equal(rows.length, 5, 'no row for example.test itself');
    assert.deepEqual(rows[4], { domain: 'nomx.test', host: 'nomx.test', port: 25, checks: { 'tls-rpt': 'pass' }, wholeDomain: true });
    const lines = mxTableLines(rows);
    assert.match(lines[5]!, /^nomx\.test +- +- +- +- +- +- +- +- +- +pass$/);
    // The domain's verdict alone, without the hosts' own mta-sts cases: warn in both rows.
    const alone = mxRows(cases.filter((item) => !(item.file.endsWith('mta-sts.yaml') && item.target !== DOMAIN)), NOW);
    assert.deepEqual(alone.slice(0, 2).map((row) => row.checks['mta-sts']), ['warn', 'warn']);
  });

  test('a greeting with control characters is shown printable', () => {
    const hostile = [kase('greeting', MX1, 'passed', [greeting('evil\x1b[31m red')])];
    assert.ok(!mxTableLines(mxRows(hostile, NOW)).join('\n').includes('\x1b'));
  });
});
