import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NagiosReporter, buildNagios, nagiosCheck, nagiosExitCode } from '../../src/report/nagios.js';
import { memorySink } from '../../src/report/sink.js';
import type { RunResult } from '../../src/engine/results.js';
import { main } from '../../src/cli.js';
import { htmlRun, tls } from './fixtures/html-run.js';
import { runResult } from './fixtures/run.js';
import { replay } from './fixtures/replay.js';
import { assertGolden } from './fixtures/golden.js';
import { checkRun, fcrdnsCase, mtaStsCase, runOf, tlsRptCase } from './fixtures/check-run.js';
import { capture } from '../helpers/capture.js';
import { sourcePath } from '../helpers/paths.js';

const NOW = Date.parse('2025-01-02T03:04:05.000Z');
const DAY = 86_400_000;

interface Perf {
  label: string;
  value: number;
  uom: string;
  rest: string[];
}

/**
 * Reads a plugin's output line as the plugin guidelines define it: `TEXT | perfdata`, one line, perfdata
 * `'label'=value[UOM];[warn];[crit];[min];[max]` separated by spaces, labels free of `'` and `=`.
 */
function parseNagios(output: string): { service: string; status: string; text: string; perf: Perf[] } {
  assert.ok(output.endsWith('\n') && output.indexOf('\n') === output.length - 1, 'one line');
  const [head, perfText, ...more] = output.slice(0, -1).split('|');
  assert.equal(more.length, 0, 'one | only');
  const match = /^(\S+) (OK|WARNING|CRITICAL|UNKNOWN): (.+)$/.exec(head!.trimEnd());
  assert.ok(match, `status line: ${head}`);
  const perf: Perf[] = [];
  let rest = (perfText ?? '').trim();
  while (rest !== '') {
    const item = /^'([^'=]+)'=(-?[0-9.]+)(s|ms|us|%|B|KB|MB|TB|c)?((?:;[^; ]*){0,4}) */.exec(rest) ?? /^([^'= ]+)=(-?[0-9.]+)(s|ms|us|%|B|KB|MB|TB|c)?((?:;[^; ]*){0,4}) */.exec(rest);
    assert.ok(item, `perfdata item at: ${rest}`);
    for (const threshold of item[4]!.split(';').slice(1, 3)) assert.match(threshold, /^$|^@?(-?[0-9.]+|~)?:?(-?[0-9.]+)?$/, 'a range');
    perf.push({ label: item[1]!, value: Number(item[2]), uom: item[3] ?? '', rest: item[4]!.split(';').slice(1) });
    rest = rest.slice(item[0].length);
  }
  return { service: match[1]!, status: match[2]!, text: match[3]!, perf };
}

function passedWithCertificate(daysLeft: number): RunResult {
  const flakyTls = htmlRun.cases.at(-1)!;
  const validTo = new Date(NOW + daysLeft * DAY + 1000).toISOString();
  const item = { ...flakyTls, tls: { ...tls, validTo } };
  return { ...htmlRun, cases: [item], counts: { passed: 1, failed: 0, errors: 0, skipped: 0, total: 1 } };
}

