import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'tap-parser';
import { SaxesParser } from 'saxes';
import { main, parseArgs } from '../../src/cli.js';
import { UsageError } from '../../src/errors.js';
import { loadScenarios } from '../../src/scenario/load.js';
import { sourcePath } from '../helpers/paths.js';
import { fakeServer } from '../helpers/fake-server.js';
import { capture } from '../helpers/capture.js';

const fixture = (name: string) => sourcePath('test/cli/fixtures', name);
const scenariosDir = sourcePath('scenarios');
/** The examples `npm start` runs against the embedded server: the top level of scenarios/. */
const embeddedExamples = readdirSync(scenariosDir)
  .filter((name) => name.endsWith('.yaml'))
  .map((name) => join(scenariosDir, name));

describe('parseArgs', () => {
  test('run with every option', () => {
    const command = parseArgs([
      'run', 'a.yaml', 'dir', '--target', 'mx.example.com:2525', '--timeout', '5s',
      '--var', 'rcpt=a@b', '--var', 'x=1=2', '--reporter', 'tap', '--junit', 'out/j.xml', '--tap', 't.tap', '--no-color',
      '--json', 'r.json', '--junit-granularity', 'step', '--concurrency', '16', '--per-host', '3', '--grep', 'relay',
      '--tag', 'tls', '--tag', 'smoke', '--bail', '--retries', '2', '--shard', '2/4', '--dns-server', '127.0.0.1:5353',
      '--ca', 'ca.pem', '--html', 'r.html', '--secret', 'RELAY_CODE', '--secret', 'env:SIGNUP',
    ]);
    assert.deepEqual(command, {
      command: 'run',
      paths: ['a.yaml', 'dir'],
      checks: [],
      targets: ['mx.example.com:2525'],
      embedded: false,
      timeoutMs: 5000,
      vars: { rcpt: 'a@b', x: '1=2' },
      secrets: ['RELAY_CODE', 'SIGNUP'],
      ca: ['ca.pem'],
      reporter: 'tap',
      junitFile: 'out/j.xml',
      tapFile: 't.tap',
      jsonFile: 'r.json',
      htmlFile: 'r.html',
      warnDays: 30,
      critDays: 14,
      junitGranularity: 'step',
      color: false,
      concurrency: 16,
      perHost: 3,
      grep: /relay/i,
      tags: ['tls', 'smoke'],
      bail: true,
      retries: 2,
      shard: { index: 2, total: 4 },
      dnsServer: { host: '127.0.0.1', port: 5353 },
    });
  });

  test('--secret takes the name of a variable', () => {
    assert.throws(() => parseArgs(['run', 'a.yaml', '--secret', 'a b']), {
      name: 'UsageError',
      message: '--secret expects the name of a variable, such as SMTP_API_KEY, got "a b"',
    });
  });

  test('defaults: console reporter, colour allowed, 8 sessions at once, 2 per host', () => {
    const command = parseArgs(['run', 'a.yaml', '--target', '192.0.2.1']);
    assert.equal(command.command, 'run');
    if (command.command !== 'run') return;
    assert.deepEqual(command.targets, ['192.0.2.1']);
    assert.equal(command.reporter, 'console');
    assert.equal(command.color, true);
    assert.equal(command.timeoutMs, undefined);
    assert.deepEqual([command.concurrency, command.perHost, command.retries, command.bail], [8, 2, 0, false]);
    assert.equal(command.junitGranularity, 'case');
  });

  test('unusable input is a UsageError with one clear sentence', () => {
    const cases: [string[], RegExp][] = [
      [['run', 'a.yaml', '--reporter', 'html'], /--reporter must be one of console, tap, junit, json/],
      [['run', 'a.yaml', '--timeout', '5'], /--timeout expects a duration/],
      [['run', 'a.yaml', '--var', 'novalue'], /--var expects name=value/],
      [['run', 'a.yaml', '--target', 'host:99999'], /--target expects host\[:port\]/],
      [['run', 'a.yaml', '--target', 'h', '--embedded'], /either --target or --embedded/],
      [['run', 'a.yaml', '--bogus'], /Unknown option `--bogus`/],
      [['run'], /run needs scenario files, folders, a manifest or --check NAME/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [[], /no command given/],
      [['serve', '--port', 'x'], /--port expects a number/],
      [['run', 'a.yaml', '--shard', '5/4'], /--shard expects i\/n/],
      [['run', 'a.yaml', '--concurrency', '0'], /--concurrency expects a whole number of at least 1/],
      [['run', 'a.yaml', '--grep', '('], /--grep is not a valid regular expression/],
      [['run', 'a.yaml', '--junit-granularity', 'suite'], /--junit-granularity must be one of case, step/],
      [['merge', 'a.json'], /merge needs at least one of --junit, --json, --tap or --html/],
    ];
    for (const [args, message] of cases) {
      assert.throws(() => parseArgs(args), (e: unknown) => e instanceof UsageError && message.test(e.message), args.join(' '));
    }
  });
});

describe('main', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-cli-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('the bundled scenarios pass against the embedded server', async () => {
    const cases = (await loadScenarios(embeddedExamples)).flatMap((s) => s.cases);
    assert.ok(cases.length >= 7);
    const c = capture();
    // The embedded server receives mail for example.test: with the domain set, no case is skipped.
    const code = await main(['run', ...embeddedExamples, '--embedded', '--var', 'domain=example.test'], c.io);
    assert.equal(code, 0, c.stdout() + c.stderr());
    const lines = c.stdout().trimEnd().split('\n');
    assert.equal(lines.at(-1), `${cases.length} passed, 0 failed`);
    assert.doesNotMatch(c.stdout(), /\x1b\[/, 'no colour when stdout is not a terminal');
  });

  test('--check runs ready-made checks by name; checks lists them; an unknown name gets a suggestion', async () => {
    const c = capture();
    assert.equal(await main(['run', '--check', 'greeting', '--check', 'bad-commands', '--embedded'], c.io), 0, c.stdout() + c.stderr());
    assert.match(c.stdout(), /scenarios\/checks\/greeting\.yaml/);
    assert.match(c.stdout(), /passed, 0 failed$/m);
    const listed = capture();
    assert.equal(await main(['checks'], listed.io), 0);
    assert.match(listed.stdout(), /^open-relay\s+\S/m);
    assert.match(listed.stdout(), /^smuggling\s+\S/m);
    const unknown = capture();
    assert.equal(await main(['run', '--check', 'smugling', '--embedded'], unknown.io), 2);
    assert.match(unknown.stderr(), /unknown check "smugling" \(did you mean "smuggling"\?/);
  });

  test('a failing case exits 1 and names the step, expected and got', async () => {
    const c = capture();
    const code = await main(['run', fixture('failing.yaml'), '--embedded'], c.io);
    assert.equal(code, 1);
    assert.match(c.stdout(), /1 passed, 1 failed/);
    assert.match(c.stdout(), /expected 250, got 550 5\.1\.1/);
    assert.match(c.stdout(), /failing\.yaml:15:9/);
  });

  test('validate reports file:line:col and exits 2', async () => {
    const c = capture();
    const code = await main(['validate', fixture('invalid.yaml')], c.io);
    assert.equal(code, 2);
    assert.match(c.stderr(), /invalid\.yaml:6:9: unknown key "sned"/);
    assert.doesNotMatch(c.stderr(), /\n\s+at /, 'no stack trace');
  });

  test('validate passes valid files', async () => {
    const c = capture();
    const code = await main(['validate', ...embeddedExamples], c.io);
    assert.equal(code, 0, c.stderr());
    assert.match(c.stdout(), /basic-conversation\.yaml: ok \(2 cases\)/);
  });

  test('validate of a folder checks the manifest in it as a manifest, and each scenario once', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-validate-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'greeting.yaml'), 'cases:\n  - name: greeting\n    steps: [{ expect: 220 }]\n');
    await writeFile(join(dir, 'fleet.yaml'), 'scenarios: ["*.yaml"]\ntargets:\n  - host: mx.example.com\n');
    const c = capture();
    assert.equal(await main(['validate', dir], c.io), 0, c.stderr());
    assert.equal(c.stdout(), `${join(dir, 'fleet.yaml')}: ok (1 target)\n${join(dir, 'greeting.yaml')}: ok (1 case)\n`);
    await writeFile(join(dir, 'fleet.yaml'), 'scenarios: ["*.yaml"]\ntargets:\n  - host: mx.example.com\n    prot: 25\n');
    const bad = capture();
    assert.equal(await main(['validate', dir], bad.io), 2);
    assert.match(bad.stderr(), /fleet\.yaml:4:5: unknown key "prot"/);
  });

  test('run validates first and connects to nothing when any file is invalid', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 hi\r\n');
    });
    t.after(() => fake.close());
    const c = capture();
    const code = await main(
      ['run', fixture('failing.yaml'), fixture('invalid.yaml'), '--target', `127.0.0.1:${fake.port}`],
      c.io,
    );
    assert.equal(code, 2);
    assert.equal(fake.connectionCount, 0);
    assert.equal(c.stdout(), '');
  });

  test('a file without a target needs --target or --embedded', async () => {
    const c = capture();
    const code = await main(['run', fixture('failing.yaml')], c.io);
    assert.equal(code, 2);
    assert.match(c.stderr(), /no target for .*failing\.yaml/);
  });

  test('--var fills variables; an undefined variable is a validation error', async () => {
    const ok = capture();
    assert.equal(await main(['run', fixture('vars.yaml'), '--embedded', '--var', 'rcpt=user@example.test'], ok.io), 0);
    const refused = capture();
    assert.equal(await main(['run', fixture('vars.yaml'), '--embedded', '--var', 'rcpt=nobody@example.test'], refused.io), 1);
    const missing = capture();
    assert.equal(await main(['run', fixture('vars.yaml'), '--embedded'], missing.io), 2);
    assert.match(missing.stderr(), /vars\.yaml:\d+:\d+: undefined variable "rcpt"/);
  });

  test('--junit and --tap write complete files beside the console view', async () => {
    const junitFile = join(dir, 'reports', 'junit.xml');
    const tapFile = join(dir, 'reports', 'results.tap');
    const c = capture();
    const code = await main(
      ['run', fixture('failing.yaml'), '--embedded', '--junit', junitFile, '--tap', tapFile],
      c.io,
    );
    assert.equal(code, 1);
    assert.match(c.stdout(), /1 passed, 1 failed/);

    const xml = await readFile(junitFile, 'utf8');
    const testcases: Record<string, string>[] = [];
    const parser = new SaxesParser();
    parser.on('opentag', (tag) => {
      if (tag.name === 'testcase') testcases.push(tag.attributes as Record<string, string>);
    });
    parser.write(xml).close();
    assert.deepEqual(
      testcases.map((tc) => tc.name),
      ['passes', 'expects the unknown user to be accepted'],
    );
    assert.ok(testcases.every((tc) => Number(tc.time) >= 0));

    const tap = await readFile(tapFile, 'utf8');
    const summary = await new Promise<{ count: number; pass: number; fail: number }>((resolve) => {
      const p = new Parser({ strict: true }, resolve);
      p.end(tap);
    });
    assert.equal(summary.count, 2);
    assert.equal(summary.pass, 1);
    assert.equal(summary.fail, 1);
    assert.deepEqual((await readdir(join(dir, 'reports'))).sort(), ['junit.xml', 'results.tap'], 'no temporary files left');
  });

  test('--reporter tap and --reporter junit print only that format on stdout', async () => {
    const tap = capture();
    assert.equal(await main(['run', fixture('failing.yaml'), '--embedded', '--reporter', 'tap'], tap.io), 1);
    assert.match(tap.stdout(), /^TAP version 14\n1\.\.2\n/);
    const junit = capture();
    assert.equal(await main(['run', fixture('failing.yaml'), '--embedded', '--reporter', 'junit'], junit.io), 1);
    assert.match(junit.stdout(), /^<\?xml/);
    assert.match(junit.stdout(), /<\/testsuites>\s*$/);
  });
});

