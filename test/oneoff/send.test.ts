import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli.js';
import { EMBEDDED_USER, embeddedCaFile } from '../../src/server/embedded.js';
import { capture } from '../helpers/capture.js';
import { fakeServer } from '../helpers/fake-server.js';
import { embeddedSuite } from '../helpers/embedded-suite.js';
import { startDnsResponder, type DnsResponder } from '../manifest/dns-responder.js';

/** `smtpspec send`: the three one-off tasks as one command line each, saved and replayed with `run`. */

const { username, password } = EMBEDDED_USER;
const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = capture(env);
  const code = await main(args, out.io);
  return { code, stdout: out.stdout(), stderr: out.stderr() };
}

describe('smtpspec send', { concurrency: 4 }, () => {
  const suite = embeddedSuite('smtpspec-send-');

  test('STARTTLS + AUTH: the password from the environment, in no output and not in the file; the saved scenario replays green', async () => {
    const file = join(suite.dir, 'auth.yaml');
    const sent = await cli(['send', '-s', suite.target, '--tls', '--ca', embeddedCaFile(), '--auth', '--auth-user', username, '--to', 'bob@example.test', '--save', file], { SMTP_PASSWORD: password });
    assert.equal(sent.code, 0, sent.stdout + sent.stderr);
    assert.match(sent.stdout, /^\[\+[\d.]+s\] C: STARTTLS$/m);
    assert.match(sent.stdout, /^\[\+[\d.]+s\] C: AUTH PLAIN \*\*\*\*$/m);
    assert.match(sent.stdout, /^passed: every expectation held \(\d+ steps, \d+ ms\)$/m);
    const saved = readFileSync(file, 'utf8');
    for (const secret of [password, base64(`\0${username}\0${password}`)]) {
      assert.ok(!sent.stdout.includes(secret) && !sent.stderr.includes(secret) && !saved.includes(secret), 'the password appears nowhere');
    }
    assert.match(saved, /^# yaml-language-server: \$schema=/);
    assert.match(saved, /username: \$\{env:SMTP_USER\}\n\s+password: \$\{env:SMTP_PASSWORD\}/);
    assert.match(saved, /^ {8}expect: 235$/m, 'the observed AUTH reply is what the file expects');
    const replay = await cli(['run', file], { SMTP_USER: username, SMTP_PASSWORD: password });
    assert.equal(replay.code, 0, replay.stdout + replay.stderr);
    assert.ok(suite.server.messages.some((message) => message.to.includes('bob@example.test') && /^Subject: test /m.test(message.body)));
  });

  test('a refused relay: exit 1 without --expect, 0 with --expect rcpt=5xx, which stops at RCPT; the saved scenario replays green', async () => {
    const refused = await cli(['send', '-s', suite.target, '--to', 'someone@example.org']);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stdout, /^failed: step \d+ \(send: RCPT TO:<someone@example\.org>\): expected 2xx, got 550 5\.7\.1 /m);
    const file = join(suite.dir, 'relay.yaml');
    const expected = await cli(['send', '-s', suite.target, '--to', 'someone@example.org', '--expect', 'rcpt=5xx', '--save', file]);
    assert.equal(expected.code, 0, expected.stdout + expected.stderr);
    assert.doesNotMatch(expected.stdout, /C: DATA/, 'nothing is sent after a refusal the user expects, but QUIT');
    assert.match(expected.stdout, /C: RCPT TO:<someone@example\.org>\n.*S: 550 5\.7\.1 .*\n.*C: QUIT/);
    assert.match(readFileSync(file, 'utf8'), /- rcpt: someone@example\.org\n\s+expect: 5xx\n/);
    const replay = await cli(['run', file]);
    assert.equal(replay.code, 0, replay.stdout + replay.stderr);
  });

  test('a DSN request: RET and ENVID on MAIL, NOTIFY and ORCPT on RCPT; saved as fields, replayed green', async () => {
    const file = join(suite.dir, 'dsn.yaml');
    const args = ['send', '-s', suite.target, '--to', 'bob@example.test', '--dsn-rcpt-notify', 'success,failure', '--dsn-ret', 'HDRS', '--dsn-envid', 'QQ314159', '--dsn-rcpt-orcpt', 'rfc822;bob@example.test'];
    const sent = await cli([...args, '--save', file]);
    assert.equal(sent.code, 0, sent.stdout + sent.stderr);
    assert.match(sent.stdout, /C: MAIL FROM:<[^>]*> RET=HDRS ENVID=QQ314159$/m);
    assert.match(sent.stdout, /C: RCPT TO:<bob@example\.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example\.test$/m);
    const saved = readFileSync(file, 'utf8');
    assert.match(saved, /ret: HDRS\n\s+envid: QQ314159/);
    assert.match(saved, /notify:\n\s+- SUCCESS\n\s+- FAILURE\n\s+orcpt: rfc822;bob@example\.test/);
    const replay = await cli(['run', file]);
    assert.equal(replay.code, 0, replay.stdout + replay.stderr);
  });

  test('--expect greeting=/regex/ decides the exit code; a saved file never replaces one that exists', async () => {
    assert.equal((await cli(['send', '-s', suite.target, '--to', 'bob@example.test', '--quit-after', 'banner', '--expect', 'greeting=/ESMTP/'])).code, 0);
    const failed = await cli(['send', '-s', suite.target, '--to', 'bob@example.test', '--quit-after', 'banner', '--expect', 'greeting=/Postfix/']);
    assert.equal(failed.code, 1, failed.stdout);
    const file = join(suite.dir, 'kept.yaml');
    writeFileSync(file, 'mine\n');
    const kept = await cli(['send', '-s', suite.target, '--to', 'bob@example.test', '--save', file]);
    assert.equal(kept.code, 2);
    assert.equal(kept.stderr, `smtpspec: --save ${file} already exists (use --force to replace it)\n`);
    assert.equal(readFileSync(file, 'utf8'), 'mine\n');
    const message = join(suite.dir, 'message.eml');
    writeFileSync(message, 'Subject: hi\n\nhello\n');
    const input = await cli(['send', '-s', suite.target, '--to', 'bob@example.test', '--data', message, '--save', message, '--force']);
    assert.equal(input.code, 2);
    assert.match(input.stderr, /^smtpspec: --save .* is the message file .*; a saved scenario never replaces an input\n$/);
    assert.equal(readFileSync(message, 'utf8'), 'Subject: hi\n\nhello\n');
  });

  test('--pipeline sends MAIL, RCPT and DATA before reading their replies', async () => {
    const sent = await cli(['send', '-s', suite.target, '--to', 'bob@example.test,carol@example.test', '--pipeline']);
    assert.equal(sent.code, 0, sent.stdout + sent.stderr);
    assert.match(sent.stdout, /C: MAIL FROM:<[^>]*>\n.*C: RCPT TO:<bob@example\.test>\n.*C: RCPT TO:<carol@example\.test>\n.*C: DATA\n.*S: 250 /);
  });

  test('--embedded and the MX of the first recipient (with --dns-server) are targets too', async () => {
    const embedded = await cli(['send', '--embedded', '--to', 'bob@example.test']);
    assert.equal(embedded.code, 0, embedded.stdout + embedded.stderr);
    let dns: DnsResponder | undefined;
    try {
      dns = await startDnsResponder({ 'example.test': { mx: [[10, 'mx.example.test']] }, 'mx.example.test': { a: ['127.0.0.1'] } });
      const viaMx = await cli(['send', '--to', 'bob@example.test', '--port', String(suite.server.port), '--dns-server', `127.0.0.1:${dns.port}`]);
      assert.equal(viaMx.code, 0, viaMx.stdout + viaMx.stderr);
      assert.match(viaMx.stdout, /^MX of example\.test: mx\.example\.test \(127\.0\.0\.1\)$/m);
    } finally {
      await dns?.close();
    }
  });
});

