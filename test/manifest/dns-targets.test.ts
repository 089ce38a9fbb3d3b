import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import type { RunResult } from '../../src/engine/results.js';
import { startDnsResponder, type DnsResponder } from './dns-responder.js';
import { capture } from '../helpers/capture.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { GENEROUS } from '../helpers/deadlines.js';
import { tcpName } from '../helpers/targets.js';

/** Names that exist only on the DNS responder, never in the system's resolver. */
const ZONE = {
  'fleet.test': { mx: [[10, 'mx1.fleet.test']] as [number, string][] },
  'mx1.fleet.test': { a: ['127.0.0.1'] },
  'implicit.fleet.test': { a: ['127.0.0.1'] },
  'lost.fleet.test': { mx: [[10, 'gone.fleet.test']] as [number, string][] },
  'empty.fleet.test': { mx: [[10, 'bare.fleet.test']] as [number, string][] },
  'bare.fleet.test': {},
};

const SCENARIO = `name: greeting
cases:
  - name: says hello
    steps:
      - expect: 220
      - send: EHLO client.test
        expect: 250
      - send: QUIT
        expect: 221
`;

describe('a manifest with dns_server: every name of a target is looked up on it', () => {
  let dir: string;
  let dns: DnsResponder;
  let server: TestServer;
  let result: RunResult;
  let exitCode: number;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-dns-'));
    dns = await startDnsResponder(ZONE);
    server = await startTestServer();
    await writeFile(join(dir, 'greeting.yaml'), SCENARIO);
    await writeFile(
      join(dir, 'fleet.yaml'),
      `scenarios: [greeting.yaml]
dns_server: 127.0.0.1:${dns.port}
defaults: { timeout: ${GENEROUS} }
targets:
  - { name: fleet, domain: fleet.test, port: ${server.port} }
  - { name: implicit, domain: implicit.fleet.test, port: ${server.port} }
  - { name: named, host: mx1.fleet.test, port: ${server.port} }
  - { name: lost, domain: lost.fleet.test, port: ${server.port} }
  - { name: empty, domain: empty.fleet.test, port: ${server.port} }
`,
    );
    const c = capture();
    exitCode = await main(['run', join(dir, 'fleet.yaml'), '--json', join(dir, 'result.json')], c.io);
    result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as RunResult;
  });
  after(async () => {
    await Promise.all([dns.close(), server.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  test('an MX host, the implicit MX and a host target connect to the addresses the DNS server gave', () => {
    const passed = result.cases.filter((kase) => kase.status === 'passed').map(tcpName);
    assert.deepEqual(passed.sort(), ['fleet MX mx1.fleet.test', 'implicit MX implicit.fleet.test', 'named']);
    assert.ok(dns.queries.includes('A mx1.fleet.test'), dns.queries.join(', '));
    assert.ok(dns.queries.includes('A implicit.fleet.test'));
  });

  test('the transcript keeps the host name and shows the address connected to', () => {
    const fleet = result.cases.find((kase) => tcpName(kase) === 'fleet MX mx1.fleet.test')!;
    const notes = fleet.transcript.filter((entry) => entry.dir === '*').map((entry) => entry.text);
    assert.ok(notes.includes(`connected to mx1.fleet.test:${server.port} (127.0.0.1)`), notes.join('\n'));
  });

  test('a name the DNS server does not know, or knows without an address, fails as dns naming the server', () => {
    const failures = Object.fromEntries(result.cases.filter((kase) => kase.status !== 'passed').map((kase) => [tcpName(kase), kase.failure]));
    assert.equal(exitCode, 1);
    assert.deepEqual(Object.keys(failures).sort(), ['empty MX bare.fleet.test', 'lost MX gone.fleet.test']);
    assert.equal(failures['lost MX gone.fleet.test']?.kind, 'dns');
    assert.match(failures['lost MX gone.fleet.test']!.message, new RegExp(`cannot resolve host "gone\\.fleet\\.test": no such name \\(NXDOMAIN\\) on DNS server 127\\.0\\.0\\.1:${dns.port}`));
    assert.equal(failures['empty MX bare.fleet.test']?.kind, 'dns');
    assert.match(failures['empty MX bare.fleet.test']!.message, new RegExp(`cannot resolve host "bare\\.fleet\\.test": no A or AAAA record on DNS server 127\\.0\\.0\\.1:${dns.port}`));
  });
});

describe('a domain whose MX records name one host twice', () => {
  let dir: string;
  let dns: DnsResponder;
  let server: TestServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-dns-'));
    dns = await startDnsResponder({
      'twice.test': {
        mx: [
          [10, 'mx1.twice.test'],
          [20, 'mx1.twice.test'],
          [30, 'gone.twice.test'],
        ],
      },
      'mx1.twice.test': { a: ['127.0.0.1'] },
    });
    server = await startTestServer();
    await writeFile(join(dir, 'greeting.yaml'), SCENARIO);
    await writeFile(
      join(dir, 'fleet.yaml'),
      `scenarios: [greeting.yaml]\ndns_server: 127.0.0.1:${dns.port}\ndefaults: { timeout: ${GENEROUS} }\ntargets:\n  - { domain: twice.test, port: ${server.port} }\n`,
    );
  });
  after(async () => {
    await Promise.all([dns.close(), server.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  test('tests the host once; every case has its own id, and the console lists each, the later failure too', async () => {
    const c = capture();
    const code = await main(['run', join(dir, 'fleet.yaml'), '--no-color', '--json', join(dir, 'result.json')], c.io);
    assert.equal(code, 1, c.stderr());
    const result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as RunResult;
    assert.deepEqual(result.cases.map(tcpName), ['twice.test MX mx1.twice.test', 'twice.test MX gone.twice.test']);
    assert.equal(new Set(result.cases.map((kase) => kase.id)).size, result.cases.length);
    const lines = c.stdout().split('\n').filter((line) => /^ {2}[✓✗-] /.test(line));
    assert.equal(lines.length, 2, c.stdout());
    assert.match(c.stdout(), /cannot resolve host "gone\.twice\.test"/);
    assert.match(c.stdout(), /1 passed, 1 failed/);
  });
});