describe('validate without secrets', () => {
  test('unset environment variables are listed, not fatal; run still needs them', async () => {
    const file = sourcePath('examples/implicit-tls.yaml');
    const c = capture({});
    assert.equal(await main(['validate', file], c.io), 0, c.stderr());
    assert.match(c.stderr(), /note: not set in this environment, needed to run: SMTP_PASSWORD, SMTP_USER/);
    const r = capture({});
    assert.equal(await main(['run', file, '--target', '127.0.0.1:1'], r.io), 2);
    assert.match(r.stderr(), /environment variable SMTP_\w+ is not set/);
  });

  test('files a scenario names but this machine lacks are listed by validate and list; run refuses them before connecting', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-files-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const fake = await fakeServer(async (s) => {
      await s.write('220 fake\r\n');
    });
    t.after(() => fake.close());
    const file = join(dir, 'files.yaml');
    await mkdir(join(dir, 'folder.eml'));
    const steps = [
      '      - expect: 220',
      '      - data: { file: messages/hello.eml }',
      '      - data: { headers: { Subject: x }, body: y, attachments: [{ file: report.pdf }] }',
      '      - data: { file: folder.eml }',
    ];
    await writeFile(file, `target: 127.0.0.1:${fake.port}\ntls: { ca: [certs/ca.pem], cert: client.pem, key: client-key.pem }\ncases:\n  - name: c\n    steps:\n${steps.join('\n')}\n`);
    const v = capture({});
    // A folder where a file belongs is wrong wherever it is checked.
    assert.equal(await main(['validate', file], v.io), 2);
    assert.match(v.stderr(), /files\.yaml:9:23: message file "folder\.eml": it is a folder/);
    await writeFile(file, (await readFile(file, 'utf8')).replace(/.*folder\.eml.*\n/, ''));
    for (const command of ['validate', 'list']) {
      const c = capture({});
      assert.equal(await main([command, file], c.io), 0, c.stderr());
      const missing = ['certs/ca.pem', 'client-key.pem', 'client.pem', 'messages/hello.eml', 'report.pdf'].map((name) => join(dir, name));
      assert.match(c.stderr(), new RegExp(`^note: not found here, needed to run: ${missing.map((path) => path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join(', ')}$`, 'm'));
    }
    const r = capture({});
    assert.equal(await main(['run', file], r.io), 2);
    assert.deepEqual(r.stderr().trim().split('\n').slice(0, 5), [
      `${file}:2:13: CA certificate "certs/ca.pem" does not exist (looked for ${join(dir, 'certs/ca.pem')})`,
      `${file}:2:34: client certificate "client.pem" does not exist (looked for ${join(dir, 'client.pem')})`,
      `${file}:2:51: client key "client-key.pem" does not exist (looked for ${join(dir, 'client-key.pem')})`,
      `${file}:7:23: message file "messages/hello.eml" does not exist (looked for ${join(dir, 'messages/hello.eml')})`,
      `${file}:8:73: attachment "report.pdf" does not exist (looked for ${join(dir, 'report.pdf')})`,
    ]);
    assert.equal(fake.connectionCount, 0, 'nothing was sent');
  });

  test('a --ca file that cannot be read is unusable input for every command that loads files', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 fake\r\n');
    });
    t.after(() => fake.close());
    const file = sourcePath('scenarios/basic-conversation.yaml');
    const missing = join(tmpdir(), 'smtpspec-no-such-ca.pem');
    for (const args of [['run', file, '--target', `127.0.0.1:${fake.port}`], ['run', file, '--dry-run'], ['validate', file], ['list', file]]) {
      const c = capture({});
      assert.equal(await main([...args, '--ca', missing], c.io), 2, args.join(' '));
      assert.match(c.stderr(), new RegExp(`^smtpspec: --ca ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: no such file$`, 'm'));
    }
    assert.equal(fake.connectionCount, 0, 'nothing was sent');
  });
});
