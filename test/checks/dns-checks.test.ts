import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { DnsClient } from '../../src/dns/resolver.js';
import { dane } from '../../src/dns/checks/dane.js';
import { fcrdns } from '../../src/dns/checks/fcrdns.js';
import { mtaSts } from '../../src/dns/checks/mta-sts.js';
import { fetchPolicy } from '../../src/dns/checks/policy-fetch.js';
import type { CaseResult, StepResult } from '../../src/engine/results.js';
import type { ResultsDocument } from '../../src/report/json.js';
import { connect } from '../../src/smtp/client.js';
import { smtpspec, type CliResult } from '../helpers/cli.js';
import { GENEROUS, GENEROUS_MS } from '../helpers/deadlines.js';
import { CLEAN_ZONE, CONFIRMED_NAME, LISTING_ZONE, startMailZone, spkiSha256, TWO_MX_DOMAIN, type MailZone, type ZoneDomain } from '../helpers/mail-zone.js';
import { sourcePath } from '../helpers/paths.js';

/**
 * The DNS checks end to end: `smtpspec run --check NAME --target DOMAIN:PORT --dns-server …` against
 * a test zone with a domain that passes every check (good.test) and one that fails each (bad.test).
 */

const NEW_CHECKS = ['fcrdns', 'dane', 'mta-sts', 'tls-rpt', 'dnsbl'] as const;

let zone: MailZone;
before(async () => {
  zone = await startMailZone();
});
after(() => zone.close());

interface CheckRunResult {
  cli: CliResult;
  results: ResultsDocument;
}

/** `smtpspec run --check NAME… --target DOMAIN:PORT` on the zone's DNS server, trusting the test CA; the JSON results. */
async function runCheck(names: string | string[], domain: string, port: number, extra: string[] = []): Promise<CheckRunResult> {
  const checks = (Array.isArray(names) ? names : [names]).flatMap((name) => ['--check', name]);
  const cli = await smtpspec([
    'run',
    ...checks,
    '--target',
    `${domain}:${port}`,
    '--dns-server',
    `${zone.dns.host}:${zone.dns.port}`,
    '--ca',
    zone.caPath,
    '--var',
    `policy_port=${zone.policyPort}`,
    '--timeout',
    GENEROUS,
    '--reporter',
    'json',
    ...extra,
  ]);
  let results: ResultsDocument;
  try {
    results = JSON.parse(cli.stdout) as ResultsDocument;
  } catch {
    assert.fail(`no JSON results (exit ${cli.code}):\n${cli.stdout}\n${cli.stderr}`);
  }
  return { cli, results };
}

/** The cases of one check file, in the order of the report. */
function casesOf(results: ResultsDocument, check: string): CaseResult[] {
  return results.cases.filter((kase) => kase.file.endsWith(`${check}.yaml`));
}

/** The only case of a check that has a step of that check (`mta-sts`, `dane`…), and that step. */
function checkStep(results: ResultsDocument, file: string, check: string): { kase: CaseResult; step: StepResult } {
  const found = casesOf(results, file).flatMap((kase) => kase.steps.filter((step) => step.check?.check === check).map((step) => ({ kase, step })));
  assert.equal(found.length, 1, `one ${check} step in ${file}: ${JSON.stringify(results.cases.map((kase) => kase.caseName))}`);
  return found[0]!;
}

function summary(results: ResultsDocument): string {
  return JSON.stringify(results.cases.map((kase) => ({ file: kase.file, case: kase.caseName, status: kase.status, failure: kase.failure?.message })), null, 1);
}

