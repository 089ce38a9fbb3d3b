import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'selfsigned';
import { testCertificates } from '../helpers/certs.js';
import { failures, goodServer, outcomes, runCheck } from './fixtures/checks.js';

const DAY_MS = 86_400_000;

/** A certificate from the test CA for 127.0.0.1 that expires in `days` days. */
async function expiringIn(days: number): Promise<{ cert: string; key: string }> {
  const certs = await testCertificates();
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: certs.ca.key, cert: certs.ca.cert },
    notBeforeDate: new Date(now - 300 * DAY_MS),
    notAfterDate: new Date(now + days * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

describe('check starttls', { concurrency: true }, () => {
  test('passes against a server with STARTTLS and a certificate the run trusts', async (t) => {
    const { server, ca } = await goodServer(t);
    const result = await runCheck('starttls', server, { ca: [ca] });
    assert.deepEqual(outcomes(result), ['passed']);
    assert.equal(result.cases[0]?.tls?.verified, true);
  });

  test('fails at EHLO when STARTTLS is not offered', async (t) => {
    const { server, ca } = await goodServer(t, { hideSTARTTLS: true });
    const result = await runCheck('starttls', server, { ca: [ca] });
    assert.deepEqual(outcomes(result), ['failed at step 2']);
    assert.match(failures(result)[0]!, /STARTTLS/);
  });

  test('fails at the handshake when the certificate does not verify', async (t) => {
    const { server } = await goodServer(t);
    const result = await runCheck('starttls', server);
    assert.deepEqual(outcomes(result), ['failed at step 3']);
    assert.equal(result.cases[0]?.failure?.kind, 'tls');
  });

  test('fails when the certificate expires within 14 days', async (t) => {
    const { server, ca } = await goodServer(t, await expiringIn(5));
    const result = await runCheck('starttls', server, { ca: [ca] });
    assert.deepEqual(outcomes(result), ['failed at step 3']);
    assert.match(failures(result)[0]!, /expires in [45] days? .*fewer than 14/);
    const relaxed = await runCheck('starttls', server, { ca: [ca], vars: { min_days: '3' } });
    assert.deepEqual(outcomes(relaxed), ['passed']);
  });
});

describe('check auth-after-tls', { concurrency: true }, () => {
  test('passes against a server that offers AUTH only after STARTTLS; the second case is opt-in', async (t) => {
    const { server, ca } = await goodServer(t);
    const result = await runCheck('auth-after-tls', server, { ca: [ca] });
    assert.deepEqual(outcomes(result), ['passed', 'skipped']);
    assert.match(result.cases[1]?.skipReason ?? '', /auth_after_tls/);
    const both = await runCheck('auth-after-tls', server, { ca: [ca], vars: { auth_after_tls: 'true' } });
    assert.deepEqual(outcomes(both), ['passed', 'passed']);
  });

  test('fails when AUTH PLAIN or LOGIN is offered before TLS', async (t) => {
    const { server, ca } = await goodServer(t, { onConnect: (_session, callback) => callback() });
    const result = await runCheck('auth-after-tls', server, { ca: [ca] });
    assert.deepEqual(outcomes(result), ['failed at step 2', 'skipped']);
    assert.match(failures(result)[0]!, /^step 2 \(send: EHLO smtpspec\.invalid\): .*AUTH PLAIN/);
  });

  test('passes when only a challenge-response mechanism is offered before TLS (RFC 4954 §4 allows it)', async (t) => {
    const { server, ca } = await goodServer(t, { authMethods: ['CRAM-MD5'], onConnect: (_session, callback) => callback() });
    assert.deepEqual(outcomes(await runCheck('auth-after-tls', server, { ca: [ca] })), ['passed', 'skipped']);
  });

  test('with auth_after_tls=true, fails when AUTH is not offered after STARTTLS either', async (t) => {
    const { server, ca } = await goodServer(t, {
      disabledCommands: ['AUTH'],
      onConnect: (_session, callback) => callback(),
      onSecure: (_socket, _session, callback) => callback(),
    });
    const result = await runCheck('auth-after-tls', server, { ca: [ca], vars: { auth_after_tls: 'true' } });
    assert.deepEqual(outcomes(result), ['passed', 'failed at step 4']);
    assert.match(failures(result)[0]!, /AUTH/);
  });
});