describe('send against a scripted server', () => {
  test('--tls-optional skips STARTTLS a server does not offer; --quit-after ehlo then sends QUIT', async () => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 fake ESMTP\r\n');
      assert.equal(await s.nextLine(), 'EHLO client.test');
      await s.write('250-fake\r\n250 8BITMIME\r\n');
      assert.equal(await s.nextLine(), 'QUIT');
      await s.write('221 bye\r\n');
      s.end();
    });
    try {
      const result = await cli(['send', '-s', `127.0.0.1:${fake.port}`, '--helo', 'client.test', '--to', 'b@example.test', '--tls-optional', '--quit-after', 'ehlo', '--timeout', '20']);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.doesNotMatch(result.stdout, /STARTTLS/);
      await fake.done();
    } finally {
      await fake.close();
    }
  });

  test('--quit-after mail sends QUIT right after MAIL', async () => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 fake ESMTP\r\n');
      assert.equal(await s.nextLine(), 'EHLO client.test');
      await s.write('250-fake\r\n250 PIPELINING\r\n');
      assert.equal(await s.nextLine(), 'MAIL FROM:<a@client.test>');
      await s.write('250 ok\r\n');
      assert.equal(await s.nextLine(), 'QUIT');
      await s.write('221 bye\r\n');
      s.end();
    });
    try {
      const result = await cli(['send', '-s', `127.0.0.1:${fake.port}`, '--helo', 'client.test', '--from', 'a@client.test', '--to', 'b@example.test', '--quit-after', 'mail']);
      assert.equal(result.code, 0, result.stdout + result.stderr);
      await fake.done();
    } finally {
      await fake.close();
    }
  });
});

