import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import { capture } from '../helpers/capture.js';
import { testCertificates } from '../helpers/certs.js';
import { smtpspec } from '../helpers/cli.js';
import { PROMPTLY_MS } from '../helpers/deadlines.js';
import { fakeServer, type FakeServer } from '../helpers/fake-server.js';

/**
 * A report's path is checked before any session starts: a report never replaces a file the run
 * reads, two reports never share a file, a report is never a folder, and a folder that cannot be
 * made is said at once. Each is unusable input: exit 2, one sentence, nothing connected to.
 */

describe('report paths checked before the run', () => {
  let dir: string;
  let server: FakeServer;
  let scenario: string;
  let target: string;
  const original = new Map<string, string>();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-report-paths-'));
    server = await fakeServer(async (s) => {
      await s.write('220 hi\r\n');
    });
    target = `127.0.0.1:${server.port}`;
    const certs = await testCertificates();
    const files: Record<string, string> = {
      'ca.pem': certs.ca.cert,
      'client.pem': certs.client.cert,
      'client-key.pem': certs.client.key,
      'hello.eml': 'Subject: hi\n\nhello\n',
      'photo.txt': 'not really a photo\n',
      'prelude.yaml': 'steps:\n  - expect: 220\n',
      // Only includes: no step is written in it, so only the record of what loading read names it.
      'outer.yaml': 'steps:\n  - include: prelude.yaml\n',
      's.yaml': `name: Inputs
tls: { ca: ca.pem, cert: client.pem, key: client-key.pem }
cases:
  - name: greets
    steps:
      - include: outer.yaml
  - name: sends
    when: { var: never }
    steps:
      - expect: 220
      - data: { file: hello.eml }
      - data: { body: hi, attachments: [{ file: photo.txt }] }
`,
    };
    for (const [name, text] of Object.entries(files)) {
      await writeFile(join(dir, name), text);
      original.set(name, text);
    }
    scenario = join(dir, 's.yaml');
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs in-process and returns the exit code and stderr. */
  async function runWith(...args: string[]): Promise<{ code: number; stderr: string }> {
    const c = capture();
    const code = await main(['run', ...args], c.io);
    return { code, stderr: c.stderr() };
  }

  async function assertInputsUntouched(): Promise<void> {
    for (const [name, text] of original) assert.equal(await readFile(join(dir, name), 'utf8'), text, `${name} is as it was`);
  }

  for (const [flag, input, what] of [
    ['--junit', 's.yaml', 'the scenario file'],
    ['--json', 'prelude.yaml', 'the included file'],
    ['--json', 'outer.yaml', 'the included file'],
    ['--tap', 'hello.eml', 'the message file'],
    ['--html', 'photo.txt', 'the attachment'],
    ['--junit', 'ca.pem', 'the CA certificate'],
    ['--junit', 'client.pem', 'the client certificate'],
    ['--json', 'client-key.pem', 'the client key'],
  ] as const) {
    test(`${flag} on ${what} is refused, and the file is left as it was`, async () => {
      const { code, stderr } = await runWith(scenario, '--target', target, flag, join(dir, input));
      assert.equal(code, 2, stderr);
      assert.match(stderr, new RegExp(`^smtpspec: ${flag} \\S*${input.replace('.', '\\.')} is ${what} \\S*${input.replace('.', '\\.')}; a report never replaces an input\\n$`));
      await assertInputsUntouched();
      assert.equal(server.connectionCount, 0, 'no session started');
    });
  }

  test('the same file under another name (a symbolic or a hard link) is refused too', async () => {
    await symlink(scenario, join(dir, 'soft.xml'));
    await link(scenario, join(dir, 'hard.xml'));
    for (const name of ['soft.xml', 'hard.xml']) {
      const { code, stderr } = await runWith(scenario, '--target', target, '--junit', join(dir, name));
      assert.equal(code, 2, stderr);
      assert.match(stderr, /--junit \S*\.xml is the scenario file \S*s\.yaml; a report never replaces an input/);
    }
    await assertInputsUntouched();
    assert.equal(server.connectionCount, 0, 'no session started');
  });

  test('--ca on the command line and a manifest are inputs as well', async () => {
    await copyFile(join(dir, 'ca.pem'), join(dir, 'extra-ca.pem'));
    const ca = await runWith(scenario, '--target', target, '--ca', join(dir, 'extra-ca.pem'), '--tap', join(dir, 'extra-ca.pem'));
    assert.equal(ca.code, 2, ca.stderr);
    assert.match(ca.stderr, /--tap \S*extra-ca\.pem is the CA certificate \S*extra-ca\.pem; a report never replaces an input/);
    const manifest = join(dir, 'fleet.yaml');
    await writeFile(manifest, `scenarios: [s.yaml]\ntargets:\n  - { name: one, host: 127.0.0.1, port: ${server.port} }\n`);
    const fleet = await runWith(manifest, '--junit', manifest);
    assert.equal(fleet.code, 2, fleet.stderr);
    assert.match(fleet.stderr, /--junit \S*fleet\.yaml is the manifest \S*fleet\.yaml; a report never replaces an input/);
    assert.match(await readFile(manifest, 'utf8'), /^scenarios:/);
    assert.equal(server.connectionCount, 0, 'no session started');
  });

  test('two reports on one file, and a report on a folder, are refused in one sentence', async () => {
    const same = await runWith(scenario, '--target', target, '--junit', join(dir, 'r.xml'), '--tap', join(dir, '.', 'r.xml'));
    assert.equal(same.code, 2, same.stderr);
    assert.match(same.stderr, /^smtpspec: --junit \S*r\.xml and --tap \S*r\.xml name the same file; give each report its own\n$/);
    await mkdir(join(dir, 'out'));
    const folder = await runWith(scenario, '--target', target, '--html', join(dir, 'out'));
    assert.equal(folder.code, 2, folder.stderr);
    assert.match(folder.stderr, /^smtpspec: --html \S*out is a folder; name a file for the report\n$/);
    assert.doesNotMatch(same.stderr + folder.stderr, /rename|\.tmp/);
    assert.equal(server.connectionCount, 0, 'no session started');
    assert.equal(existsSync(join(dir, 'r.xml')), false);
  });

  test('a report folder under a file cannot be made: said at once, before any session', async () => {
    const { code, stderr } = await runWith(scenario, '--target', target, '--json', join(dir, 'hello.eml', 'r.json'));
    assert.equal(code, 2, stderr);
    assert.match(stderr, /^smtpspec: --json \S*hello\.eml\/r\.json: the folder \S*hello\.eml cannot be made \(a part of its path is a file, not a folder\)\n$/);
    assert.equal(server.connectionCount, 0, 'no session started');
    await assertInputsUntouched();
  });

  test('a report folder that cannot be made under /proc ends the command at once with exit 2', { skip: !existsSync('/proc/self') }, async () => {
    // Node's recursive mkdir loops for ever on such a path: the run used to spin after its cases.
    const result = await smtpspec(['run', scenario, '--target', target, '--junit', '/proc/nope/r.xml'], { timeoutMs: PROMPTLY_MS });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /^smtpspec: --junit \/proc\/nope\/r\.xml: the folder \/proc\/nope cannot be made \(.+\)\n$/);
    assert.equal(server.connectionCount, 0, 'no session started');
  });

  test('merge: a report on one of the results it merges is refused before anything is written', async () => {
    const results = join(dir, 'new-results', 'shard.json');
    assert.equal((await runWith(scenario, '--target', target, '--json', results)).code, 0);
    const before = await readFile(results, 'utf8');
    const c = capture();
    assert.equal(await main(['merge', results, '--json', results], c.io), 2, c.stderr());
    assert.match(c.stderr(), /^smtpspec: --json \S*shard\.json is the results file \S*shard\.json; a report never replaces an input\n$/);
    assert.equal(await readFile(results, 'utf8'), before);
  });

  test('a report in a new folder: the folder is made before the run and the report written after it', async () => {
    const report = join(dir, 'new', 'deeper', 'r.json');
    const sessions = server.connectionCount;
    const { code, stderr } = await runWith(scenario, '--target', target, '--json', report);
    assert.equal(code, 0, stderr);
    assert.equal(server.connectionCount, sessions + 1);
    assert.equal((JSON.parse(await readFile(report, 'utf8')) as { cases: unknown[] }).cases.length, 2);
    assert.deepEqual(await readdir(join(dir, 'new', 'deeper')), ['r.json'], 'no temporary file left');
  });
});
