import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SMTPServerAuthentication } from 'smtp-server';
import type { CaseResult } from '../../src/engine/results.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { runAll, statuses, tcp, why } from './fixtures/inline.js';
import { GENEROUS } from '../helpers/deadlines.js';

const USER = 'alice';
const PASSWORD = 'correct horse';
const TOKEN = 'ya29.token-of-alice';

/** smtp-server's verdict on each attempt: PLAIN and LOGIN by password, CRAM-MD5 by its challenge, XOAUTH2 by token. */
function verdict(auth: SMTPServerAuthentication): boolean {
  if (auth.username !== USER) return false;
  switch (auth.method) {
    case 'CRAM-MD5':
      return auth.validatePassword(PASSWORD);
    case 'XOAUTH2':
      return auth.accessToken === TOKEN;
    default:
      return auth.password === PASSWORD;
  }
}

let server: TestServer;
const attempts: string[] = [];
before(async () => {
  server = await startTestServer({
    name: 'mx.test',
    authMethods: ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'],
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      attempts.push(`${auth.method} ${auth.username}`);
      if (verdict(auth)) return callback(null, { user: auth.username });
      if (auth.method === 'XOAUTH2') return callback(null, { data: { status: '401', schemes: 'bearer', scope: 'mail' } });
      return callback(new Error('Invalid username or password'));
    },
  });
});
after(() => server.close());

/** One case per line of `auth` settings: greeting, EHLO, the AUTH step with its expectation, then NOOP. */
function authCases(cases: [name: string, auth: string, expect: string | number][]): string {
  const body = cases
    .map(
      ([name, auth, expect]) => `
  - name: ${name}
    steps:
      - send: EHLO client.test
        expect: 250
        capabilities: { has: ["AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2"] }
      - auth: ${auth}
        expect: ${expect}
      - send: NOOP
        expect: 250`,
    )
    .join('');
  return `timeout: ${GENEROUS}\nvars: { user: ${USER} }\ncases:${body}\n`;
}

async function runAuth(cases: [string, string, string | number][], env: Record<string, string> = {}): Promise<CaseResult[]> {
  return runAll(authCases(cases), tcp(server), { env });
}

describe('AUTH through the engine against smtp-server', () => {
  test('each mechanism with the right credentials gets 235', async () => {
    attempts.length = 0;
    const results = await runAuth([
      ['plain', `{ mechanism: PLAIN, username: "\${user}", password: "${PASSWORD}" }`, '235 2.7.0'],
      ['plain without initial response', `{ mechanism: PLAIN, username: "\${user}", password: "${PASSWORD}", initial_response: false }`, 235],
      ['login', `{ mechanism: LOGIN, username: "\${user}", password: "${PASSWORD}" }`, 235],
      ['cram-md5', `{ mechanism: CRAM-MD5, username: "\${user}", password: "${PASSWORD}" }`, 235],
      ['xoauth2', `{ mechanism: XOAUTH2, username: "\${user}", token: "${TOKEN}" }`, 235],
    ]);
    for (const result of results) {
      assert.equal(result.status, 'passed', `${result.caseName}: ${why(result)}`);
      assert.equal(result.steps[1]!.reply?.code, 235, result.caseName);
    }
    assert.deepEqual(attempts, ['PLAIN alice', 'PLAIN alice', 'LOGIN alice', 'CRAM-MD5 alice', 'XOAUTH2 alice']);
    // The whole exchange is kept: LOGIN answers two challenges, CRAM-MD5 one.
    assert.deepEqual(results[2]!.steps[1]!.replies?.map((r) => r.code), [334, 334, 235]);
    assert.deepEqual(results[3]!.steps[1]!.replies?.map((r) => r.code), [334, 235]);
    assert.equal(results[0]!.steps[1]!.replies, undefined, 'one reply is not repeated as a list');
  });

  test('wrong credentials fail the step with the server\'s refusal', async () => {
    const results = await runAuth([
      ['plain', `{ mechanism: PLAIN, username: "\${user}", password: wrong }`, 235],
      ['login', `{ mechanism: LOGIN, username: "\${user}", password: wrong }`, 235],
      ['cram-md5', `{ mechanism: CRAM-MD5, username: "\${user}", password: wrong }`, 235],
      ['xoauth2', `{ mechanism: XOAUTH2, username: "\${user}", token: expired-token }`, 235],
    ]);
    for (const result of results) {
      assert.equal(result.status, 'failed', result.caseName);
      assert.deepEqual(statuses(result), ['passed', 'failed', 'skipped'], result.caseName);
      assert.equal(result.failure?.kind, 'expectation');
      assert.equal(result.steps[1]!.reply?.code, 535, result.caseName);
      // The user name is not secret: the label shows it.
      assert.match(result.failure!.message, /^step 2 \(auth [A-Z0-9-]+ as alice\): expected 235, got 535 5\.7\.8/, result.caseName);
    }
    // XOAUTH2: the token goes with the command; the JSON error challenge gets an empty answer, then 535.
    assert.deepEqual(results[3]!.steps[1]!.replies?.map((r) => r.code), [334, 535]);
    const sent = results[3]!.transcript.filter((e) => e.dir === 'C').map((e) => e.text);
    assert.deepEqual(sent.slice(-2), ['AUTH XOAUTH2 ****', '']);
  });

  test('a refusal the file expects passes', async () => {
    const [result] = await runAuth([['expected refusal', `{ mechanism: PLAIN, username: "\${user}", password: wrong }`, '535 5.7.8']]);
    assert.equal(result!.status, 'passed', why(result!));
  });

  test('cancel: true answers the challenge with * and the server replies 501', async () => {
    const results = await runAuth([
      ['cancel login', `{ mechanism: LOGIN, username: "\${user}", password: "${PASSWORD}", cancel: true }`, 501],
      ['cancel cram-md5', `{ mechanism: CRAM-MD5, username: "\${user}", password: "${PASSWORD}", cancel: true }`, '501 5.5.x'],
    ]);
    for (const result of results) {
      assert.equal(result.status, 'passed', `${result.caseName}: ${why(result)}`);
      const sent = result.transcript.filter((e) => e.dir === 'C').map((e) => e.text);
      assert.ok(sent.includes('*'), sent.join(' / '));
      assert.deepEqual(result.steps[1]!.replies?.map((r) => r.code), [334, 501]);
    }
    assert.equal(results[0]!.steps[1]!.sent, 'AUTH LOGIN');
  });

  test('credentials from ${env:…} are sent, and shown masked; the user name is shown', async () => {
    const env = { SMTP_USER: USER, SMTP_PASSWORD: PASSWORD, SMTP_TOKEN: TOKEN };
    const results = await runAuth(
      [
        ['plain from env', '{ mechanism: PLAIN, username: "${env:SMTP_USER}", password: "${env:SMTP_PASSWORD}" }', 235],
        ['xoauth2 from env', '{ mechanism: XOAUTH2, username: "${env:SMTP_USER}", token: "${env:SMTP_TOKEN}" }', 235],
      ],
      env,
    );
    for (const result of results) {
      assert.equal(result.status, 'passed', `${result.caseName}: ${why(result)}`);
      const text = JSON.stringify(result);
      for (const secret of [PASSWORD, TOKEN]) assert.ok(!text.includes(secret), `${result.caseName} shows ${secret}`);
      assert.ok(result.steps[1]!.label.endsWith(`as ${USER}`), result.steps[1]!.label);
    }
  });
});