describe('send --print-swaks and bad flags', () => {
  test('--print-swaks prints the swaks command and connects nowhere; what swaks lacks is named in a comment', async () => {
    const printed = await cli(['send', '-s', 'mx.example.com:587', '--tls', '--auth', 'LOGIN', '--auth-user', 'me', '--to', 'a@example.com,b@example.com', '--header', 'X-Test: one two', '--quit-after', 'rcpt', '--expect', 'rcpt=550', '--print-swaks']);
    assert.equal(printed.code, 0, printed.stderr);
    assert.equal(
      printed.stdout,
      "swaks --server mx.example.com --port 587 --to a@example.com,b@example.com --tls --tls-verify --auth LOGIN --auth-user me --header 'X-Test: one two' --quit-after RCPT\n# swaks has no flag for: --expect rcpt=550\n",
    );
  });

  const bad: [string[], RegExp][] = [
    [['send'], /^smtpspec: send needs at least one --to address$/],
    [['send', '--to', 'a@b.test', '--expect', 'quit=250'], /^smtpspec: --expect expects STEP=REPLY with STEP one of greeting, ehlo, tls, auth, mail, rcpt, data, got "quit=250"$/],
    [['send', '--to', 'a@b.test', '--expect', 'rcpt=refused'], /^smtpspec: --expect rcpt=refused: expected a reply code/],
    [['send', '--to', 'a@b.test', '--quit-after', 'data'], /^smtpspec: --quit-after expects one of /],
    [['send', '--to', 'a@b.test', '--quit-after', 'tls'], /^smtpspec: --quit-after tls needs --tls/],
    [['send', '--to', 'a@b.test', '--tls', '--tls-on-connect'], /^smtpspec: use one of --tls, --tls-optional and --tls-on-connect$/],
    [['send', '--to', 'a@b.test', '--server', 'mx.example.com:99999'], /^smtpspec: --server expects HOST\[:PORT\], got "mx\.example\.com:99999"$/],
    [['send', '--to', 'a@b.test', '--auth', 'NTLM', '--auth-user', 'me'], /^smtpspec: --auth expects one of PLAIN, LOGIN, CRAM-MD5, XOAUTH2, got "NTLM"$/],
    [['send', '--to', 'a@b.test', '--embedded', '--auth', '--auth-user', 'me'], /^smtpspec: --auth needs the password: set SMTP_PASSWORD, or run on a terminal to type it$/],
    [['send', '--to', 'a@b.test', '--data', 'm.eml', '--body', 'hi'], /^smtpspec: --data sends a whole message file: it does not go with --header, --body or --attach$/],
    [['send', '--to', 'a@b.test', '--pipe', '"unclosed'], /^smtpspec: --pipe expects a command/],
  ];
  for (const [args, message] of bad) {
    test(`${args.slice(1).join(' ') || '(no flags)'}: one sentence, exit 2`, async () => {
      const result = await cli(args);
      assert.equal(result.code, 2, result.stdout + result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr.split('\n')[0]!, message);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack');
    });
  }
});
