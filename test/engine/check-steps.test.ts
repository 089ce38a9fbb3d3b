import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ScenarioError, formatIssue } from '../../src/errors.js';
import { planWork } from '../../src/engine/plan.js';
import { runCase } from '../../src/engine/run-case.js';
import { runWork } from '../../src/engine/run.js';
import { formatTarget } from '../../src/engine/target-label.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { fakeServer, type FakeServer } from '../helpers/fake-server.js';
import { inline, why } from './fixtures/inline.js';

/** A server that greets with `greeting`, answers EHLO with its name and QUIT with 221. */
function greeter(greeting: string): Promise<FakeServer> {
  return fakeServer(async (session) => {
    await session.write(`${greeting}\r\n`);
    for (let line = await session.nextLine(); line !== undefined; line = await session.nextLine()) {
      if (/^EHLO/i.test(line)) await session.write(`250 ${greeting.split(' ')[1]}\r\n`);
      else if (/^QUIT/i.test(line)) {
        await session.write('221 bye\r\n');
        session.end();
        return;
      } else await session.write('500 what\r\n');
    }
  });
}

function refusal(yaml: string): string {
  try {
    inline(yaml);
  } catch (error) {
    assert.ok(error instanceof ScenarioError, `a scenario error, not ${String(error)}`);
    return error.issues.map(formatIssue).join('\n');
  }
  assert.fail('the scenario was accepted');
}

describe('DNS check steps in scenario files', () => {
  test('reply checks beside a check step, an address that is not one, a list that is not a zone and a domain that is an address are refused at their lines', () => {
    assert.match(refusal('cases:\n  - name: c\n    steps:\n      - fcrdns: true\n        expect: 250\n'), /inline\.yaml:5:9: a fcrdns step reads no reply from the SMTP server, so "expect" has nothing to check/);
    assert.match(refusal('cases:\n  - name: c\n    steps:\n      - dnsbl: { lists: [bl.example.test], address: mx.example.test }\n'), /inline\.yaml:4:\d+: address must be an IPv4 or IPv6 address, got "mx\.example\.test"/);
    assert.match(refusal('vars: { lists: "bl.example.test, 192.0.2.1" }\ncases:\n  - name: c\n    steps:\n      - dnsbl: { lists: "${lists}" }\n'), /a block list is a DNS zone such as zen\.spamhaus\.org, got "192\.0\.2\.1"/);
    assert.match(refusal('cases:\n  - name: c\n    steps:\n      - mta_sts: { domain: "192.0.2.1" }\n'), /domain must be a mail domain such as example\.com, got "192\.0\.2\.1"/);
    assert.match(refusal('cases:\n  - name: c\n    steps:\n      - tls_rpt: { domain: example.test, port: 25 }\n'), /inline\.yaml:4:\d+:.*port/);
  });

  test('the steps are read into their checks: lists from a variable, split and made unique; policy_port from a variable', () => {
    const scenario = inline(
      'mail_domain: true\nvars: { lists: "a.bl.test, b.bl.test a.bl.test", port: "8443" }\ncases:\n  - name: c\n    steps:\n      - dnsbl: { lists: "${lists}" }\n      - mta_sts: { policy_port: "${port}" }\n      - tls_rpt: true\n',
    );
    assert.equal(scenario.mailDomain, true);
    assert.deepEqual(
      scenario.cases[0]!.steps.map((step) => step.action),
      [
        { type: 'dns', spec: { check: 'dnsbl', lists: ['a.bl.test', 'b.bl.test'] } },
        { type: 'dns', spec: { check: 'mta-sts', policyPort: 8443 } },
        { type: 'dns', spec: { check: 'tls-rpt' } },
      ],
    );
  });
});

