import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsClient } from '../../src/dns/resolver.js';
import { tlsRpt } from '../../src/dns/checks/tls-rpt.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';

describe('tlsRpt', () => {
  let server: TestDnsServer;
  let dns: DnsClient;
  before(async () => {
    server = await startDnsServer({
      '_smtp._tls.good.test': { txt: ['v=spf1 -all', ['v=TLSRPTv1; ', 'rua=mailto:tls@good.test, https://reports.good.test/tlsrpt']] },
      '_smtp._tls.norua.test': { txt: ['v=TLSRPTv1; ruf=mailto:x@norua.test'] },
      '_smtp._tls.badscheme.test': { txt: ['v=TLSRPTv1;rua=ftp://reports.badscheme.test/'] },
      '_smtp._tls.twice.test': { txt: ['v=TLSRPTv1; rua=mailto:a@twice.test', 'v=TLSRPTv1; rua=mailto:b@twice.test'] },
      '_smtp._tls.version.test': { txt: ['v=TLSRPTv10; rua=mailto:a@version.test'] },
      '_smtp._tls.broken.test': { rcode: 'SERVFAIL' },
    });
    dns = new DnsClient({ server: { host: server.host, port: server.port }, timeoutMs: 10_000 });
  });
  after(() => server.close());

  test('passes a well-formed record split across character-strings, beside other TXT records', async () => {
    const result = await tlsRpt('good.test', dns);
    assert.equal(result.verdict, 'pass', result.reasons.join('; '));
    assert.deepEqual(result.facts.rua, ['mailto:tls@good.test', 'https://reports.good.test/tlsrpt']);
  });

  test('fails a missing record, a missing rua, a wrong scheme, two records and another version', async () => {
    for (const [domain, pattern] of [
      ['missing.test', /no TXT record \(nxdomain\)/],
      ['norua.test', /0 rua fields/],
      ['badscheme.test', /neither mailto: nor https:/],
      ['twice.test', /2 records/],
      ['version.test', /0 records/],
    ] as const) {
      const result = await tlsRpt(domain, dns);
      assert.equal(result.verdict, 'fail', domain);
      assert.match(result.reasons.join('; '), pattern, domain);
    }
  });

  test('a resolver failure is an error', async () => {
    const result = await tlsRpt('broken.test', dns);
    assert.equal(result.verdict, 'error');
    assert.equal(result.error?.kind, 'servfail');
  });
});