describe('Nagios plugin output', () => {
  test('matches the golden output', async () => {
    const sink = memorySink();
    await replay(new NagiosReporter(sink, { now: () => NOW }), htmlRun);
    assert.equal(sink.closed, true);
    await assertGolden('nagios.txt', sink.text);
  });

  test('is one status line with perfdata in the guidelines format: per target, per case when a target ran several', () => {
    const parsed = parseNagios(buildNagios(htmlRun, { now: () => NOW }));
    assert.equal(parsed.service, 'SMTPSPEC');
    assert.equal(parsed.status, 'CRITICAL');
    assert.match(parsed.text, /^4 of 6 cases did not pass; unknown recipient is rejected @ 127\.0\.0\.1:2525: step 4/);
    const labels = parsed.perf.map((p) => p.label);
    assert.ok(labels.includes('127.0.0.1:2525 greeting and EHLO connect'), labels.join(', '));
    assert.ok(labels.includes('mx2.example.test:25 STARTTLS upgrades the session tls'), labels.join(', '));
    const days = parsed.perf.find((p) => p.label === 'mx2.example.test:25 cert_days_left')!;
    assert.deepEqual([days.value, days.uom, days.rest[0], days.rest[1]], [10, '', '30:', '14:']);
    const tlsTime = parsed.perf.find((p) => p.label === 'mx2.example.test:25 STARTTLS upgrades the session tls')!;
    assert.deepEqual([tlsTime.value, tlsTime.uom], [0.008, 's'], 'the STARTTLS step less the wait for its 220');
    const greeting = parsed.perf.find((p) => p.label === 'mx2.example.test:25 STARTTLS upgrades the session greeting')!;
    assert.equal(greeting.value, 0.002);
    assert.equal(new Set(labels).size, labels.length, 'labels are unique');
    assert.ok(!labels.some((l) => l.startsWith('127.0.0.1:2626 ') && l !== '127.0.0.1:2626 transaction'), 'a refused session has no connect or greeting time');
  });

  test('one target and one case: labels without a prefix; the case name never breaks the line', () => {
    const hostile = { ...runResult, cases: [runResult.cases[4]!] };
    const output = buildNagios(hostile, { now: () => NOW });
    const parsed = parseNagios(output);
    assert.equal(parsed.status, 'CRITICAL');
    assert.deepEqual(parsed.perf.map((p) => p.label), ['connect', 'greeting', 'transaction']);
  });

  test('OK, WARNING and CRITICAL by certificate days left, with the thresholds given', () => {
    const status = (days: number, options = {}) => nagiosCheck(passedWithCertificate(days), { now: () => NOW, ...options }).status;
    assert.equal(status(90), 'OK');
    assert.equal(status(29), 'WARNING');
    assert.equal(status(13), 'CRITICAL');
    assert.equal(status(-2), 'CRITICAL');
    assert.equal(status(50, { warnDays: 60, critDays: 40 }), 'WARNING');
    assert.equal(status(30, { warnDays: 60, critDays: 40 }), 'CRITICAL');
    assert.match(nagiosCheck(passedWithCertificate(29), { now: () => NOW }).text, /expires in 29 days/);
  });

  test('UNKNOWN when no case ran; exit codes 0 to 3', () => {
    const none = { ...runResult, cases: [runResult.cases[2]!] };
    assert.equal(nagiosCheck(none).status, 'UNKNOWN');
    assert.deepEqual((['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const).map(nagiosExitCode), [0, 1, 2, 3]);
  });
});

describe('run --reporter nagios', () => {
  test('a passing run against the embedded server: OK, exit 0, the line alone on stdout', async () => {
    const c = capture();
    const code = await main(['run', sourcePath('scenarios/starttls.yaml'), '--embedded', '--var', 'domain=example.test', '--reporter', 'nagios'], c.io);
    assert.equal(code, 0, c.stdout() + c.stderr());
    const parsed = parseNagios(c.stdout());
    assert.equal(parsed.status, 'OK');
    assert.ok(parsed.perf.some((p) => p.label === 'tls' && p.uom === 's'), c.stdout());
    assert.ok(parsed.perf.some((p) => p.label === 'cert_days_left' && p.value > 30), c.stdout());
  });

  test('a failing case: CRITICAL, exit 2; a certificate nearer than --crit-days: CRITICAL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-nagios-'));
    const file = join(dir, 'wrong-greeting.yaml');
    await writeFile(file, 'name: wrong greeting\ntarget: 127.0.0.1:25\ncases:\n  - name: greeting is refused\n    steps:\n      - expect: 554\n');
    const failing = capture();
    assert.equal(await main(['run', file, '--embedded', '--reporter', 'nagios'], failing.io), 2, failing.stdout() + failing.stderr());
    await rm(dir, { recursive: true, force: true });
    assert.equal(parseNagios(failing.stdout()).status, 'CRITICAL');
    const expiring = capture();
    const args = ['run', sourcePath('scenarios/starttls.yaml'), '--embedded', '--var', 'domain=example.test', '--reporter', 'nagios'];
    assert.equal(await main([...args, '--warn-days', '100000', '--crit-days', '100000'], expiring.io), 2, expiring.stdout());
    assert.match(parseNagios(expiring.stdout()).text, /expires in \d+ days/);
  });

  test('unusable input: UNKNOWN on stdout, exit 3; other reporters keep exit 2', async () => {
    const bad = capture();
    assert.equal(await main(['run', 'no-such-file.yaml', '--embedded', '--reporter', 'nagios'], bad.io), 3);
    assert.equal(parseNagios(bad.stdout()).status, 'UNKNOWN');
    const badFlag = capture();
    assert.equal(await main(['run', 'x.yaml', '--reporter=nagios', '--warn-days', 'soon'], badFlag.io), 3);
    assert.match(badFlag.stdout(), /^SMTPSPEC UNKNOWN: --warn-days expects a whole number/);
    const plain = capture();
    assert.equal(await main(['run', 'no-such-file.yaml', '--embedded'], plain.io), 2);
    assert.equal(plain.stdout(), '');
  });
});

describe('Nagios plugin output with DNS check steps', () => {
  test('a failed or undecided check is CRITICAL, with its reasons in the status text', () => {
    const parsed = parseNagios(buildNagios(checkRun, { now: () => NOW }));
    assert.equal(parsed.status, 'CRITICAL');
    assert.equal(parsed.text, '3 of 6 cases did not pass; forward-confirmed reverse DNS @ example.test MX mx-b.example.test (mx-b.example.test:25): step 2 (fcrdns): the PTR lookup of 192.0.2.2 failed: no answer from 127.0.0.1:5353 within 5 s');
  });

  test('every case passed but a check warned: WARNING, the warning in the text; no warning: OK', () => {
    const warned = parseNagios(buildNagios(runOf([fcrdnsCase, mtaStsCase, tlsRptCase]), { now: () => NOW }));
    assert.equal(warned.status, 'WARNING');
    assert.equal(warned.text, '3 cases passed, but policy @ mail domain example.test: mta-sts: max_age is 3600 seconds, under a day');
    const twice = nagiosCheck(runOf([mtaStsCase, { ...mtaStsCase, id: 'again', caseName: 'again' }]), { now: () => NOW });
    assert.match(twice.text, /under a day \(and 1 more warning\)$/);
    assert.equal(nagiosCheck(runOf([fcrdnsCase, tlsRptCase]), { now: () => NOW }).status, 'OK');
  });

  test('a certificate past the critical threshold stays CRITICAL beside the warning of a check; both are named', () => {
    const expiring = passedWithCertificate(3).cases[0]!;
    const check = nagiosCheck(runOf([expiring, mtaStsCase]), { now: () => NOW });
    assert.equal(check.status, 'CRITICAL');
    assert.match(check.text, /^2 cases passed, but the certificate of .* expires in 3 days; policy @ .*: mta-sts: max_age/);
  });
});
