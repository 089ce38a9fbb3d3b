import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startExporter, type RunningExporter } from '../../src/commands/exporter.js';
import { embeddedCaFile, startEmbeddedServer, type EmbeddedServer } from '../../src/server/embedded.js';
import { main, parseArgs } from '../../src/cli.js';
import { capture } from '../helpers/capture.js';
import { family, parseOpenMetrics } from '../report/openmetrics-parse.js';
import { freePort } from '../helpers/free-port.js';
import { sourcePath } from '../helpers/paths.js';
import { startMailZone, type MailZone } from '../helpers/mail-zone.js';

describe('smtpspec exporter', () => {
  let smtp: EmbeddedServer;
  let exporter: RunningExporter;
  let dir: string;
  const get = (path: string) => fetch(`http://127.0.0.1:${exporter.port}${path}`, { signal: AbortSignal.timeout(60_000) });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-exporter-'));
    await copyFile(sourcePath('scenarios/starttls.yaml'), join(dir, 'starttls.yaml'));
    await writeFile(join(dir, 'notes.txt'), 'not a scenario\n');
    smtp = await startEmbeddedServer({ host: '127.0.0.1', port: 0 });
    exporter = await startExporter({ host: '127.0.0.1', port: 0, scenariosDir: dir, ca: [embeddedCaFile()], vars: { domain: 'example.test' } });
  });

  after(async () => {
    await exporter.close();
    await smtp.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a check by name against a real session: OpenMetrics with probe_success 1', async () => {
    const response = await get(`/probe?target=127.0.0.1:${smtp.port}&check=greeting`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/openmetrics-text; version=1\.0\.0/);
    const families = parseOpenMetrics(await response.text());
    assert.equal(family(families, 'probe_success').metrics[0]?.value, '1');
    assert.ok(Number(family(families, 'probe_duration_seconds').metrics[0]?.value) > 0);
    const success = family(families, 'smtpspec_case_success').metrics;
    assert.equal(success.length, 2);
    assert.ok(success.every((m) => m.labels?.['target'] === `127.0.0.1:${smtp.port}` && m.value === '1'));
    assert.ok(family(families, 'smtpspec_reply_code').metrics.some((m) => m.value === '221'));
  });

  test('a scenario from the --scenarios folder: step durations and the certificate expiry', async () => {
    const response = await get(`/probe?target=127.0.0.1:${smtp.port}&scenario=starttls.yaml&timeout=20`);
    const families = parseOpenMetrics(await response.text());
    assert.equal(family(families, 'probe_success').metrics[0]?.value, '1');
    const notAfter = family(families, 'smtpspec_tls_certificate_not_after_timestamp_seconds').metrics;
    assert.equal(notAfter.length, 1);
    assert.ok(Number(notAfter[0]!.value) * 1000 > Date.now());
    assert.ok(family(families, 'smtpspec_step_duration_seconds').metrics.some((m) => m.labels?.['step']?.endsWith('starttls')));
  });

  test('a refused target: probe_success 0, and the failure counted in /metrics', async () => {
    const port = await freePort();
    const before = parseOpenMetrics(await (await get('/metrics')).text());
    const failuresBefore = Number(family(before, 'smtpspec_exporter_probe_failures').metrics[0]?.value);
    const response = await get(`/probe?target=127.0.0.1:${port}&check=greeting`);
    assert.equal(response.status, 200);
    const families = parseOpenMetrics(await response.text());
    assert.equal(family(families, 'probe_success').metrics[0]?.value, '0');
    assert.ok(family(families, 'smtpspec_case_success').metrics.every((m) => m.value === '0'));
    const afterwards = parseOpenMetrics(await (await get('/metrics')).text());
    assert.equal(Number(family(afterwards, 'smtpspec_exporter_probe_failures').metrics[0]?.value), failuresBefore + 1);
    assert.ok(Number(family(afterwards, 'smtpspec_exporter_probes').metrics[0]?.value) >= 1);
  });

  test('bad parameters: 400 with one sentence; a path from the query string is never read', async () => {
    const cases: [string, RegExp][] = [
      ['/probe?check=greeting', /^target is missing/],
      [`/probe?target=unix:/tmp/x&check=greeting`, /^target expects host\[:port\]/],
      [`/probe?target=127.0.0.1:${smtp.port}`, /^give either check=NAME or scenario=FILE/],
      [`/probe?target=127.0.0.1:${smtp.port}&check=greeting&scenario=starttls.yaml`, /^give either/],
      [`/probe?target=127.0.0.1:${smtp.port}&check=no-such-check`, /^there is no check named "no-such-check"/],
      [`/probe?target=127.0.0.1:${smtp.port}&scenario=../starttls.yaml`, /^there is no scenario file "\.\.\/starttls\.yaml" in the scenarios folder/],
      [`/probe?target=127.0.0.1:${smtp.port}&scenario=${encodeURIComponent(sourcePath('scenarios/starttls.yaml'))}`, /^there is no scenario file/],
      [`/probe?target=127.0.0.1:${smtp.port}&scenario=notes.txt`, /^there is no scenario file "notes\.txt"/],
      [`/probe?target=127.0.0.1:${smtp.port}&check=greeting&timeout=soon`, /^timeout expects seconds or a duration/],
      [`/probe?target=127.0.0.1:${smtp.port}&check=greeting&module=x`, /^unknown parameter "module"/],
    ];
    for (const [path, sentence] of cases) {
      const response = await get(path);
      const body = await response.text();
      assert.equal(response.status, 400, `${path}: ${body}`);
      assert.match(body, sentence, path);
      assert.equal(body.split('\n').length, 2, 'one line');
    }
    assert.equal((await get('/nothing')).status, 404);
  });

  test('the command listens until it is told to stop, answers probes meanwhile, and exits 130 like serve', async () => {
    const c = capture();
    let stop!: () => void;
    const io = { ...c.io, untilStopped: new Promise<void>((resolve) => (stop = resolve)) };
    const exited = main(['exporter', '--listen', '127.0.0.1:0'], io);
    const listening = await new Promise<string>((resolve) => {
      const look = (): void => {
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(c.stdout());
        if (match) resolve(match[1]!);
        else (c.io.stdout as unknown as NodeJS.ReadableStream).once('data', look);
      };
      look();
    });
    assert.equal((await fetch(`${listening}metrics`, { signal: AbortSignal.timeout(60_000) })).status, 200);
    stop();
    assert.equal(await exited, 130);
    assert.match(c.stdout(), /stopping\n$/);
  });

  test('the command line: --listen host:port, default 127.0.0.1:9125', () => {
    assert.deepEqual(parseArgs(['exporter']), { command: 'exporter', host: '127.0.0.1', port: 9125, vars: {}, ca: [] });
    assert.deepEqual(parseArgs(['exporter', '--listen', '[::1]:0', '--scenarios', 'probes/']), { command: 'exporter', host: '::1', port: 0, vars: {}, ca: [], scenariosDir: 'probes/' });
    assert.throws(() => parseArgs(['exporter', '--listen', '9125']), /--listen expects host:port/);
    assert.deepEqual(parseArgs(['exporter', '--dns-server', '127.0.0.1:5353']), { command: 'exporter', host: '127.0.0.1', port: 9125, vars: {}, ca: [], dnsServer: { host: '127.0.0.1', port: 5353 } });
    assert.throws(() => parseArgs(['exporter', '--dns-server', 'nowhere:x']), /--dns-server expects an address/);
  });
});

