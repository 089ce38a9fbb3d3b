import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import { fakeServer, type FakeServer } from '../helpers/fake-server.js';
import { sourcePath } from '../helpers/paths.js';
import { startDnsResponder, type DnsResponder } from '../manifest/dns-responder.js';
import { capture } from '../helpers/capture.js';

const fixture = (name: string) => sourcePath('test/commands/fixtures', name);

describe('smtpspec list', () => {
  test('shows each file with its target, its cases and their tags', async () => {
    const out = capture();
    assert.equal(await main(['list', fixture('tagged.yaml'), fixture('no-target.yaml')], out.io), 0, out.stderr());
    assert.equal(
      out.stdout(),
      [
        `${fixture('tagged.yaml')}  (127.0.0.1:1)`,
        '  a message is accepted  [smoke, transaction]',
        '  relaying is refused  [smoke, relay]  (only when var relay_check)',
        `${fixture('no-target.yaml')}  (no target: add "target:" to the file or pass --target)`,
        '  the greeting arrives',
        '3 cases in 2 files',
        '',
      ].join('\n'),
    );
  });

  test('--grep, --tag and --target select as run does', async () => {
    const out = capture();
    const args = ['list', fixture('tagged.yaml'), fixture('no-target.yaml'), '--tag', 'relay', '--target', 'mx.example.com:2525'];
    assert.equal(await main(args, out.io), 0);
    assert.equal(out.stdout(), `${fixture('tagged.yaml')}  (mx.example.com:2525)\n  relaying is refused  [smoke, relay]  (only when var relay_check)\n1 case in 1 file\n`);
    const grep = capture();
    assert.equal(await main(['list', fixture('tagged.yaml'), '--grep', 'tagged › a MESSAGE'], grep.io), 0);
    assert.match(grep.stdout(), /a message is accepted[^\n]*\n1 case in 1 file\n$/);
  });

  test('filters that leave nothing, and broken files, are unusable input', async () => {
    const none = capture();
    assert.equal(await main(['list', fixture('tagged.yaml'), '--tag', 'nothing'], none.io), 2);
    assert.match(none.stderr(), /no case matches the --grep \/ --tag filters/);
    const broken = capture();
    assert.equal(await main(['list', sourcePath('test/cli/fixtures/invalid.yaml')], broken.io), 2);
    assert.match(broken.stderr(), /invalid\.yaml:\d+:\d+: /);
    assert.equal(broken.stdout(), '');
  });

  test('an unset ${env:…} does not stop the listing; it is named', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-list-'));
    try {
      const file = join(dir, 'env.yaml');
      await writeFile(file, 'target: 127.0.0.1:1\ncases:\n  - name: as ${env:SMTP_USER}\n    steps:\n      - expect: 220\n');
      const out = capture();
      assert.equal(await main(['list', file], out.io), 0, out.stderr());
      assert.match(out.stdout(), /^ {2}as \S+$/m);
      assert.equal(out.stderr(), 'note: not set in this environment, needed to run: SMTP_USER\n');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('a manifest', () => {
    let dir: string;
    let server: FakeServer;
    let dns: DnsResponder;
    let manifest: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'smtpspec-list-fleet-'));
      server = await fakeServer(() => {});
      dns = await startDnsResponder({ 'example.test': { mx: [[10, 'localhost']] }, localhost: { a: ['127.0.0.1'] } });
      manifest = join(dir, 'fleet.yaml');
      await writeFile(
        manifest,
        `scenarios: [${fixture('tagged.yaml')}, ${fixture('no-target.yaml')}]
dns_server: 127.0.0.1:${dns.port}
targets:
  - { name: local, host: 127.0.0.1, port: ${server.port}, tags: [eu] }
  - { domain: example.test, tags: [us] }
`,
      );
    });
    after(async () => {
      await server.close();
      await dns.close();
      await rm(dir, { recursive: true, force: true });
    });

    test('shows targets × files and the work items, without DNS or connections', async () => {
      const out = capture();
      assert.equal(await main(['list', manifest], out.io), 0, out.stderr());
      const text = out.stdout();
      assert.match(text, /^.*fleet\.yaml: 2 targets × 2 files\n/);
      assert.match(text, new RegExp(`^local \\(127\\.0\\.0\\.1:${server.port}\\)\\n {2}\\S*tagged\\.yaml\\n {4}a message is accepted`, 'm'));
      assert.match(text, /^MX of example\.test \(resolved at run time\)$/m);
      assert.match(text, /^6 work items \(3 of them once for each MX host found at run time\)\n$/m);
      assert.deepEqual(dns.queries, []);
      assert.equal(server.connectionCount, 0);
    });

    test('--target picks targets by tag', async () => {
      const out = capture();
      assert.equal(await main(['list', manifest, '--target', 'eu'], out.io), 0);
      assert.match(out.stdout(), /1 target × 2 files/);
      assert.doesNotMatch(out.stdout(), /example\.test/);
      assert.match(out.stdout(), /^3 work items\n$/m);
    });
  });
});