describe('the mail zone the DNS check tests run against', () => {
  const dnsOf = (): DnsClient => new DnsClient({ server: { host: zone.dns.host, port: zone.dns.port }, timeoutMs: GENEROUS_MS });

  test('answers the MX, PTR, TXT and authenticated TLSA records of good.test', async () => {
    const dns = dnsOf();
    const mx = await dns.mx('good.test');
    assert.ok(mx.ok);
    assert.deepEqual(mx.records, [{ preference: 10, exchange: 'mx.good.test' }]);
    const ptr = await dns.ptr('127.0.0.1');
    assert.ok(ptr.ok);
    assert.deepEqual(ptr.records, [CONFIRMED_NAME]);
    const tlsa = await dns.tlsa(zone.good.tlsaName);
    assert.ok(tlsa.ok);
    assert.equal(tlsa.authenticated, true);
    assert.deepEqual(tlsa.records[0]?.data, spkiSha256(zone.good.certificate.cert));
    const rpt = await dns.txt('_smtp._tls.good.test');
    assert.ok(rpt.ok);
    assert.deepEqual(rpt.records, ['v=TLSRPTv1; rua=mailto:tls@good.test']);
    const none = await dns.txt('_smtp._tls.bad.test');
    assert.equal(none.ok ? 'found' : none.kind, 'nxdomain');
  });

  test('serves each MTA-STS policy over HTTPS with a certificate from the test CA', async () => {
    const ca = readFileSync(zone.caPath, 'utf8');
    const good = await fetchPolicy('mta-sts.good.test', '127.0.0.1', { ca, port: zone.policyPort, timeoutMs: GENEROUS_MS });
    assert.ok(good.ok, JSON.stringify(good));
    assert.match(good.body, /^mx: mx\.good\.test\r$/m);
    const untrusted = await fetchPolicy('mta-sts.good.test', '127.0.0.1', { port: zone.policyPort, timeoutMs: GENEROUS_MS });
    assert.equal(untrusted.ok ? 'fetched' : untrusted.error.kind, 'certificate');
  });

  test('the check functions pass good.test and fail bad.test, each for the reason the zone sets up', async () => {
    const dns = dnsOf();
    const ca = readFileSync(zone.caPath, 'utf8');
    const policy = { ca, port: zone.policyPort, timeoutMs: GENEROUS_MS };
    const goodSts = await mtaSts('good.test', dns, policy);
    assert.equal(goodSts.verdict, 'pass', goodSts.reasons.join('; '));
    assert.deepEqual(goodSts.facts.mx, [{ host: 'mx.good.test', pattern: 'mx.good.test' }]);
    const badSts = await mtaSts('bad.test', dns, policy);
    assert.equal(badSts.verdict, 'fail');
    assert.match(badSts.reasons.join('; '), /the MX host mx\.bad\.test matches no mx pattern/);
    const twoSts = await mtaSts(TWO_MX_DOMAIN, dns, policy);
    assert.equal(twoSts.verdict, 'pass', twoSts.reasons.join('; '));
    assert.equal(twoSts.facts.mx.length, 2);

    for (const [domain, verdict] of [
      [zone.good, 'pass'],
      [zone.bad, 'fail'],
    ] as const) {
      const session = await startTlsSession(domain);
      assert.match(session.greeting, new RegExp(`^${domain.mxHost.replaceAll('.', '\\.')} `));
      const confirmed = await fcrdns('127.0.0.1', session.greeting, dns);
      assert.equal(confirmed.verdict, verdict, confirmed.reasons.join('; '));
      const authenticated = await dane(domain.mxHost, domain.smtpPort, session.chain, dns);
      assert.equal(authenticated.verdict, verdict, authenticated.reasons.join('; '));
      if (verdict === 'pass') {
        assert.equal(confirmed.facts.matchedName, CONFIRMED_NAME);
        assert.equal(authenticated.facts.records[0]?.matchedDepth, 0);
      } else {
        assert.match(confirmed.reasons[0] ?? '', /greeting name mx\.bad\.test .*is none of the confirmed PTR names \(mx\.good\.test\)/);
        assert.match(authenticated.reasons[0] ?? '', /no usable TLSA record at _\d+\._tcp\.mx\.bad\.test matches/);
      }
    }
  });
});

/**
 * A STARTTLS session with a domain's SMTP server, the certificate verified for its MX name against the
 * test CA; the greeting's first line, and the certificate served (the harness's own, as its fingerprint shows).
 */
