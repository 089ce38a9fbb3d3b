import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { DnsClient } from '../../src/dns/resolver.js';
import { canonicalAddress, reverseName, reversedLabels } from '../../src/dns/reverse.js';
import type { DnsResult } from '../../src/dns/types.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';

const TIMEOUT_MS = 10_000;

function records<T>(result: DnsResult<T>): T[] {
  assert.ok(result.ok, `expected records, got ${result.ok ? '' : `${result.kind}: ${result.message}`}`);
  return result.records;
}

function failureKind<T>(result: DnsResult<T>): string {
  assert.equal(result.ok, false, `expected a failure, got records ${JSON.stringify(result.ok ? result.records : [])}`);
  return result.ok ? '' : result.kind;
}

describe('DnsClient against a test DNS server', () => {
  let server: TestDnsServer;
  let dns: DnsClient;
  before(async () => {
    server = await startDnsServer({
      'example.test': { mx: [[10, 'mx1.example.test'], [20, 'mx2.example.test']], txt: ['v=spf1 -all', ['v=STSv1; ', 'id=abc']] },
      'mx1.example.test': { a: ['192.0.2.10'], aaaa: ['2001:db8::10'] },
      '10.2.0.192.in-addr.arpa': { ptr: ['mx1.example.test'] },
      [reverseName('2001:db8::10') as string]: { ptr: ['mx1.example.test'] },
      '_25._tcp.mx1.example.test': { tlsa: [{ usage: 3, selector: 1, matchingType: 1, data: Buffer.alloc(32, 7) }], authenticated: true },
      'signed.example.test': { a: ['192.0.2.20'], authenticated: true },
      'big.example.test': { txt: ['x'.repeat(200), 'y'.repeat(200)], truncate: true },
      'broken.example.test': { rcode: 'SERVFAIL' },
      'closed.example.test': { rcode: 'REFUSED' },
      'garbage.example.test': { garbage: true },
      'slow.example.test': { silent: true },
    });
    dns = new DnsClient({ server: { host: server.host, port: server.port }, timeoutMs: TIMEOUT_MS });
  });
  after(() => server.close());

  test('reads MX, A, AAAA, PTR, TXT and TLSA records', async () => {
    assert.deepEqual(records(await dns.mx('example.test')), [
      { preference: 10, exchange: 'mx1.example.test' },
      { preference: 20, exchange: 'mx2.example.test' },
    ]);
    assert.deepEqual(records(await dns.a('mx1.example.test')), ['192.0.2.10']);
    assert.deepEqual(records(await dns.aaaa('mx1.example.test')), ['2001:db8::10']);
    assert.deepEqual(records(await dns.ptr('192.0.2.10')), ['mx1.example.test']);
    assert.deepEqual(records(await dns.ptr('2001:db8::10')), ['mx1.example.test']);
    assert.deepEqual(records(await dns.txt('example.test')), ['v=spf1 -all', 'v=STSv1; id=abc']);
    assert.deepEqual(records(await dns.tlsa('_25._tcp.mx1.example.test')), [{ usage: 3, selector: 1, matchingType: 1, data: Buffer.alloc(32, 7) }]);
  });

  test('reports the AD flag of each answer and asks with EDNS0 and the DO bit', async () => {
    const signed = await dns.a('signed.example.test');
    const unsigned = await dns.a('mx1.example.test');
    assert.equal(signed.authenticated, true);
    assert.equal(unsigned.authenticated, false);
    const asked = server.queries.filter((query) => query.name === 'signed.example.test');
    assert.ok(asked.length > 0 && asked.every((query) => query.dnssecOk), JSON.stringify(asked));
  });

  test('tells NXDOMAIN from NODATA', async () => {
    assert.equal(failureKind(await dns.a('missing.example.test')), 'nxdomain');
    assert.equal(failureKind(await dns.aaaa('signed.example.test')), 'nodata');
    const nodata = await dns.tlsa('signed.example.test');
    assert.equal(nodata.authenticated, true, 'an authenticated NODATA keeps its AD flag');
  });

  test('names SERVFAIL, REFUSED and an undecodable answer', async () => {
    assert.equal(failureKind(await dns.a('broken.example.test')), 'servfail');
    assert.equal(failureKind(await dns.a('closed.example.test')), 'refused');
    assert.equal(failureKind(await dns.a('garbage.example.test')), 'malformed');
  });

  test('asks again over TCP when the UDP answer is truncated', async () => {
    const result = await dns.txt('big.example.test');
    assert.deepEqual(records(result), ['x'.repeat(200), 'y'.repeat(200)]);
    assert.equal(result.ok && result.transport, 'tcp');
    const asked = server.queries.filter((query) => query.name === 'big.example.test').map((query) => query.transport);
    assert.deepEqual(asked.slice(-2), ['udp', 'tcp']);
  });

  test('a server that never answers is a timeout, an aborted query is aborted', async () => {
    const quick = new DnsClient({ server: { host: server.host, port: server.port }, timeoutMs: 300 });
    assert.equal(failureKind(await quick.a('slow.example.test')), 'timeout');
    const controller = new AbortController();
    const aborting = new DnsClient({ server: { host: server.host, port: server.port }, timeoutMs: TIMEOUT_MS, signal: controller.signal });
    const pending = aborting.a('slow.example.test');
    controller.abort();
    assert.equal(failureKind(await pending), 'aborted');
  });

  test('a PTR query for something that is not an address is unavailable, without a query', async () => {
    const before = server.queries.length;
    assert.equal(failureKind(await dns.ptr('mx1.example.test')), 'unavailable');
    assert.equal(server.queries.length, before);
  });
});

test('a closed UDP port is unreachable', async () => {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const port = socket.address().port;
  await new Promise<void>((done) => socket.close(() => done()));
  const dns = new DnsClient({ server: { host: '127.0.0.1', port }, timeoutMs: TIMEOUT_MS });
  assert.equal(failureKind(await dns.a('example.test')), 'unreachable');
});

test('reverse names of IPv4 and IPv6 addresses', () => {
  assert.equal(reverseName('192.0.2.1'), '1.2.0.192.in-addr.arpa');
  assert.equal(reverseName('2001:db8::1'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
  assert.equal(reversedLabels('::ffff:192.0.2.1'), '1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0');
  assert.equal(reverseName('mail.example.test'), undefined);
  assert.equal(canonicalAddress('2001:DB8:0::1'), canonicalAddress('2001:db8::0:1'));
});
