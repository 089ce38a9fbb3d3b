import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ManifestTarget } from '../../src/manifest/manifest.js';
import { resolveTargetHosts } from '../../src/manifest/mx.js';
import { assertWaitedFor, GENEROUS_MS, PROMPTLY_MS } from '../helpers/deadlines.js';
import { startDnsResponder, type DnsResponder } from './dns-responder.js';

const ZONE = {
  'example.org': {
    mx: [
      [20, 'backup.example.org'],
      [10, 'mx-b.example.org'],
      [10, 'mx-a.example.org'],
    ] as [number, string][],
  },
  'mx-a.example.org': { a: ['192.0.2.1'] },
  'mx-b.example.org': { a: ['192.0.2.2'], aaaa: ['2001:db8::2'] },
  'backup.example.org': {},
  'twice.example': {
    mx: [
      [30, 'MX-A.example.org'],
      [10, 'mx-a.example.org'],
      [20, 'mx-b.example.org'],
    ] as [number, string][],
  },
  'implicit.example': { a: ['192.0.2.7'] },
  'v6only.example': { aaaa: ['2001:db8::25'] },
  'bare.example': {},
  'null.example': { mx: [[0, '.']] as [number, string][] },
};

function domainTarget(domain: string, mx: 'all' | 'primary' = 'all'): ManifestTarget {
  return { name: domain, pos: { file: 'm.yaml', line: 1, col: 1 }, tags: [], domain, port: 2525, mx, tls: {}, vars: {}, scenarios: [] };
}