describe('DNS check steps, run', () => {
  let dns: TestDnsServer;
  let good: FakeServer;
  let stranger: FakeServer;
  before(async () => {
    dns = await startDnsServer({
      'example.test': { mx: [[10, 'mx1.example.test'], [20, 'mx2.example.test']] },
      'mx1.example.test': { a: ['127.0.0.1'] },
      'mx2.example.test': { a: ['127.0.0.1'] },
      '1.0.0.127.in-addr.arpa': { ptr: ['mx1.example.test'] },
      '_smtp._tls.example.test': { txt: ['v=TLSRPTv1; rua=mailto:tls-reports@example.test'] },
      '_smtp._tls.slow.test': { silent: true },
    });
    good = await greeter('220 mx1.example.test ESMTP ready');
    stranger = await greeter('220 localhost ESMTP ready');
  });
  after(async () => {
    await Promise.all([dns.close(), good.close(), stranger.close()]);
  });
  const dnsServer = () => ({ host: dns.host, port: dns.port });

  test('a case of DNS steps alone opens no SMTP session, and its check is in the step result', async () => {
    const before = good.connectionCount;
    const scenario = inline('cases:\n  - name: reports\n    steps:\n      - tls_rpt: { domain: example.test }\n');
    const result = await runCase(scenario, scenario.cases[0]!, { host: good.host, port: good.port }, { dnsServer: dnsServer() });
    assert.equal(result.status, 'passed', why(result));
    assert.equal(result.steps[0]!.check?.check, 'tls-rpt');
    assert.equal(result.steps[0]!.check?.verdict, 'pass');
    assert.deepEqual(result.steps[0]!.check?.check === 'tls-rpt' && result.steps[0]!.check.facts.rua, ['mailto:tls-reports@example.test']);
    assert.equal(good.connectionCount, before, 'no connection was made');
    assert.ok(result.transcript.some((entry) => entry.text.includes('check tls-rpt: pass')), 'the transcript says what the check found');
  });

  test('a domain from a secret variable is masked in the check result, its reasons and the transcript', async () => {
    const scenario = inline('vars: { hidden: example.test }\nsecrets: [hidden]\ncases:\n  - name: reports\n    steps:\n      - tls_rpt: { domain: "${hidden}" }\n');
    const result = await runCase(scenario, scenario.cases[0]!, { host: good.host, port: good.port }, { dnsServer: dnsServer() });
    assert.equal(result.status, 'passed', why(result));
    const check = result.steps[0]!.check;
    assert.ok(check?.check === 'tls-rpt');
    assert.equal(check.facts.rua.length, 1, 'the record was found under the secret name');
    const shown = JSON.stringify({ step: result.steps[0], transcript: result.transcript });
    assert.ok(!shown.includes('example.test'), shown);
    assert.match(check.facts.recordName, /^_smtp\._tls\.\*+$/);
  });

  test('fcrdns passes when the greeting names the confirmed PTR name, and fails (naming both) when it does not', async () => {
    const yaml = 'cases:\n  - name: fcrdns\n    steps:\n      - expect: 220\n      - send: EHLO client.test\n        expect: 250\n      - fcrdns: true\n      - send: QUIT\n        expect: 221\n';
    const scenario = inline(yaml);
    const passed = await runCase(scenario, scenario.cases[0]!, { host: good.host, port: good.port }, { dnsServer: dnsServer() });
    assert.equal(passed.status, 'passed', why(passed));
    const check = passed.steps[2]!.check;
    assert.ok(check?.check === 'fcrdns');
    assert.deepEqual(check.facts.confirmedNames, ['mx1.example.test']);
    assert.equal(check.facts.matchedName, 'mx1.example.test');

    const failed = await runCase(scenario, scenario.cases[0]!, { host: stranger.host, port: stranger.port }, { dnsServer: dnsServer() });
    assert.equal(failed.status, 'failed');
    assert.equal(failed.failure?.kind, 'expectation');
    assert.match(failed.failure?.message ?? '', /step 3 \(fcrdns\): the greeting name localhost is none of the confirmed PTR names \(mx1\.example\.test\)/);
    assert.equal(failed.steps[3]!.status, 'skipped');
  });

  test('a check whose resolver does not answer ends the step as an error of kind check, within the step timeout', async () => {
    const scenario = inline('cases:\n  - name: slow\n    steps:\n      - tls_rpt: { domain: slow.test }\n        timeout: 1s\n');
    const result = await runCase(scenario, scenario.cases[0]!, { host: good.host, port: good.port }, { dnsServer: dnsServer() });
    assert.equal(result.status, 'error', why(result));
    assert.equal(result.failure?.kind, 'check');
    assert.equal(result.steps[0]!.check?.verdict, 'error');
    assert.match(result.failure?.message ?? '', /tls-rpt/);
  });

  test('--target DOMAIN with a mail_domain scenario: the session cases run on each MX host, the DNS-only case once on the domain', async () => {
    const before = good.connectionCount;
    const text = 'mail_domain: true\ncases:\n  - name: record\n    steps:\n      - tls_rpt: true\n  - name: session\n    steps:\n      - expect: 220\n      - send: QUIT\n        expect: 221\n';
    const plan = await planWork({ paths: [], sources: [{ text, file: 'domain.yaml' }], targets: [`example.test:${good.port}`], dnsServer: dnsServer(), env: {} });
    assert.deepEqual(
      plan.items.map((item) => `${item.kase.name} @ ${formatTarget(item.target)}`),
      ['record @ mail domain example.test', `session @ example.test MX mx1.example.test (mx1.example.test:${good.port})`, `session @ example.test MX mx2.example.test (mx2.example.test:${good.port})`],
    );
    assert.ok(plan.items.every((item) => item.dnsServer?.port === dns.port), 'every item asks the run\'s DNS server');
    const run = await runWork(plan.items, {});
    await plan.close();
    assert.deepEqual(run.cases.map((result) => result.status), ['passed', 'passed', 'passed'], run.cases.map(why).join('; '));
    assert.equal(good.connectionCount - before, 2, 'one session per MX host, none for the record');
  });
});

describe('DNS checks in a plan that is only shown', () => {
  test('--dry-run looks nothing up: the DNS-only case opens no session, the others connect to each MX host, resolved at run time', async () => {
    const { main } = await import('../../src/cli.js');
    const { capture } = await import('../helpers/capture.js');
    const c = capture({ NO_COLOR: '1' });
    const code = await main(['run', '--check', 'mta-sts', '--target', 'example.invalid', '--dns-server', '127.0.0.1:9', '--dry-run'], c.io);
    const out = c.stdout();
    assert.equal(code, 0, out + c.stderr());
    assert.match(out, /› the MTA-STS record and policy are published[^\n]*\n  \* no SMTP session: every step asks DNS, for mail domain example\.invalid\n  \* check mta-sts +an MTA-STS record and policy that every MX host matches\n/);
    assert.match(out, /› the MX host offers STARTTLS[^\n]*\n  \* connect to MX of example\.invalid \(resolved at run time\)\n/);
    assert.match(out, /\* TLS handshake, certificate verified/, 'the name checked is the MX host\'s, known only at run time');
  });
});