describe('smtpspec exporter, DNS checks of a mail domain', () => {
  let zone: MailZone;
  let exporter: RunningExporter;
  const get = (path: string) => fetch(`http://127.0.0.1:${exporter.port}${path}`, { signal: AbortSignal.timeout(60_000) });

  before(async () => {
    zone = await startMailZone();
    exporter = await startExporter({ host: '127.0.0.1', port: 0, ca: [zone.caPath], dnsServer: { host: zone.dns.host, port: zone.dns.port }, vars: { policy_port: String(zone.policyPort) } });
  });

  after(async () => {
    await exporter.close();
    await zone.close();
  });

  test('a probe of a DNS check takes the target as the mail domain and asks the --dns-server: verdicts as metrics', async () => {
    const good = parseOpenMetrics(await (await get(`/probe?target=good.test:${zone.good.smtpPort}&check=mta-sts`)).text());
    assert.equal(family(good, 'probe_success').metrics[0]?.value, '1');
    const verdicts = family(good, 'smtpspec_check_verdict').metrics;
    assert.deepEqual(verdicts.map((m) => [m.labels?.['check'], m.labels?.['target'], m.value]), [['mta-sts', 'mail domain good.test', '1']]);

    const bad = parseOpenMetrics(await (await get(`/probe?target=bad.test:${zone.bad.smtpPort}&check=fcrdns`)).text());
    assert.equal(family(bad, 'probe_success').metrics[0]?.value, '0');
    assert.deepEqual(family(bad, 'smtpspec_check_verdict').metrics.map((m) => [m.labels?.['check'], m.value]), [['fcrdns', '0']]);
  });
});
