import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenMetricsReporter, buildOpenMetrics, escapeLabelValue } from '../../src/report/openmetrics.js';
import { memorySink } from '../../src/report/sink.js';
import { main } from '../../src/cli.js';
import { htmlRun } from './fixtures/html-run.js';
import { replay } from './fixtures/replay.js';
import { assertGolden } from './fixtures/golden.js';
import { capture } from '../helpers/capture.js';
import { sourcePath } from '../helpers/paths.js';
import { family, parseOpenMetrics } from './openmetrics-parse.js';
import { checkRun, daneCase } from './fixtures/check-run.js';

describe('OpenMetrics output', () => {
  test('matches the golden output', async () => {
    const sink = memorySink();
    await replay(new OpenMetricsReporter(sink), htmlRun);
    assert.equal(sink.closed, true);
    await assertGolden('openmetrics.txt', sink.text);
  });

  test('parses with a Prometheus text parser: every case that ran, its steps, reply codes, the certificate, the run', () => {
    const families = parseOpenMetrics(buildOpenMetrics(htmlRun));
    const success = family(families, 'smtpspec_case_success').metrics;
    assert.equal(success.length, 6, 'the skipped case is left out');
    const hostile = success.find((m) => m.labels?.['case']?.startsWith('odd'));
    assert.equal(hostile?.labels?.['case'], 'odd \\ names # are "escaped"\nand one line', 'label values come back as they were');
    assert.equal(hostile?.value, '0');
    const passed = success.filter((m) => m.value === '1').map((m) => `${m.labels?.['case']} @ ${m.labels?.['target']}`);
    assert.deepEqual(passed, ['greeting and EHLO @ 127.0.0.1:2525', 'STARTTLS upgrades the session @ mx2.example.test:25']);
    const codes = family(families, 'smtpspec_reply_code').metrics.filter((m) => m.labels?.['case'] === 'unknown recipient is rejected');
    assert.deepEqual(codes.map((m) => [m.labels?.['step'], m.value]), [
      ['1. greeting', '220'],
      ['2. send: EHLO client.test', '250'],
      ['3. send: MAIL FROM:<alice@example.test>', '250'],
      ['4. send: RCPT TO:<nobody@example.test>', '550'],
    ]);
    const notAfter = family(families, 'smtpspec_tls_certificate_not_after_timestamp_seconds').metrics;
    assert.deepEqual(notAfter.map((m) => [m.labels?.['target'], m.value]), [['mx2.example.test:25', String(Date.parse('2025-01-12T03:04:05.000Z') / 1000)]]);
    assert.equal(family(families, 'smtpspec_run_timestamp_seconds').metrics[0]?.value, String(Date.parse(htmlRun.startedAt) / 1000));
    assert.equal(family(families, 'smtpspec_step_duration_seconds').metrics.find((m) => m.labels?.['step'] === '2. starttls')?.value, '0.009');
  });

  test('escapes backslash, double quote and line feed in label values', () => {
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  });
});

describe('run --openmetrics', () => {
  test('writes the file beside the console report, and never over a file the run reads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-openmetrics-'));
    try {
      const file = join(dir, 'out', 'smtpspec.prom');
      const c = capture();
      const scenario = sourcePath('scenarios/starttls.yaml');
      assert.equal(await main(['run', scenario, '--embedded', '--var', 'domain=example.test', '--openmetrics', file], c.io), 0, c.stderr());
      const families = parseOpenMetrics(await readFile(file, 'utf8'));
      assert.deepEqual(family(families, 'smtpspec_case_success').metrics.map((m) => m.value), ['1']);
      assert.equal(family(families, 'smtpspec_tls_certificate_not_after_timestamp_seconds').metrics.length, 1);
      const refused = capture();
      assert.equal(await main(['run', scenario, '--embedded', '--openmetrics', scenario], refused.io), 2);
      assert.match(refused.stderr(), /--openmetrics .* is the scenario file .*; a report never replaces an input/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('OpenMetrics output with DNS check steps', () => {
  test('matches the golden output', async () => {
    const sink = memorySink();
    await replay(new OpenMetricsReporter(sink), checkRun);
    await assertGolden('openmetrics-checks.txt', sink.text);
  });

  test('a verdict per check step, 1 for pass and warn, 0 for fail and error; the authenticated-data flag of DANE', () => {
    const families = parseOpenMetrics(buildOpenMetrics(checkRun));
    const verdicts = family(families, 'smtpspec_check_verdict').metrics;
    assert.deepEqual(
      verdicts.map((m) => [m.labels?.['check'], m.labels?.['target'], m.labels?.['step'], m.value]),
      [
        ['fcrdns', 'example.test MX mx.example.test (mx.example.test:25)', '2. fcrdns', '1'],
        ['fcrdns', 'example.test MX mx-b.example.test (mx-b.example.test:25)', '2. fcrdns', '0'],
        ['dane', 'example.test MX mx.example.test (mx.example.test:25)', '2. dane', '0'],
        ['mta-sts', 'mail domain example.test', '1. mta_sts', '1'],
        ['tls-rpt', 'mail domain example.test', '1. tls_rpt', '1'],
        ['dnsbl', 'example.test MX mx.example.test (mx.example.test:25)', '2. dnsbl', '0'],
      ],
    );
    assert.deepEqual(family(families, 'smtpspec_dnssec_authenticated').metrics.map((m) => [m.labels?.['check'], m.labels?.['case'], m.value]), [['dane', 'DANE', '0']]);
    const authenticated = { ...daneCase, steps: daneCase.steps.map((step) => (step.check?.check === 'dane' ? { ...step, check: { ...step.check, facts: { ...step.check.facts, authenticated: true } } } : step)) };
    const again = parseOpenMetrics(buildOpenMetrics({ ...checkRun, cases: [authenticated] }));
    assert.deepEqual(family(again, 'smtpspec_dnssec_authenticated').metrics.map((m) => m.value), ['1']);
  });
});
