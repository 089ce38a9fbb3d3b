import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { DnsClient } from '../../src/dns/resolver.js';
import { mtaSts } from '../../src/dns/checks/mta-sts.js';
import { mxMatches, parsePolicy } from '../../src/dns/checks/mta-sts-policy.js';
import { testCertificates } from '../helpers/certs.js';
import { startDnsServer, type TestDnsServer, type ZoneEntry } from '../helpers/dns-server.js';

const DAY_MS = 86_400_000;
const POLICY = (mode: string, ...mx: string[]): string => ['version: STSv1', `mode: ${mode}`, ...mx.map((pattern) => `mx: ${pattern}`), 'max_age: 604800', ''].join('\r\n');

/** What the policy host of each domain serves: status, headers and body. */
const SITES: Record<string, { status?: number; headers?: Record<string, string>; body: string }> = {
  'good.test': { body: POLICY('enforce', 'mx1.good.test', '*.mail.good.test') },
  'unmatched.test': { body: POLICY('enforce', '*.unmatched.test') },
  'testing.test': { body: POLICY('testing', 'mx.testing.test').replace('604800', '3600') },
  'redirect.test': { status: 301, headers: { location: 'https://elsewhere.test/.well-known/mta-sts.txt' }, body: '' },
  'big.test': { body: `${POLICY('enforce', 'mx.big.test')}${'x'.repeat(70 * 1024)}` },
  'malformed.test': { body: POLICY('strict', 'mx.malformed.test') },
  'badcert.test': { body: POLICY('enforce', 'mx.badcert.test') },
};
/** The names the policy server's certificate is valid for: every policy host but mta-sts.badcert.test. */
const CERT_NAMES = Object.keys(SITES).filter((domain) => domain !== 'badcert.test').map((domain) => `mta-sts.${domain}`);

