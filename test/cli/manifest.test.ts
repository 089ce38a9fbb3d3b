import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseJUnit, type TestCase, type TestSuites } from 'junit2json';
import { main } from '../../src/cli.js';
import type { RunResult } from '../../src/engine/results.js';
import { startEmbeddedServer, type EmbeddedServer } from '../../src/server/embedded.js';
import { startDnsResponder, type DnsResponder } from '../manifest/dns-responder.js';
import { fakeServer, type FakeServer } from '../helpers/fake-server.js';
import { sourcePath } from '../helpers/paths.js';
import { capture } from '../helpers/capture.js';
import { startTestServer } from '../helpers/test-server.js';
import { GENEROUS } from '../helpers/deadlines.js';
import { tcpName } from '../helpers/targets.js';

async function results(file: string): Promise<RunResult> {
  return JSON.parse(await readFile(file, 'utf8')) as RunResult;
}

/** What a run decided, without timings: the same for a sharded-then-merged run as for one run. */
function verdicts(result: RunResult): string[] {
  return result.cases.map((c) => `${c.id} ${c.status}`).sort();
}

describe('running a manifest', () => {
  let dir: string;
  let healthy: EmbeddedServer;
  let refusing: Awaited<ReturnType<typeof startTestServer>>;
  let stalling: FakeServer;
  let dns: DnsResponder;
  let manifest: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-fleet-'));
    healthy = await startEmbeddedServer();
    refusing = await startTestServer({
      onRcptTo: (_address, _session, callback) => callback(Object.assign(new Error('no such user'), { responseCode: 550 })),
    });
    stalling = await fakeServer(() => {});
    dns = await startDnsResponder({ 'example.test': { mx: [[10, 'localhost']] }, localhost: { a: ['127.0.0.1'] }, 'nomail.test': {} });
    manifest = join(dir, 'fleet.yaml');
    await writeFile(
      manifest,
      `scenarios: [${sourcePath('test/cli/fixtures/fleet/transaction.yaml')}]
dns_server: 127.0.0.1:${dns.port}
defaults:
  timeout: ${GENEROUS}
  vars: { rcpt: user@example.test }
targets:
  - { name: healthy, host: 127.0.0.1, port: ${healthy.port}, tags: [eu] }
  - { name: refusing, host: 127.0.0.1, port: ${refusing.port}, tags: [us] }
  - { name: stalling, host: 127.0.0.1, port: ${stalling.port}, tags: [us], timeout: 500ms }
  - { domain: example.test, port: ${healthy.port} }
  - { domain: nomail.test, port: 25 }
`,
    );
  });
  after(async () => {
    await Promise.all([healthy.close(), refusing.close(), stalling.close(), dns.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  test('every (target × case) pair runs, each outcome with its own cause', async () => {
    const json = join(dir, 'all.json');
    const c = capture();
    const code = await main(['run', manifest, '--concurrency', '4', '--json', json], c.io);
    assert.equal(code, 1, c.stderr());
    const result = await results(json);
    const byTarget = (name: string) => result.cases.filter((k) => tcpName(k).startsWith(name));
    assert.equal(result.cases.length, 10);
    assert.deepEqual(byTarget('healthy').map((k) => k.status), ['passed', 'passed']);
    assert.deepEqual(byTarget('refusing').map((k) => k.status), ['failed', 'passed']);
    assert.equal(byTarget('refusing')[0]!.failure?.kind, 'expectation');
    assert.deepEqual(byTarget('stalling').map((k) => k.failure?.kind), ['timeout', 'timeout']);
    assert.deepEqual(byTarget('example.test').map((k) => k.status), ['passed', 'passed'], 'MX localhost found through the DNS server');
    const nomail = byTarget('nomail.test');
    assert.deepEqual(nomail.map((k) => k.failure?.kind), ['dns', 'dns']);
    assert.match(nomail[0]!.failure!.message, /nomail\.test has no MX and no A\/AAAA record/);
    assert.ok(dns.queries.includes('MX example.test'));
    assert.match(c.stdout(), /5 passed, 5 failed/);
  });

  test('--target keeps the targets with that name or tag; --tag and --grep filter cases', async () => {
    const json = join(dir, 'filtered.json');
    const c = capture();
    const code = await main(['run', manifest, '--target', 'us', '--tag', 'greeting', '--json', json], c.io);
    assert.equal(code, 1);
    const result = await results(json);
    assert.deepEqual(
      result.cases.map((k) => `${tcpName(k)} ${k.caseName}`),
      ['refusing the greeting names the server', 'stalling the greeting names the server'],
    );
    const none = capture();
    assert.equal(await main(['run', manifest, '--grep', 'no such case'], none.io), 2);
    assert.match(none.stderr(), /no case matches/);
  });

  test('shards cover every item once, and merging them equals the unsharded run', async () => {
    const whole = join(dir, 'whole.json');
    await main(['run', manifest, '--json', whole], capture().io);
    const shards = [1, 2, 3].map((i) => join(dir, `shard-${i}.json`));
    for (const [i, file] of shards.entries()) {
      await main(['run', manifest, '--shard', `${i + 1}/3`, '--json', file], capture().io);
    }
    const parts = await Promise.all(shards.map(results));
    assert.equal(parts.reduce((sum, part) => sum + part.cases.length, 0), 10);
    const merged = join(dir, 'merged.json');
    const junit = join(dir, 'merged.xml');
    const html = join(dir, 'merged.html');
    const c = capture();
    assert.equal(await main(['merge', ...shards, '--json', merged, '--junit', junit, '--html', html], c.io), 1);
    assert.match(c.stdout(), /merged 3 result files: 5 passed, 5 failed/);
    assert.deepEqual(verdicts(await results(merged)), verdicts(await results(whole)));
    assert.equal(((await readFile(junit, 'utf8')).match(/<testcase /g) ?? []).length, 10);
    const page = await readFile(html, 'utf8');
    assert.equal((page.match(/<td class="cell (?:passed|failed|error)"/g) ?? []).length, 10);
    assert.equal((page.match(/<td class="cell (?:failed|error)"/g) ?? []).length, 5);
  });

  test('JUnit as a CI reader sees it: the file relative to the working folder, the case line, the target in the name', async () => {
    const junit = join(dir, 'fleet.xml');
    assert.equal(await main(['run', manifest, '--target', 'healthy', '--target', 'refusing', '--junit', junit], capture().io), 1);
    const read = (await parseJUnit(await readFile(junit, 'utf8'))) as TestSuites;
    // junit2json keeps every attribute it meets, though `file` and `line` are not in its types.
    const cases = (read.testsuite ?? []).flatMap((suite) => suite.testcase ?? []) as (TestCase & { file?: string; line?: number })[];
    const seen = cases.map((c) => [c.classname, c.name, c.file, c.line]);
    const file = join('test', 'cli', 'fixtures', 'fleet', 'transaction.yaml');
    assert.deepEqual(seen, [
      ['test.cli.fixtures.fleet.transaction', 'a message for the local user @ healthy', file, 4],
      ['test.cli.fixtures.fleet.transaction', 'the greeting names the server @ healthy', file, 15],
      ['test.cli.fixtures.fleet.transaction', 'a message for the local user @ refusing', file, 4],
      ['test.cli.fixtures.fleet.transaction', 'the greeting names the server @ refusing', file, 15],
    ]);
    assert.deepEqual((read.testsuite ?? []).map((suite) => suite.name), [
      `healthy (127.0.0.1:${healthy.port}) · ${file}`,
      `refusing (127.0.0.1:${refusing.port}) · ${file}`,
    ]);
  });

  test('a manifest runs alone and without --embedded', async () => {
    const mixed = capture();
    assert.equal(await main(['run', manifest, sourcePath('scenarios/basic-conversation.yaml')], mixed.io), 2);
    assert.match(mixed.stderr(), /a manifest runs on its own/);
    const embedded = capture();
    assert.equal(await main(['run', manifest, '--embedded'], embedded.io), 2);
  });
});

describe('validating a manifest', () => {
  test('checks the manifest and every scenario it names, without connecting', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-validate-fleet-'));
    try {
      const manifest = join(dir, 'fleet.yaml');
      await writeFile(
        manifest,
        `scenarios: [${sourcePath('test/cli/fixtures/fleet/transaction.yaml')}]
targets:
  - { name: one, host: 192.0.2.1, vars: { rcpt: a@example.test } }
`,
      );
      const c = capture();
      assert.equal(await main(['validate', manifest], c.io), 0, c.stderr());
      assert.match(c.stdout(), /fleet\.yaml: ok \(1 target\)/);
      assert.match(c.stdout(), /transaction\.yaml: ok \(2 cases\)/);
      await writeFile(manifest, `targets:\n  - { name: one, hots: 192.0.2.1 }\n`);
      const broken = capture();
      assert.equal(await main(['validate', manifest], broken.io), 2);
      assert.match(broken.stderr(), /fleet\.yaml:2:\d+: .*hots/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