describe('resolveTargetHosts against a DNS responder on loopback', () => {
  let dns: DnsResponder;
  let options: { dnsServer: { host: string; port: number }; timeoutMs: number };

  before(async () => {
    dns = await startDnsResponder(ZONE);
    options = { dnsServer: { host: dns.host, port: dns.port }, timeoutMs: GENEROUS_MS };
  });
  after(() => dns.close());

  test('all MX hosts, by preference and then by name, with the target port', async () => {
    assert.deepEqual(await resolveTargetHosts(domainTarget('example.org'), options), {
      hosts: [
        { host: 'mx-a.example.org', port: 2525, preference: 10, exchange: 'mx-a.example.org', addresses: ['192.0.2.1'] },
        { host: 'mx-b.example.org', port: 2525, preference: 10, exchange: 'mx-b.example.org', addresses: ['192.0.2.2', '2001:db8::2'] },
        {
          host: 'backup.example.org',
          port: 2525,
          preference: 20,
          exchange: 'backup.example.org',
          error: `cannot resolve host "backup.example.org": no A or AAAA record on DNS server 127.0.0.1:${dns.port}`,
        },
      ],
    });
  });

  test('without a configured DNS server, the hosts are left to the system resolver to look up when connecting', async () => {
    const target: ManifestTarget = { ...domainTarget('unused'), domain: undefined, host: 'mx9.example.org', port: 25 };
    assert.deepEqual(await resolveTargetHosts(target, { timeoutMs: GENEROUS_MS }), { hosts: [{ host: 'mx9.example.org', port: 25 }] });
  });

  test('a host named by two MX records is one server, at its most preferred record', async () => {
    assert.deepEqual(await resolveTargetHosts(domainTarget('twice.example'), options), {
      hosts: [
        { host: 'mx-a.example.org', port: 2525, preference: 10, exchange: 'mx-a.example.org', addresses: ['192.0.2.1'] },
        { host: 'mx-b.example.org', port: 2525, preference: 20, exchange: 'mx-b.example.org', addresses: ['192.0.2.2', '2001:db8::2'] },
      ],
    });
  });

  test('mx: primary keeps every host with the lowest preference', async () => {
    const resolution = await resolveTargetHosts(domainTarget('example.org', 'primary'), options);
    assert.ok('hosts' in resolution);
    assert.deepEqual(resolution.hosts.map((host) => host.host), ['mx-a.example.org', 'mx-b.example.org']);
  });

  test('no MX but an A record: the domain itself (implicit MX)', async () => {
    assert.deepEqual(await resolveTargetHosts(domainTarget('implicit.example'), options), {
      hosts: [{ host: 'implicit.example', port: 2525, implicit: true, addresses: ['192.0.2.7'] }],
    });
  });

  test('no MX but an AAAA record: the domain itself too', async () => {
    assert.deepEqual(await resolveTargetHosts(domainTarget('v6only.example'), options), {
      hosts: [{ host: 'v6only.example', port: 2525, implicit: true, addresses: ['2001:db8::25'] }],
    });
  });

  test('no MX and no address', async () => {
    assert.deepEqual(await resolveTargetHosts(domainTarget('bare.example'), options), {
      error: 'bare.example has no MX and no A/AAAA record',
    });
  });

  test('a domain that does not exist', async () => {
    assert.deepEqual(await resolveTargetHosts(domainTarget('nowhere.example'), options), {
      error: 'domain nowhere.example does not exist (NXDOMAIN)',
    });
  });

  test('a null MX (RFC 7505)', async () => {
    assert.deepEqual(await resolveTargetHosts(domainTarget('null.example'), options), {
      error: 'null.example does not accept mail (null MX, RFC 7505)',
    });
  });

  test('a host target is itself, its name looked up on the configured server; an IP address asks DNS nothing', async () => {
    const host = (name: string): ManifestTarget => ({ ...domainTarget('unused'), domain: undefined, host: name, port: 25 });
    assert.deepEqual(await resolveTargetHosts(host('mx-a.example.org'), options), { hosts: [{ host: 'mx-a.example.org', port: 25, addresses: ['192.0.2.1'] }] });
    assert.deepEqual(await resolveTargetHosts(host('mx9.example.org'), options), {
      hosts: [{ host: 'mx9.example.org', port: 25, error: `cannot resolve host "mx9.example.org": no such name (NXDOMAIN) on DNS server 127.0.0.1:${dns.port}` }],
    });
    const before = dns.queries.length;
    assert.deepEqual(await resolveTargetHosts(host('192.0.2.25'), options), { hosts: [{ host: '192.0.2.25', port: 25 }] });
    assert.equal(dns.queries.length, before);
  });

  test('the questions asked: MX first, then A and AAAA of each MX host, or of the domain when it has no MX', async () => {
    const before = dns.queries.length;
    await resolveTargetHosts(domainTarget('example.org', 'primary'), options);
    await resolveTargetHosts(domainTarget('implicit.example'), options);
    assert.deepEqual(dns.queries.slice(before).sort(), [
      'A implicit.example',
      'A mx-a.example.org',
      'A mx-b.example.org',
      'AAAA implicit.example',
      'AAAA mx-a.example.org',
      'AAAA mx-b.example.org',
      'MX example.org',
      'MX implicit.example',
    ]);
  });
});

describe('resolveTargetHosts with a DNS server that never answers', () => {
  let dns: DnsResponder;
  before(async () => {
    dns = await startDnsResponder(ZONE, { silent: true });
  });
  after(() => dns.close());

  test('fails within the deadline, naming the server', async () => {
    const started = performance.now();
    const resolution = await resolveTargetHosts(domainTarget('example.org'), {
      dnsServer: { host: dns.host, port: dns.port },
      timeoutMs: 300,
    });
    const elapsed = performance.now() - started;
    assert.deepEqual(resolution, { error: `no answer from DNS server 127.0.0.1:${dns.port} within 300 ms (looking up example.org)` });
    assertWaitedFor(elapsed, 300, 'the lookup');
    assert.ok(elapsed < PROMPTLY_MS, `took ${Math.round(elapsed)} ms`);
    assert.deepEqual(dns.queries, ['MX example.org'], 'one query, not tried again');
  });
});