async function startTlsSession(domain: ZoneDomain): Promise<{ greeting: string; chain: X509Certificate[] }> {
  const conn = await connect({ host: '127.0.0.1', port: domain.smtpPort, timeoutMs: GENEROUS_MS });
  try {
    const greeting = await conn.readReply(GENEROUS_MS);
    assert.equal(greeting.code, 220);
    await conn.sendLine('EHLO client.test');
    assert.equal((await conn.readReply(GENEROUS_MS)).code, 250);
    await conn.sendLine('STARTTLS');
    assert.equal((await conn.readReply(GENEROUS_MS)).code, 220);
    const facts = await conn.startTls({ verify: true, ca: [zone.caPath], servername: domain.mxHost }, GENEROUS_MS);
    assert.equal(facts.verified, true);
    const served = new X509Certificate(domain.certificate.cert);
    assert.equal(facts.fingerprint256, served.fingerprint256);
    await conn.sendLine('QUIT');
    await conn.readReply(GENEROUS_MS);
    return { greeting: greeting.lines[0] ?? '', chain: [served] };
  } finally {
    await conn.close();
  }
}

describe('check mta-sts', () => {
  test('passes good.test together with dane and fcrdns: every case and every check step passes, with its facts', async () => {
    const { cli, results } = await runCheck(['mta-sts', 'dane', 'fcrdns'], 'good.test', zone.good.smtpPort);
    assert.equal(cli.code, 0, `${summary(results)}\n${cli.stderr}`);
    assert.ok(results.cases.length >= 4, summary(results));
    assert.ok(results.cases.every((kase) => kase.status === 'passed'), summary(results));
    assert.equal(results.counts.passed, results.counts.total);

    const sts = checkStep(results, 'mta-sts', 'mta-sts');
    assert.equal(sts.step.status, 'passed');
    assert.equal(sts.step.check?.verdict, 'pass');
    assert.ok(sts.step.check?.check === 'mta-sts');
    assert.equal(sts.step.check.facts.policy?.mode, 'enforce');
    assert.deepEqual(sts.step.check.facts.mx, [{ host: 'mx.good.test', pattern: 'mx.good.test' }]);

    const perMx = casesOf(results, 'mta-sts').filter((kase) => kase !== sts.kase);
    assert.equal(perMx.length, 1, summary(results));
    assert.equal(perMx[0]?.tls?.verified, true);
    assert.match(perMx[0]?.tls?.protocol ?? '', /^TLSv1\.[23]$/);

    const tlsa = checkStep(results, 'dane', 'dane');
    assert.equal(tlsa.step.status, 'passed');
    assert.ok(tlsa.step.check?.check === 'dane');
    assert.equal(tlsa.step.check.verdict, 'pass');
    assert.equal(tlsa.step.check.facts.authenticated, true);
    assert.equal(tlsa.step.check.facts.recordName, zone.good.tlsaName);
    assert.equal(tlsa.step.check.facts.records[0]?.matchedDepth, 0);

    const rdns = checkStep(results, 'fcrdns', 'fcrdns');
    assert.equal(rdns.step.status, 'passed');
    assert.ok(rdns.step.check?.check === 'fcrdns');
    assert.equal(rdns.step.check.verdict, 'pass');
    assert.equal(rdns.step.check.facts.address, '127.0.0.1');
    assert.deepEqual(rdns.step.check.facts.confirmedNames, [CONFIRMED_NAME]);
    assert.equal(rdns.step.check.facts.matchedName, CONFIRMED_NAME);
  });

  test('fails bad.test together with dane and fcrdns: each check case fails naming what is wrong, the rest pass', async () => {
    const { cli, results } = await runCheck(['mta-sts', 'dane', 'fcrdns'], 'bad.test', zone.bad.smtpPort);
    assert.equal(cli.code, 1, `${summary(results)}\n${cli.stderr}`);

    const sts = checkStep(results, 'mta-sts', 'mta-sts');
    assert.equal(sts.kase.status, 'failed');
    assert.equal(sts.step.status, 'failed');
    assert.equal(sts.step.check?.verdict, 'fail');
    assert.equal(sts.kase.failure?.kind, 'expectation');
    assert.match(sts.kase.failure?.message ?? '', /the MX host mx\.bad\.test matches no mx pattern of the policy \(mx\.elsewhere\.test\)/);
    // The MX host's own certificate is valid for its name: the per-MX case passes.
    const perMx = casesOf(results, 'mta-sts').filter((kase) => kase !== sts.kase);
    assert.deepEqual(
      perMx.map((kase) => kase.status),
      ['passed'],
      summary(results),
    );

    const tlsa = checkStep(results, 'dane', 'dane');
    assert.equal(tlsa.kase.status, 'failed');
    assert.equal(tlsa.step.check?.verdict, 'fail');
    assert.equal(tlsa.kase.failure?.kind, 'expectation');
    assert.match(tlsa.kase.failure?.message ?? '', new RegExp(`no usable TLSA record at ${zone.bad.tlsaName.replaceAll('.', '\\.')} matches the certificate chain`));
    assert.ok(tlsa.step.check?.check === 'dane');
    assert.equal(tlsa.step.check.facts.matched, false);

    const rdns = checkStep(results, 'fcrdns', 'fcrdns');
    assert.equal(rdns.kase.status, 'failed');
    assert.equal(rdns.step.check?.verdict, 'fail');
    assert.equal(rdns.kase.failure?.kind, 'expectation');
    assert.match(rdns.kase.failure?.message ?? '', /the greeting name mx\.bad\.test .*is none of the confirmed PTR names \(mx\.good\.test\)/);
  });

  test('the policy case opens no SMTP connection and runs once for the domain, not per MX host', async () => {
    const connectionsBefore = zone.good.connections();
    const fetchesBefore = zone.policyRequests.get(`mta-sts.${TWO_MX_DOMAIN}`) ?? 0;
    const { cli, results } = await runCheck('mta-sts', TWO_MX_DOMAIN, zone.good.smtpPort);
    assert.equal(cli.code, 0, `${summary(results)}\n${cli.stderr}`);
    const sts = checkStep(results, 'mta-sts', 'mta-sts');
    assert.equal(sts.kase.status, 'passed');
    assert.ok(sts.kase.target.kind === undefined || sts.kase.target.kind === 'tcp');
    assert.equal(sts.kase.target.host, TWO_MX_DOMAIN);
    assert.deepEqual(sts.kase.target.mx, { domain: TWO_MX_DOMAIN, wholeDomain: true });
    assert.equal(sts.kase.remoteAddress, undefined);
    assert.equal((zone.policyRequests.get(`mta-sts.${TWO_MX_DOMAIN}`) ?? 0) - fetchesBefore, 1, 'the policy is fetched once');
    // The per-MX case runs on each of the two MX hosts, one connection each; the policy case adds none.
    const perMx = casesOf(results, 'mta-sts').filter((kase) => kase !== sts.kase);
    assert.deepEqual(
      perMx.map((kase) => (kase.target.kind === undefined || kase.target.kind === 'tcp' ? kase.target.host : '?')).sort(),
      ['mx.good.test', 'mx2.good.test'],
    );
    assert.equal(zone.good.connections() - connectionsBefore, 2);
  });
});

