import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import type { RunResult } from '../../src/engine/results.js';
import { startDnsResponder, type DnsResponder } from '../manifest/dns-responder.js';
import { capture } from '../helpers/capture.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { GENEROUS } from '../helpers/deadlines.js';
import { tcpName } from '../helpers/targets.js';

const SCENARIO = `name: greeting
timeout: ${GENEROUS}
cases:
  - name: says hello
    steps:
      - expect: 220
      - send: QUIT
        expect: 221
`;

/**
 * The client's source address and family. Linux routes all of 127.0.0.0/8 to the loopback
 * interface, so 127.0.0.2 and 127.0.0.3 are addresses of this machine a server on 127.0.0.1 sees.
 */
describe('--local-address, -4, -6 and their manifest keys', () => {
  let dir: string;
  let server: TestServer;
  let dns: DnsResponder;
  /** The address each session came from, as the server saw it. */
  const peers: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-client-'));
    server = await startTestServer({
      onConnect: (session, callback) => {
        peers.push(session.remoteAddress);
        callback();
      },
    });
    dns = await startDnsResponder({ 'v4only.test': { a: ['127.0.0.1'] } });
    await writeFile(join(dir, 'greeting.yaml'), SCENARIO);
  });
  after(async () => {
    await Promise.all([server.close(), dns.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  test('--local-address: the server sees the connection come from that address', async () => {
    peers.length = 0;
    const c = capture();
    const code = await main(['run', join(dir, 'greeting.yaml'), '--target', `127.0.0.1:${server.port}`, '--local-address', '127.0.0.2'], c.io);
    assert.equal(code, 0, c.stdout() + c.stderr());
    assert.deepEqual(peers, ['127.0.0.2']);
  });

  test('-4 with a source address of its family connects; an IPv4 target with -6 is unusable input', async () => {
    peers.length = 0;
    const ok = capture();
    assert.equal(await main(['run', join(dir, 'greeting.yaml'), '--target', `127.0.0.1:${server.port}`, '-4', '--local-address', '127.0.0.3'], ok.io), 0, ok.stderr());
    assert.deepEqual(peers, ['127.0.0.3']);
    const v6 = capture();
    assert.equal(await main(['run', join(dir, 'greeting.yaml'), '--target', `127.0.0.1:${server.port}`, '-6'], v6.io), 2);
    assert.match(v6.stderr(), /127\.0\.0\.1:\d+ is an IPv4 address: it cannot be reached over IPv6/);
  });

  test('options that contradict each other are unusable input', async () => {
    const cases: [string[], RegExp][] = [
      [['-4', '-6'], /use either -4 or -6, not both/],
      [['-4', '--local-address', '::1'], /--local-address ::1 is an IPv6 address: it does not go with -4/],
      [['--local-address', 'eth0'], /--local-address expects an IP address of this machine/],
    ];
    for (const [options, message] of cases) {
      const c = capture();
      assert.equal(await main(['run', join(dir, 'greeting.yaml'), '--target', `127.0.0.1:${server.port}`, ...options], c.io), 2, options.join(' '));
      assert.match(c.stderr(), message);
    }
  });

  test('a manifest sets them per target and in defaults; the command line wins', async () => {
    const manifest = join(dir, 'fleet.yaml');
    await writeFile(
      manifest,
      `scenarios: [greeting.yaml]
defaults: { local_address: 127.0.0.2 }
targets:
  - { name: from-defaults, host: 127.0.0.1, port: ${server.port} }
  - { name: own, host: 127.0.0.1, port: ${server.port}, local_address: 127.0.0.3, family: 4 }
`,
    );
    peers.length = 0;
    const c = capture();
    assert.equal(await main(['run', manifest, '--concurrency', '1'], c.io), 0, c.stdout() + c.stderr());
    assert.deepEqual(peers, ['127.0.0.2', '127.0.0.3']);
    peers.length = 0;
    const over = capture();
    assert.equal(await main(['run', manifest, '--concurrency', '1', '--local-address', '127.0.0.4'], over.io), 0, over.stderr());
    assert.deepEqual(peers, ['127.0.0.4', '127.0.0.4']);
  });

  test('-6 against a name with only an A record asks only for AAAA, and fails naming the family and the server', async () => {
    const manifest = join(dir, 'v6.yaml');
    await writeFile(manifest, `scenarios: [greeting.yaml]\ndns_server: 127.0.0.1:${dns.port}\ntargets:\n  - { name: v4only, host: v4only.test, port: ${server.port} }\n`);
    const before = dns.queries.length;
    const json = join(dir, 'v6.json');
    const c = capture();
    assert.equal(await main(['run', manifest, '-6', '--json', json], c.io), 1);
    const [kase] = (JSON.parse(await readFile(json, 'utf8')) as RunResult).cases;
    assert.equal(tcpName(kase!), 'v4only');
    assert.equal(kase!.failure?.kind, 'dns');
    assert.match(kase!.failure!.message, new RegExp(`cannot resolve host "v4only\\.test": no AAAA record \\(IPv6 only\\) on DNS server 127\\.0\\.0\\.1:${dns.port}`));
    assert.deepEqual(dns.queries.slice(before), ['AAAA v4only.test']);
  });

  test('a manifest whose local_address is no IP address, or of the other family, is refused at its line', async () => {
    const manifest = join(dir, 'wrong.yaml');
    await writeFile(
      manifest,
      `scenarios: [greeting.yaml]\ntargets:\n  - { host: 127.0.0.1, local_address: eth0 }\n  - { host: 127.0.0.1, local_address: 127.0.0.2, family: 6 }\n  - { host: 127.0.0.1, family: 5 }\n`,
    );
    const c = capture();
    assert.equal(await main(['validate', manifest], c.io), 2);
    assert.match(c.stderr(), /wrong\.yaml:3:\d+: local_address must be an IP address of this machine/);
    assert.match(c.stderr(), /wrong\.yaml:4:\d+: family 6 does not go with local_address 127\.0\.0\.2, an IPv4 address/);
    assert.match(c.stderr(), /wrong\.yaml:5:\d+: family must be 4 \(IPv4 only\) or 6 \(IPv6 only\)/);
  });
});
