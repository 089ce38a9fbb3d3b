import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsClient } from '../../src/dns/resolver.js';
import { reverseName } from '../../src/dns/reverse.js';
import { fcrdns } from '../../src/dns/checks/fcrdns.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';

describe('fcrdns', () => {
  let server: TestDnsServer;
  let dns: DnsClient;
  before(async () => {
    server = await startDnsServer({
      // Confirmed: PTR → mx.good.test → back to 192.0.2.1.
      '1.2.0.192.in-addr.arpa': { ptr: ['mx.good.test.'] },
      'mx.good.test': { a: ['192.0.2.1'] },
      // Not confirmed: the PTR name points elsewhere.
      '2.2.0.192.in-addr.arpa': { ptr: ['mx.elsewhere.test'] },
      'mx.elsewhere.test': { a: ['192.0.2.99'] },
      // No PTR: 192.0.2.3 has no entry.
      '4.2.0.192.in-addr.arpa': { rcode: 'SERVFAIL' },
      [reverseName('2001:db8::25') as string]: { ptr: ['mx6.good.test'] },
      'mx6.good.test': { aaaa: ['2001:db8:0:0::25'] },
    });
    dns = new DnsClient({ server: { host: server.host, port: server.port }, timeoutMs: 10_000 });
  });
  after(() => server.close());

  test('passes when the PTR name resolves back and the greeting names it', async () => {
    const result = await fcrdns('192.0.2.1', 'MX.good.test ESMTP ready', dns);
    assert.equal(result.verdict, 'pass', result.reasons.join('; '));
    assert.deepEqual(result.facts.confirmedNames, ['mx.good.test']);
    assert.equal(result.facts.matchedName, 'mx.good.test');
  });

  test('passes for IPv6 through AAAA, whatever the spelling of the address', async () => {
    const result = await fcrdns('2001:db8::25', 'mx6.good.test', dns);
    assert.equal(result.verdict, 'pass', result.reasons.join('; '));
  });

  test('fails when the greeting names another host', async () => {
    const result = await fcrdns('192.0.2.1', 'other.good.test', dns);
    assert.equal(result.verdict, 'fail');
    assert.match(result.reasons[0] ?? '', /other\.good\.test/);
  });

  test('fails when the PTR name does not resolve back', async () => {
    const result = await fcrdns('192.0.2.2', undefined, dns);
    assert.equal(result.verdict, 'fail');
    assert.deepEqual(result.facts.forward, [{ name: 'mx.elsewhere.test', addresses: ['192.0.2.99'] }]);
  });

  test('fails without a PTR record; a resolver failure is an error with its kind', async () => {
    const missing = await fcrdns('192.0.2.3', undefined, dns);
    assert.equal(missing.verdict, 'fail');
    assert.deepEqual(missing.facts.ptrNames, []);
    const broken = await fcrdns('192.0.2.4', undefined, dns);
    assert.equal(broken.verdict, 'error');
    assert.deepEqual(broken.error && { phase: broken.error.phase, kind: broken.error.kind }, { phase: 'ptr', kind: 'servfail' });
  });
});