describe('check dane', () => {
  test('runs on its own against each domain: pass for good.test, fail for bad.test', async () => {
    const good = await runCheck('dane', 'good.test', zone.good.smtpPort);
    assert.equal(good.cli.code, 0, summary(good.results));
    assert.equal(checkStep(good.results, 'dane', 'dane').step.check?.verdict, 'pass');
    const bad = await runCheck('dane', 'bad.test', zone.bad.smtpPort);
    assert.equal(bad.cli.code, 1, summary(bad.results));
    assert.equal(checkStep(bad.results, 'dane', 'dane').step.check?.verdict, 'fail');
  });
});

describe('check fcrdns', () => {
  test('runs on its own against each domain: pass for good.test, fail for bad.test', async () => {
    const good = await runCheck('fcrdns', 'good.test', zone.good.smtpPort);
    assert.equal(good.cli.code, 0, summary(good.results));
    assert.equal(checkStep(good.results, 'fcrdns', 'fcrdns').step.check?.verdict, 'pass');
    const bad = await runCheck('fcrdns', 'bad.test', zone.bad.smtpPort);
    assert.equal(bad.cli.code, 1, summary(bad.results));
    assert.equal(checkStep(bad.results, 'fcrdns', 'fcrdns').step.check?.verdict, 'fail');
  });
});

