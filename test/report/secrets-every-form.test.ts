import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { smtpspec, type CliResult } from '../helpers/cli.js';
import { fakeServer, type FakeServer, type FakeSession } from '../helpers/fake-server.js';
import { GENEROUS } from '../helpers/deadlines.js';

/**
 * Secrets exactly, through the whole command: every output a run makes (console, --verbose, JSON, JUnit,
 * TAP, HTML) is read for every form of the secrets, and for smtpspec's own words and ordinary values,
 * which must stay readable. The server echoes the credentials back in clear.
 */

const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const decode = (text: string): string => Buffer.from(text, 'base64').toString('utf8');

/** Replies like a permissive server, and echoes every credential it is given in clear. */
async function echoingServer(s: FakeSession): Promise<void> {
  await s.write('220 fake ESMTP\r\n');
  for (let line = await s.nextLine(); line !== undefined; line = await s.nextLine()) {
    const [verb = '', ...rest] = line.split(' ');
    switch (verb.toUpperCase()) {
      case 'EHLO':
        await s.write('250-fake\r\n250 AUTH PLAIN XOAUTH2\r\n');
        break;
      case 'AUTH': {
        const blob = decode(rest[1] ?? '');
        if (rest[0] === 'PLAIN') {
          const [, user, password] = blob.split('\0');
          await s.write(`235 2.7.0 welcome ${user}, your password is ${password}\r\n`);
        } else await s.write(`535 5.7.8 token ${/auth=Bearer ([^\x01]*)/.exec(blob)?.[1]} refused\r\n`);
        break;
      }
      case 'VRFY':
        await s.write(`252 2.1.5 ${rest.join(' ')}\r\n`);
        break;
      case 'DATA':
        await s.write('354 go on\r\n');
        while ((await s.nextLine()) !== '.') {
          // the message
        }
        await s.write('250 2.0.0 queued\r\n');
        break;
      case 'QUIT':
        await s.write('221 bye\r\n');
        s.end();
        return;
      default:
        await s.write('250 2.0.0 ok\r\n');
    }
  }
}

interface Outputs {
  result: CliResult;
  /** Each output by name: stdout, stderr (--verbose), json, junit, tap, html. */
  texts: Record<string, string>;
}

async function runAllFormats(dir: string, scenario: string, env: Record<string, string>, extra: string[] = []): Promise<Outputs> {
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, scenario);
  const reports = { json: join(dir, 'r.json'), junit: join(dir, 'r.xml'), tap: join(dir, 'r.tap'), html: join(dir, 'r.html') };
  const args = ['run', file, '--verbose', '--json', reports.json, '--junit', reports.junit, '--tap', reports.tap, '--html', reports.html, ...extra];
  const result = await smtpspec(args, { env });
  const texts: Record<string, string> = { stdout: result.stdout, stderr: result.stderr };
  for (const [name, path] of Object.entries(reports)) texts[name] = readFileSync(path, 'utf8');
  return { result, texts };
}

describe('secrets in every output form', () => {
  let server: FakeServer;
  let dir: string;

  before(async () => {
    server = await fakeServer(echoingServer);
    dir = mkdtempSync(join(tmpdir(), 'smtpspec-secrets-'));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a secret in a message line longer than 1,000 characters is masked before the line is cut', async () => {
    const password = 'Qx7Zk9Wv3Jm2Rt';
    // The secret starts at character 995 of the line: a cut at 1,000 before masking would leave "Qx7Zk".
    const line = `${'a'.repeat(995)}\${env:SMTP_PASSWORD}${'b'.repeat(491)}`;
    const scenario = `target: ${server.host}:${server.port}
timeout: ${GENEROUS}
cases:
  - name: long message line
    steps:
      - expect: 220
      - send: EHLO client.test
      - auth: { mechanism: PLAIN, username: someone, password: "\${env:SMTP_PASSWORD}" }
        expect: 235
      - send: MAIL FROM:<a@example.test>
      - send: RCPT TO:<b@example.test>
      - send: DATA
        expect: 354
      - data: "Subject: long\\n\\n${line}\\n"
        expect: 250
      - send: NOOP
        expect: 500
`;
    const { result, texts } = await runAllFormats(dir, scenario, { SMTP_PASSWORD: password });
    assert.equal(result.code, 1, result.stderr);
    const pieces = Array.from({ length: password.length - 4 }, (_, i) => password.slice(i, i + 5));
    for (const [name, text] of Object.entries(texts)) {
      for (const piece of pieces) assert.ok(!text.includes(piece), `${name} shows "${piece}" of the secret`);
    }
    assert.match(texts.stderr!, /C: a{995}\*\*\*\*…/, 'the transcript shows the line up to the cut, the secret masked whole');
  });

  test('a one-letter password, a user name, a short token: masked where they are secret, and nowhere else', async () => {
    const scenario = `target: ${server.host}:${server.port}
timeout: ${GENEROUS}
cases:
  - name: plain with a one-letter password
    steps:
      - expect: 220
      - send: EHLO \${env:CLIENT_NAME}
      - auth: { mechanism: PLAIN, username: "\${env:SMTP_USER}", password: "\${env:SMTP_PASSWORD}" }
        expect: 235
      - send: VRFY \${env:SMTP_USER}
        expect: 252
      - send: XCHECK \${env:RELAY_CODE}
      - send: NOOP
        expect: 500
  - name: a bad token is refused
    steps:
      - expect: 220
      - send: EHLO client.test
      - auth: { mechanism: XOAUTH2, username: "\${env:SMTP_USER}", token: "\${env:SMTP_TOKEN}" }
        expect: 235
`;
    const env = { SMTP_PASSWORD: 'e', SMTP_USER: 'user', SMTP_TOKEN: 'bad', CLIENT_NAME: 'client.example.test', RELAY_CODE: 'zz9-relay-code' };
    const { result, texts } = await runAllFormats(dir, scenario, env, ['--secret', 'RELAY_CODE']);
    assert.equal(result.code, 1, result.stderr);
    const forbidden = [
      base64('\0user\0e'),
      base64('user=user\x01auth=Bearer bad\x01\x01'),
      'password is e',
      'token bad',
      'zz9-relay-code',
    ];
    for (const [name, text] of Object.entries(texts)) {
      for (const secret of forbidden) assert.ok(!text.includes(secret), `${name} shows ${JSON.stringify(secret)}`);
      assert.ok(!/\*\*\*\*[a-z]/.test(text.replace(/\*\*\*\*…/g, '')), `${name} masks inside a word:\n${text}`);
      assert.ok(text.includes('a bad token is refused'), `${name}: the case name is as written`);
      // --verbose is the session alone; every report says why the case failed.
      if (name !== 'stderr') assert.ok(text.includes('expected 500'), `${name}: smtpspec's words are whole`);
    }
    const verbose = texts.stderr!;
    for (const shown of ['C: AUTH PLAIN ****', 'S: 235 2.7.0 welcome user, your password is ****', 'C: VRFY user', 'S: 252 2.1.5 user', 'C: EHLO client.example.test', 'C: XCHECK ****', 'S: 535 5.7.8 token **** refused']) {
      assert.ok(verbose.includes(shown), `--verbose shows "${shown}":\n${verbose}`);
    }
    for (const name of ['stdout', 'json', 'junit', 'html']) {
      assert.ok(texts[name]!.includes('VRFY user'), `${name} shows the user name`);
      assert.ok(texts[name]!.includes('auth XOAUTH2 as user'), `${name} shows the user name in the label`);
    }
  });
});