describe('mtaSts', () => {
  let dnsServer: TestDnsServer;
  let https: Server;
  let port: number;
  let ca: string;
  let dns: DnsClient;

  before(async () => {
    const certificates = await testCertificates();
    ca = certificates.ca.cert;
    const now = Date.now();
    const site = await generate([{ name: 'commonName', value: 'mta-sts.good.test' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      ca: { key: certificates.ca.key, cert: certificates.ca.cert },
      notBeforeDate: new Date(now - DAY_MS),
      notAfterDate: new Date(now + 30 * DAY_MS),
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: CERT_NAMES.map((value) => ({ type: 2, value })) },
      ],
    });
    https = createServer({ key: site.private, cert: site.cert }, (request, response) => {
      const domain = (request.headers.host ?? '').replace(/^mta-sts\./, '').replace(/:\d+$/, '');
      const found = SITES[domain];
      if (!found || request.url !== '/.well-known/mta-sts.txt') {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(found.status ?? 200, { 'content-type': 'text/plain', ...found.headers }).end(found.body);
    });
    https.listen(0, '127.0.0.1');
    await once(https, 'listening');
    port = (https.address() as AddressInfo).port;

    const zone: Record<string, ZoneEntry> = {
      '_mta-sts.good.test': { txt: ['v=STSv1; id=20260101T000000'] },
      'good.test': { mx: [[10, 'mx1.good.test'], [20, 'a.mail.good.test']] },
      '_mta-sts.unmatched.test': { txt: ['v=STSv1; id=1'] },
      'unmatched.test': { mx: [[10, 'mx.unmatched.test'], [20, 'deep.mx.unmatched.test']] },
      '_mta-sts.testing.test': { txt: ['v=STSv1; id=1'] },
      'testing.test': { mx: [[10, 'mx.testing.test']] },
      '_mta-sts.noid.test': { txt: ['v=STSv1; version=2'] },
      '_mta-sts.broken.test': { rcode: 'SERVFAIL' },
    };
    for (const domain of Object.keys(SITES)) {
      zone[`_mta-sts.${domain}`] ??= { txt: ['v=STSv1; id=1'] };
      zone[domain] ??= { mx: [[10, `mx.${domain}`]] };
      zone[`mta-sts.${domain}`] = { a: ['127.0.0.1'] };
    }
    dnsServer = await startDnsServer(zone);
    dns = new DnsClient({ server: { host: dnsServer.host, port: dnsServer.port }, timeoutMs: 10_000 });
  });
  after(async () => {
    https.closeAllConnections();
    await Promise.all([dnsServer.close(), new Promise<void>((done) => https.close(() => done()))]);
  });

  const options = (): { ca: string; port: number; timeoutMs: number } => ({ ca, port, timeoutMs: 10_000 });

  test('passes: record, policy over verified HTTPS, every MX matched (a wildcard for one label)', async () => {
    const result = await mtaSts('good.test', dns, options());
    assert.equal(result.verdict, 'pass', result.reasons.join('; '));
    assert.equal(result.facts.id, '20260101T000000');
    assert.deepEqual(result.facts.policy, { version: 'STSv1', mode: 'enforce', maxAgeSeconds: 604800, mx: ['mx1.good.test', '*.mail.good.test'] });
    assert.deepEqual(result.facts.mx, [
      { host: 'mx1.good.test', pattern: 'mx1.good.test' },
      { host: 'a.mail.good.test', pattern: '*.mail.good.test' },
    ]);
    assert.ok(dnsServer.queries.some((query) => query.type === 'A' && query.name === 'mta-sts.good.test'), 'the policy host is resolved through the configured server');
  });

  test('fails an MX that no pattern matches (a wildcard stands for one label only)', async () => {
    const result = await mtaSts('unmatched.test', dns, options());
    assert.equal(result.verdict, 'fail');
    assert.deepEqual(result.facts.mx, [{ host: 'mx.unmatched.test', pattern: '*.unmatched.test' }, { host: 'deep.mx.unmatched.test' }]);
  });

  test('warns on a max_age under a day, testing mode itself being fine', async () => {
    const result = await mtaSts('testing.test', dns, options());
    assert.equal(result.verdict, 'warn');
    assert.match(result.reasons.join('; '), /max_age is 3600 seconds/);
  });

  test('fails without a record, with a record without id, and a resolver failure is an error', async () => {
    assert.equal((await mtaSts('missing.test', dns, options())).verdict, 'fail');
    const noid = await mtaSts('noid.test', dns, options());
    assert.equal(noid.verdict, 'fail');
    assert.match(noid.reasons[0] ?? '', /exactly one id/);
    const broken = await mtaSts('broken.test', dns, options());
    assert.equal(broken.verdict, 'error');
    assert.deepEqual(broken.error && [broken.error.phase, broken.error.kind], ['txt', 'servfail']);
  });

  test('fails a certificate that does not name the policy host, or that no trusted CA signed', async () => {
    const badName = await mtaSts('badcert.test', dns, options());
    assert.equal(badName.verdict, 'fail');
    assert.match(badName.reasons[0] ?? '', /TLS handshake with mta-sts\.badcert\.test/);
    const untrusted = await mtaSts('good.test', dns, { port, timeoutMs: 10_000 });
    assert.equal(untrusted.verdict, 'fail');
    assert.match(untrusted.reasons[0] ?? '', /certificate/);
  });

  test('fails a redirect (never followed), a policy over 64 KiB and a malformed policy', async () => {
    const redirect = await mtaSts('redirect.test', dns, options());
    assert.equal(redirect.verdict, 'fail');
    assert.match(redirect.reasons[0] ?? '', /301, a redirect/);
    const big = await mtaSts('big.test', dns, options());
    assert.equal(big.verdict, 'fail');
    assert.match(big.reasons[0] ?? '', /65536-byte limit/);
    const malformed = await mtaSts('malformed.test', dns, options());
    assert.equal(malformed.verdict, 'fail');
    assert.match(malformed.reasons.join('; '), /mode is "strict"/);
  });
});

test('mx patterns: exact names without case or trailing dot, a wildcard for exactly one label', () => {
  assert.equal(mxMatches('MX1.Example.test.', 'mx1.example.test'), true);
  assert.equal(mxMatches('a.example.test', '*.example.test'), true);
  assert.equal(mxMatches('a.b.example.test', '*.example.test'), false);
  assert.equal(mxMatches('example.test', '*.example.test'), false);
  assert.equal(mxMatches('mx2.example.test', 'mx1.example.test'), false);
});

test('policy parsing names what is missing or wrong', () => {
  const parsed = parsePolicy('version: STSv1\nmode: enforce\nmax_age: 99999999999\n');
  assert.equal(parsed.ok, false);
  assert.deepEqual(parsed.ok ? [] : parsed.problems, ['max_age is "99999999999", not a whole number of seconds up to 31557600', 'the policy has no mx pattern']);
  const none = parsePolicy('version: STSv1\nmode: none\nmax_age: 86400\n');
  assert.equal(none.ok, true);
});