describe('check tls-rpt', () => {
  test('passes good.test with its reporting address, and opens no SMTP connection', async () => {
    const before = zone.good.connections();
    const { cli, results } = await runCheck('tls-rpt', 'good.test', zone.good.smtpPort);
    assert.equal(cli.code, 0, `${summary(results)}\n${cli.stderr}`);
    assert.equal(results.cases.length, 1);
    const rpt = checkStep(results, 'tls-rpt', 'tls-rpt');
    assert.equal(rpt.kase.status, 'passed');
    assert.ok(rpt.step.check?.check === 'tls-rpt');
    assert.equal(rpt.step.check.verdict, 'pass');
    assert.deepEqual(rpt.step.check.facts.rua, ['mailto:tls@good.test']);
    assert.equal(zone.good.connections(), before);
  });

  test('fails bad.test, which has no TLS-RPT record, saying so', async () => {
    const before = zone.bad.connections();
    const { cli, results } = await runCheck('tls-rpt', 'bad.test', zone.bad.smtpPort);
    assert.equal(cli.code, 1, `${summary(results)}\n${cli.stderr}`);
    const rpt = checkStep(results, 'tls-rpt', 'tls-rpt');
    assert.equal(rpt.kase.status, 'failed');
    assert.equal(rpt.step.check?.verdict, 'fail');
    assert.match(rpt.kase.failure?.message ?? '', /_smtp\._tls\.bad\.test has no TXT record/);
    assert.equal(zone.bad.connections(), before);
  });
});

describe('check dnsbl', () => {
  test('fails when a list lists the MX address, naming that list and not the other', async () => {
    const { cli, results } = await runCheck('dnsbl', 'good.test', zone.good.smtpPort, ['--var', `lists=${CLEAN_ZONE}, ${LISTING_ZONE}`]);
    assert.equal(cli.code, 1, `${summary(results)}\n${cli.stderr}`);
    const bl = checkStep(results, 'dnsbl', 'dnsbl');
    assert.equal(bl.kase.status, 'failed');
    assert.ok(bl.step.check?.check === 'dnsbl');
    assert.equal(bl.step.check.verdict, 'fail');
    assert.deepEqual(bl.step.check.facts.listedOn, [LISTING_ZONE]);
    assert.equal(bl.step.check.facts.address, '127.0.0.1');
    assert.match(bl.kase.failure?.message ?? '', new RegExp(`127\\.0\\.0\\.1 is listed on ${LISTING_ZONE.replaceAll('.', '\\.')} \\(127\\.0\\.0\\.2\\)`));
    // The reasons name the list that lists the address, not the one that does not (the step's label names both).
    const reasons = bl.step.check.reasons.join(' ');
    assert.match(reasons, new RegExp(LISTING_ZONE.replaceAll('.', '\\.')));
    assert.ok(!reasons.includes(CLEAN_ZONE), reasons);
  });

  test('passes when no list lists it', async () => {
    const { cli, results } = await runCheck('dnsbl', 'good.test', zone.good.smtpPort, ['--var', `lists=${CLEAN_ZONE}`]);
    assert.equal(cli.code, 0, `${summary(results)}\n${cli.stderr}`);
    const bl = checkStep(results, 'dnsbl', 'dnsbl');
    assert.equal(bl.kase.status, 'passed');
    assert.equal(bl.step.check?.verdict, 'pass');
  });
});

describe('smtpspec checks', () => {
  test('lists the DNS checks with their descriptions', async () => {
    const cli = await smtpspec(['checks']);
    assert.equal(cli.code, 0, cli.stderr);
    for (const name of NEW_CHECKS) {
      const text = readFileSync(sourcePath(`scenarios/checks/${name}.yaml`), 'utf8');
      const description = /^description: (.+)$/m.exec(text)?.[1];
      assert.ok(description, `${name}.yaml has a one-line description`);
      assert.ok(
        cli.stdout.split('\n').some((line) => line.startsWith(`${name} `) && line.endsWith(`  ${description}`)),
        `${name} is listed with "${description}":\n${cli.stdout}`,
      );
    }
  });
});
