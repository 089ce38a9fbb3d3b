import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { DnsClient } from '../../src/dns/resolver.js';
import { dane } from '../../src/dns/checks/dane.js';
import { testCertificates } from '../helpers/certs.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';

const sha = (algorithm: string, bytes: Buffer): Buffer => createHash(algorithm).update(bytes).digest();
const spki = (certificate: X509Certificate): Buffer => certificate.publicKey.export({ type: 'spki', format: 'der' });

describe('dane', () => {
  let server: TestDnsServer;
  let dns: DnsClient;
  let leaf: X509Certificate;
  let ca: X509Certificate;
  let selfSigned: X509Certificate;

  before(async () => {
    const certificates = await testCertificates();
    leaf = new X509Certificate(certificates.server.cert);
    ca = new X509Certificate(certificates.ca.cert);
    selfSigned = new X509Certificate(certificates.selfSigned.cert);
    const ee = { usage: 3, selector: 1, matchingType: 1, data: sha('sha256', spki(leaf)) };
    const ta = { usage: 2, selector: 0, matchingType: 1, data: sha('sha256', ca.raw) };
    server = await startDnsServer(
      {
        '_25._tcp.ee.test': { tlsa: [ee] },
        '_25._tcp.ee512.test': { tlsa: [{ usage: 3, selector: 0, matchingType: 2, data: sha('sha512', leaf.raw) }] },
        '_25._tcp.localhost': { tlsa: [ta] },
        '_25._tcp.ta-other-name.test': { tlsa: [ta] },
        '_25._tcp.other-key.test': { tlsa: [{ usage: 3, selector: 1, matchingType: 1, data: sha('sha256', spki(selfSigned)) }] },
        '_25._tcp.insecure.test': { tlsa: [ee], authenticated: false },
        '_25._tcp.pkix.test': { tlsa: [{ ...ee, usage: 1 }] },
        '_25._tcp.broken.test': { rcode: 'SERVFAIL' },
      },
      { authenticated: true },
    );
    dns = new DnsClient({ server: { host: server.host, port: server.port }, timeoutMs: 10_000 });
  });
  after(() => server.close());

  test('DANE-EE (SPKI, SHA-256) passes on an authenticated answer, the chain given as DER', async () => {
    const result = await dane('ee.test', 25, [leaf.raw, ca.raw], dns);
    assert.equal(result.verdict, 'pass', result.reasons.join('; '));
    assert.equal(result.facts.authenticated, true);
    assert.equal(result.facts.records[0]?.matchedDepth, 0);
  });

  test('DANE-EE (full certificate, SHA-512) passes, the chain given as X509Certificate', async () => {
    const result = await dane('ee512.test', 25, [leaf], dns);
    assert.equal(result.verdict, 'pass', result.reasons.join('; '));
  });

  test('DANE-TA passes when the chain reaches the TA certificate and the server certificate names the host', async () => {
    const result = await dane('localhost', 25, [{ raw: leaf.raw }, { raw: ca.raw }], dns);
    assert.equal(result.verdict, 'pass', result.reasons.join('; '));
    assert.equal(result.facts.records[0]?.matchedDepth, 1);
  });

  test('DANE-TA fails for a host the certificate does not name, a chain without the TA, or a broken chain', async () => {
    const otherName = await dane('ta-other-name.test', 25, [leaf, ca], dns);
    assert.equal(otherName.verdict, 'fail');
    assert.match(otherName.reasons.join('; '), /does not name ta-other-name\.test/);
    const withoutTa = await dane('localhost', 25, [leaf], dns);
    assert.equal(withoutTa.verdict, 'fail');
    const broken = await dane('localhost', 25, [selfSigned, ca], dns);
    assert.equal(broken.verdict, 'fail');
    assert.match(broken.reasons.join('; '), /not signed by the one above it/);
  });

  test('fails when no record matches the presented certificate', async () => {
    const result = await dane('other-key.test', 25, [leaf, ca], dns);
    assert.equal(result.verdict, 'fail');
    assert.equal(result.facts.matched, false);
  });

  test('a match from an answer without the AD flag is a fail that says so', async () => {
    const result = await dane('insecure.test', 25, [leaf], dns);
    assert.equal(result.verdict, 'fail');
    assert.equal(result.facts.matched, true);
    assert.equal(result.facts.authenticated, false);
    assert.match(result.reasons[0] ?? '', /not DNSSEC-authenticated/);
  });

  test('PKIX usages are unusable for SMTP; no TLSA is a fail; a resolver failure is an error', async () => {
    const pkix = await dane('pkix.test', 25, [leaf], dns);
    assert.equal(pkix.verdict, 'fail');
    assert.equal(pkix.facts.records[0]?.usable, false);
    const none = await dane('none.test', 25, [leaf], dns);
    assert.equal(none.verdict, 'fail');
    assert.match(none.reasons[0] ?? '', /_25\._tcp\.none\.test has no TLSA record \(nxdomain, authenticated denial\)/);
    const broken = await dane('broken.test', 25, [leaf], dns);
    assert.equal(broken.verdict, 'error');
    assert.equal(broken.error?.kind, 'servfail');
  });
});
