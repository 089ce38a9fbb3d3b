import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { main } from '../../src/cli.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';
import { sourcePath } from '../helpers/paths.js';
import { PassThrough } from 'node:stream';

/** The built binary, as users and CI run it. */
const bin = sourcePath('dist/bin/smtpspec.cjs');
const version = (JSON.parse(readFileSync(sourcePath('package.json'), 'utf8')) as { version: string }).version;

function smtpspec(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: GENEROUS_MS,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the smtpspec binary', () => {
  test('runs the bundled program through the code cache the build made', () => {
    const probe = spawnSync(process.execPath, ['-e', 'process.stdout.write(require(process.argv[1]).codeCache())', bin], { encoding: 'utf8', timeout: GENEROUS_MS });
    assert.equal(probe.status, 0, probe.stderr);
    assert.equal(probe.stdout, 'used');
  });

  test('--help lists the commands and exits 0', () => {
    const { code, stdout } = smtpspec('--help');
    assert.equal(code, 0);
    for (const command of ['run', 'validate', 'serve']) assert.match(stdout, new RegExp(`\\b${command}\\b`));
  });

  test('<command> --help shows that command\'s options', () => {
    const { code, stdout } = smtpspec('run', '--help');
    assert.equal(code, 0);
    assert.match(stdout, /--target/);
    assert.match(stdout, /--junit/);
  });

  test('--version prints the package version', () => {
    const { code, stdout } = smtpspec('--version');
    assert.equal(code, 0);
    assert.match(stdout, new RegExp(`^smtpspec/${version.replace(/\./g, '\\.')} `));
  });

  test('exit codes: 0 passed, 1 a case failed, 2 unusable input', () => {
    assert.equal(smtpspec('run', sourcePath('scenarios/unknown-command.yaml'), '--embedded').code, 0);
    assert.equal(smtpspec('run', sourcePath('test/cli/fixtures/failing.yaml'), '--embedded').code, 1);
    const invalid = smtpspec('validate', sourcePath('test/cli/fixtures/invalid.yaml'));
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /invalid\.yaml:6:9: /);
    const unknown = smtpspec('frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const missing = smtpspec('run', 'no/such/file.yaml', '--embedded');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no\/such\/file\.yaml/);
    assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace');
  });

  test('serve logs sessions and received messages, and stops on SIGINT with 130', async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = createInterface({ input: child.stdout! });
    const seen: string[] = [];
    let port = 0;
    const waitFor = (pattern: RegExp) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no log line matching ${pattern}; saw:\n${seen.join('\n')}`)), GENEROUS_MS);
        const check = (line: string) => {
          const match = pattern.exec(line);
          if (!match) return;
          clearTimeout(timer);
          lines.off('line', check);
          resolve(match);
        };
        for (const line of seen) check(line);
        lines.on('line', check);
      });
    lines.on('line', (line) => seen.push(line));
    try {
      port = Number((await waitFor(/listening on 127\.0\.0\.1:(\d+)/))[1]);
      const out = new PassThrough().resume();
      const code = await main(
        ['run', sourcePath('scenarios/basic-conversation.yaml'), '--target', `127.0.0.1:${port}`],
        { stdout: out, stderr: out, env: {} },
      );
      assert.equal(code, 0);
      const message = await waitFor(/message from <tester@example\.com> to <Postmaster>, subject "test message", (\d+) bytes/);
      assert.ok(Number(message[1]) > 0);
    } finally {
      child.kill('SIGINT');
    }
    const [exitCode] = (await once(child, 'exit')) as [number | null];
    assert.equal(exitCode, 130);
  });
});
