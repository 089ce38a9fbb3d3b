import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli.js';
import { EMBEDDED_USER, embeddedCaFile } from '../../src/server/embedded.js';
import { sourcePath } from '../helpers/paths.js';
import { fakeServer } from '../helpers/fake-server.js';
import { embeddedSuite } from '../helpers/embedded-suite.js';
import { smtpspec } from '../helpers/cli.js';
import { assertGolden, normalise } from './cli.js';

/** `smtpspec record` without a terminal: commands from standard input, one reply awaited per line. */

const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const { username, password } = EMBEDDED_USER;
const CREDENTIALS = { SMTP_USER: username, SMTP_PASSWORD: password };

/** `smtpspec validate` in this process: its exit code and what it printed. */
async function validate(file: string): Promise<{ code: number; output: string }> {
  let output = '';
  const sink = new PassThrough().on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const code = await main(['validate', file], { stdout: sink, stderr: sink, env: {} });
  return { code, output };
}

describe('record from standard input', { concurrency: 3 }, () => {
  const suite = embeddedSuite('smtpspec-record-');

  test('a commands file becomes the golden scenario, which replays green', async () => {
    const file = join(suite.dir, 'classic.yaml');
    const input = readFileSync(sourcePath('test/record/fixtures/classic.commands.txt'), 'utf8');
    const recorded = await smtpspec(['record', '--target', suite.target, '-o', file], { input });
    assert.equal(recorded.code, 0, recorded.stderr);
    assert.match(recorded.stdout, /^C: RCPT TO:<nobody@example\.test>\nS: 550 5\.1\.1 /m);
    assert.doesNotMatch(recorded.stdout, /never\.sent/, 'nothing is sent after QUIT');
    assertGolden('classic-stdin.golden.yaml', normalise(readFileSync(file, 'utf8'), suite.server.port));
    const checked = await validate(file);
    assert.equal(checked.code, 0, checked.output);
    const run = await smtpspec(['run', file]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
  });

  test('--stdout prints the scenario on stdout and the session on stderr', async () => {
    const recorded = await smtpspec(['record', '--target', suite.target, '--loose', '--stdout'], { input: 'NOOP\nQUIT\n' });
    assert.equal(recorded.code, 0, recorded.stderr);
    assert.match(recorded.stdout, /^# Recorded with smtpspec record on /m);
    assert.match(recorded.stdout, /- send: NOOP\n\s+expect: 2xx\n/);
    assert.match(recorded.stderr, /^S: 221 /m);
  });

  describe('AUTH after STARTTLS', { concurrency: 3 }, () => {
    const sessions = {
      'PLAIN with an initial response': [`AUTH PLAIN ${base64(`\0${username}\0${password}`)}`],
      'PLAIN after a 334': ['AUTH PLAIN', base64(`\0${username}\0${password}`)],
      'LOGIN with its two prompts': ['AUTH LOGIN', base64(username), base64(password)],
    };
    const secrets = [password, base64(`\0${username}\0${password}`), base64(password), base64(username)];

    for (const [name, lines] of Object.entries(sessions)) {
      test(`${name}: placeholders in the file, no credential anywhere, replay passes`, async () => {
        const file = join(suite.dir, `${name.replace(/\W+/g, '-')}.yaml`);
        const input = ['EHLO test.com', 'STARTTLS', 'EHLO test.com', ...lines, 'QUIT', ''].join('\n');
        const recorded = await smtpspec(['record', '--target', suite.target, '--ca', embeddedCaFile(), '-o', file], { input });
        assert.equal(recorded.code, 0, recorded.stderr);
        const text = readFileSync(file, 'utf8');
        assert.match(text, /- auth:\n\s+mechanism: (PLAIN|LOGIN)\n\s+username: \$\{env:SMTP_USER\}\n\s+password: \$\{env:SMTP_PASSWORD\}\n(.*\n)?\s+expect: 235\n/);
        assert.match(text, /^# .*set SMTP_USER and SMTP_PASSWORD/m);
        assert.match(text, /- starttls: true\n/);
        for (const secret of secrets) {
          assert.equal(text.includes(secret), false, 'the file holds no credential');
          assert.equal(recorded.stdout.includes(secret), false, 'the session shows no credential');
        }
        const checked = await validate(file);
        assert.equal(checked.code, 0, checked.output);
        const run = await smtpspec(['run', file], { env: CREDENTIALS });
        assert.equal(run.code, 0, run.stdout + run.stderr);
      });
    }
  });

  test('a certificate that does not verify after STARTTLS ends the session with 1 and a hint', async () => {
    const file = join(suite.dir, 'untrusted.yaml');
    const result = await smtpspec(['record', '--target', suite.target, '-o', file], { input: 'EHLO test.com\nSTARTTLS\nQUIT\n' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^smtpspec: certificate verification failed: self-signed certificate.*\(trust its CA with --ca FILE, or record with --insecure\); nothing was written\n$/);
    assert.equal(existsSync(file), false);
  });

  test('an existing file is refused with 2 before connecting, unless --force', async () => {
    const file = join(suite.dir, 'existing.yaml');
    writeFileSync(file, 'mine\n');
    const refused = await smtpspec(['record', '--target', '127.0.0.1:1', '-o', file], { input: 'QUIT\n' });
    assert.equal(refused.code, 2);
    assert.equal(refused.stderr, `smtpspec: ${file} already exists (use --force to replace it)\n`);
    assert.equal(readFileSync(file, 'utf8'), 'mine\n');
    const forced = await smtpspec(['record', '--target', suite.target, '-o', file, '--force'], { input: 'QUIT\n' });
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(readFileSync(file, 'utf8'), /- send: QUIT/);
  });

  test('a refused connection is one sentence and exit 1, and nothing is written', async () => {
    const file = join(suite.dir, 'refused.yaml');
    const result = await smtpspec(['record', '--target', '127.0.0.1:1', '-o', file]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'smtpspec: connection refused by 127.0.0.1:1; nothing was written\n');
    assert.equal(existsSync(file), false);
  });

  test('a reply that never comes fails at the deadline, naming the command', async () => {
    const silent = await fakeServer(async (s) => {
      await s.write('220 silent\r\n');
      await s.nextLine();
    });
    try {
      const file = join(suite.dir, 'silent.yaml');
      // One deadline for every wait: the greeting (from this process, to the recorder's) must come
      // within it on a busy machine, the answer to NOOP never does.
      const result = await smtpspec(['record', '--target', `127.0.0.1:${silent.port}`, '--timeout', '3s', '-o', file], { input: 'NOOP\n' });
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^smtpspec: no reply within 3000 ms.*\(waiting for the reply to "NOOP"\); nothing was written\n$/);
      assert.equal(existsSync(file), false);
    } finally {
      await silent.close();
    }
  });

  test('a server that echoes the credentials back in clear: record masks them as run does', async () => {
    const secret = 'hunter2-long';
    const decode = (text: string): string => Buffer.from(text, 'base64').toString('utf8').replace(/\0/g, ' ');
    const echoing = await fakeServer(async (s) => {
      await s.write('220 hi\r\n');
      let user = '';
      for (let line = await s.nextLine(); line !== undefined; line = await s.nextLine()) {
        const blob = /^AUTH PLAIN (\S+)$/.exec(line)?.[1];
        if (blob) await s.write(`535-5.7.8 you sent ${blob}\r\n535 5.7.8 that is${decode(blob)}\r\n`);
        else if (line === 'AUTH LOGIN') await s.write('334 VXNlcm5hbWU6\r\n');
        else if (user === '' && line === base64('alice')) {
          user = decode(line);
          await s.write('334 UGFzc3dvcmQ6\r\n');
        } else if (user !== '') {
          await s.write(`535 5.7.8 ${line} is ${decode(line)} for ${user}\r\n`);
          user = '';
        } else if (line === 'QUIT') {
          await s.write('221 bye\r\n');
          s.end();
          return;
        } else await s.write('250 ok\r\n');
      }
    });
    try {
      const blob = base64(`\0alice\0${secret}`);
      const input = ['EHLO a', `AUTH PLAIN ${blob}`, 'AUTH LOGIN', base64('alice'), base64(secret), 'QUIT', ''].join('\n');
      const result = await smtpspec(['record', '--target', `127.0.0.1:${echoing.port}`, '--stdout'], { input });
      assert.equal(result.code, 0, result.stderr);
      const output = result.stdout + result.stderr;
      for (const form of [secret, blob, base64(secret)]) assert.equal(output.includes(form), false, `record shows ${form}:\n${output}`);
      assert.match(result.stderr, /^S: 535-5\.7\.8 you sent \*\*\*\*$/m);
      assert.match(result.stderr, /^S: 535 5\.7\.8 that is alice \*\*\*\*$/m, 'the user name is not secret');
      assert.match(result.stderr, /^S: 535 5\.7\.8 \*\*\*\* is \*\*\*\* for alice$/m);
    } finally {
      await echoing.close();
    }
  });

  test('a server that closes the connection ends the session, and what was recorded is saved', async () => {
    const closing = await fakeServer(async (s) => {
      await s.write('220 hi\r\n');
      await s.nextLine();
      await s.write('421 4.3.2 shutting down\r\n');
      s.end();
    });
    try {
      const file = join(suite.dir, 'closed.yaml');
      const result = await smtpspec(['record', '--target', `127.0.0.1:${closing.port}`, '-o', file], { input: 'EHLO a\nNOOP\n' });
      assert.equal(result.code, 0, result.stderr);
      assert.match(readFileSync(file, 'utf8'), /- send: EHLO a\n\s+expect: 421 4\.3\.2\n$/);
      assert.deepEqual(readdirSync(suite.dir).filter((name) => name.endsWith('.tmp')), []);
    } finally {
      await closing.close();
    }
  });
});
