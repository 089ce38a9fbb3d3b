import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsClient } from '../../src/dns/resolver.js';
import { dnsbl } from '../../src/dns/checks/dnsbl.js';
import { reversedLabels } from '../../src/dns/reverse.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';

describe('dnsbl', () => {
  let server: TestDnsServer;
  let dns: DnsClient;
  const v6 = reversedLabels('2001:db8::66') as string;
  before(async () => {
    server = await startDnsServer({
      '2.0.0.127.bl.test': { a: ['127.0.0.2'], txt: ['listed for spam, see https://bl.test/'] },
      '9.2.0.192.bl.test': { a: ['127.0.0.4'], txt: ['open relay'] },
      '9.2.0.192.refusing.test': { a: ['127.255.255.254'] },
      '9.2.0.192.hijacked.test': { a: ['198.51.100.1'] },
      [`${v6}.bl.test`]: { a: ['127.0.0.3'] },
      'bl.test': {},
      'clean.test': {},
    });
    dns = new DnsClient({ server: { host: server.host, port: server.port }, timeoutMs: 10_000 });
  });
  after(() => server.close());

  test('passes an address no list names, asking each list with reversed octets', async () => {
    const result = await dnsbl('192.0.2.1', ['bl.test', 'clean.test'], dns);
    assert.equal(result.verdict, 'pass', result.reasons.join('; '));
    assert.deepEqual(result.facts.lists.map((entry) => [entry.query, entry.status]), [
      ['1.2.0.192.bl.test', 'not-listed'],
      ['1.2.0.192.clean.test', 'not-listed'],
    ]);
  });

  test('fails a listed address, naming the list and its TXT reason', async () => {
    const result = await dnsbl('192.0.2.9', ['clean.test', 'bl.test'], dns);
    assert.equal(result.verdict, 'fail');
    assert.deepEqual(result.facts.listedOn, ['bl.test']);
    assert.match(result.reasons[0] ?? '', /listed on bl\.test \(127\.0\.0\.4\): open relay/);
  });

  test('looks IPv6 addresses up by nibbles', async () => {
    const result = await dnsbl('2001:db8::66', ['bl.test'], dns);
    assert.equal(result.verdict, 'fail');
    assert.equal(result.facts.lists[0]?.query, `${v6}.bl.test`);
  });

  test("a list's refusal code or an answer outside 127/8 is an error, not a listing", async () => {
    const result = await dnsbl('192.0.2.9', ['refusing.test', 'hijacked.test'], dns);
    assert.equal(result.verdict, 'error');
    assert.deepEqual(result.facts.listedOn, []);
    assert.deepEqual(result.facts.lists.map((entry) => entry.status), ['error', 'error']);
  });

  test('a listing outweighs another list that could not be asked', async () => {
    const result = await dnsbl('192.0.2.9', ['refusing.test', 'bl.test'], dns);
    assert.equal(result.verdict, 'fail');
  });
});
