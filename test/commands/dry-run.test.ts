import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, parseArgs } from '../../src/cli.js';
import { fakeServer, type FakeServer } from '../helpers/fake-server.js';
import { sourcePath } from '../helpers/paths.js';
import { startDnsResponder, type DnsResponder } from '../manifest/dns-responder.js';
import { capture } from '../helpers/capture.js';

const fixture = (name: string) => sourcePath('test/commands/fixtures', name);
const ENV = { SMTP_USER: 'mailbox-user', SMTP_PASSWORD: 's3cret-pw' };

describe('smtpspec run --dry-run', () => {
  let server: FakeServer;
  before(async () => {
    server = await fakeServer(async (s) => {
      await s.write('220 fake ESMTP\r\n');
    });
  });
  after(() => server.close());

  test('is parsed as a run option', () => {
    const command = parseArgs(['run', 'a.yaml', '--dry-run', '--verbose']);
    assert.equal(command.command === 'run' && command.dryRun && command.verbose, true);
  });

  test('prints every command in order with its expectation, secrets masked, and connects to nothing', async () => {
    const out = capture(ENV);
    const code = await main(['run', fixture('submission.yaml'), '--target', `127.0.0.1:${server.port}`, '--dry-run'], out.io);
    assert.equal(code, 0, out.stderr());
    const lines = out.stdout().split('\n').map((line) => line.replace(/ {4,}/, ' | ').trimEnd());
    assert.deepEqual(lines, [
      `${fixture('submission.yaml')} › authenticated mail is accepted`,
      `  * connect to 127.0.0.1:${server.port}`,
      '  S: (the greeting) | expect 220 with text /ESMTP/',
      '  C: EHLO client.example.test | expect 250, has AUTH PLAIN',
      '  C: AUTH PLAIN **** | expect 235',
      '  C: MAIL FROM:<alice@example.test> | expect 250',
      '  C: RCPT TO:<bob@example.test> | expect 250 or 251, capture queued',
      '  C: DATA | expect 354',
      '  C: Subject: for mailbox-user',
      '  C:',
      '  C: ..a dot-leading line',
      '  C: . | expect 250',
      '  C: RSET | expect 250',
      '  C: NOOP ${queued} | expect 2xx',
      '  C: QUIT | expect 221',
      '',
      '1 case; dry run: nothing was sent',
      '',
    ]);
    const all = out.stdout() + out.stderr();
    // The password is secret; the user name is not.
    assert.doesNotMatch(all, /s3cret-pw/);
    assert.ok(!all.includes(Buffer.from('\0mailbox-user\0s3cret-pw').toString('base64')));
    assert.equal(server.connectionCount, 0);
  });

  test('the embedded server is not started, and a greeting read before a first command is said', async () => {
    const out = capture();
    assert.equal(await main(['run', fixture('tagged.yaml'), '--embedded', '--dry-run', '--grep', 'relaying'], out.io), 0, out.stderr());
    assert.equal(
      out.stdout(),
      [
        `${fixture('tagged.yaml')} › relaying is refused  (only when var relay_check)`,
        '  * connect to the embedded server (a free loopback port, at run time)',
        '  S: (the greeting, read before the first command; any code but 421)',
        '  C: RCPT TO:<x@elsewhere.invalid>                    expect 5xx 5.7.x',
        '',
        '1 case; dry run: nothing was sent',
        '',
      ].join('\n'),
    );
  });

  test('a file without a target is refused, as run refuses it', async () => {
    const out = capture(ENV);
    assert.equal(await main(['run', fixture('submission.yaml'), '--dry-run'], out.io), 2);
    assert.match(out.stderr(), /no target for .*submission\.yaml/);
    assert.equal(out.stdout(), '');
  });

  test('a manifest domain is shown unresolved: no DNS query, no connection', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-dry-'));
    const dns: DnsResponder = await startDnsResponder({ 'example.test': { mx: [[10, 'localhost']] }, localhost: { a: ['127.0.0.1'] } });
    try {
      const manifest = join(dir, 'fleet.yaml');
      await writeFile(
        manifest,
        `scenarios: [${sourcePath('test/cli/fixtures/greeting-only.yaml')}]
dns_server: 127.0.0.1:${dns.port}
targets:
  - { name: local, host: 127.0.0.1, port: ${server.port} }
  - { domain: example.test, port: 2525 }
`,
      );
      const out = capture();
      assert.equal(await main(['run', manifest, '--dry-run'], out.io), 0, out.stderr());
      assert.match(out.stdout(), new RegExp(`^ {2}\\* connect to local \\(127\\.0\\.0\\.1:${server.port}\\)$`, 'm'));
      assert.match(out.stdout(), /^ {2}\* connect to MX of example\.test, port 2525 \(resolved at run time\)$/m);
      assert.match(out.stdout(), /^2 cases; dry run: nothing was sent$/m);
      assert.deepEqual(dns.queries, []);
      assert.equal(server.connectionCount, 0);
    } finally {
      await dns.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
