import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { SMTPServerAuthentication } from 'smtp-server';
import { testCertificates } from '../helpers/certs.js';
import { serverTls } from '../helpers/server-tls.js';
import { startTestServer } from '../helpers/test-server.js';
import { assertAllPassed, example, runExample, stepStatuses } from './fixtures/examples.js';

const USER = 'submitter@example.test';
const PASSWORD = 'correct horse battery staple';

/** A submissions server: TLS from the first byte with a certificate from the test CA, AUTH PLAIN for one account. */
async function submissionsServer(t: TestContext) {
  const certs = await testCertificates();
  const logins: Pick<SMTPServerAuthentication, 'method' | 'username' | 'password'>[] = [];
  const server = await startTestServer({
    secure: true,
    ...serverTls(certs.server),
    onAuth({ method, username, password }, _session, callback) {
      logins.push({ method, username, password });
      if (username === USER && password === PASSWORD) return callback(null, { user: username });
      callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
    },
  });
  t.after(() => server.close());
  return { server, logins, ca: certs.ca.certPath };
}

describe('examples/implicit-tls.yaml', () => {
  test('passes against a server with implicit TLS, and the credentials appear in no result', async (t) => {
    const { server, logins, ca } = await submissionsServer(t);
    const result = await runExample(example('implicit-tls.yaml'), {
      env: { SMTP_USER: USER, SMTP_PASSWORD: PASSWORD },
      ca: [ca],
      target: { host: server.host, port: server.port },
    });
    assertAllPassed(result);
    assert.deepEqual(logins, [{ method: 'PLAIN', username: USER, password: PASSWORD }]);
    const kase = result.cases[0]!;
    assert.equal(kase.tls?.verified, true);
    assert.equal(kase.steps[0]?.tls?.protocol, 'TLSv1.3', 'the greeting step reports the TLS session');
    const everything = JSON.stringify(result);
    for (const secret of [PASSWORD, Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64')]) {
      assert.ok(!everything.includes(secret), `"${secret}" is masked`);
    }
    assert.ok(everything.includes(`as ${USER}`), 'the user name is not secret');
  });

  test('a wrong password fails the case at the AUTH step, still masked', async (t) => {
    const { server, ca } = await submissionsServer(t);
    const wrong = 'not the password';
    const result = await runExample(example('implicit-tls.yaml'), {
      env: { SMTP_USER: USER, SMTP_PASSWORD: wrong },
      ca: [ca],
      target: { host: server.host, port: server.port },
    });
    const kase = result.cases[0]!;
    assert.equal(kase.status, 'failed');
    assert.match(kase.failure?.message ?? '', /^step 3 \(.*\): expected 235, got 535/);
    assert.deepEqual(stepStatuses(kase), ['passed', 'passed', 'failed', 'skipped']);
    assert.ok(!JSON.stringify(result).includes(wrong));
  });

  test('a server whose certificate the client cannot verify fails the session before the greeting', async (t) => {
    const { server } = await submissionsServer(t);
    const result = await runExample(example('implicit-tls.yaml'), {
      env: { SMTP_USER: USER, SMTP_PASSWORD: PASSWORD },
      target: { host: server.host, port: server.port },
    });
    const kase = result.cases[0]!;
    assert.equal(kase.failure?.kind, 'tls');
    assert.match(kase.failure?.message ?? '', /certificate verification failed/);
  });
});
