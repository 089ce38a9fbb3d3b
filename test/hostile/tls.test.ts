import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { testCertificates, type TestCertificates } from '../helpers/certs.js';
import { serverTls } from '../helpers/server-tls.js';
import { assertWaitedFor, GENEROUS, PROMPTLY_MS } from '../helpers/deadlines.js';
import { fakeServer, type FakeSession } from '../helpers/fake-server.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { assertCause, assertWithin, at, healthyServer, runThenHealthy, type HostileRun } from './fixtures/harness.js';

/**
 * TLS that goes wrong. test/engine/protocol-tls.test.ts already covers STARTTLS against an
 * untrusted or expired certificate, a wrong name, response injection after the 220 and
 * implicit TLS against a self-signed certificate; these are the cases it leaves out.
 */

let healthy: TestServer;
let certs: TestCertificates;
before(async () => {
  [healthy, certs] = await Promise.all([healthyServer(), testCertificates()]);
});
after(() => healthy.close());

/** `handshake` is the deadline of the STARTTLS step: for the 220, then for the handshake. */
function starttls(target: string, { tls = '{}', handshake = GENEROUS } = {}): string {
  return `
target: ${target}
timeout: ${GENEROUS}
tls: ${tls}
cases:
  - name: upgrade
    steps:
      - expect: 220
      - send: EHLO client.test
        expect: 250
      - starttls: true
        timeout: ${handshake}
      - send: EHLO client.test
        expect: 250
      - send: QUIT
`;
}

/** `timeout` is the file's deadline, which is also the one to connect and shake hands. */
function implicit(target: string, tls: string, timeout = GENEROUS): string {
  return `
target: ${target}
timeout: ${timeout}
tls: ${tls}
cases:
  - name: submissions
    steps:
      - expect: 220
      - send: QUIT
`;
}

/** Plays the server up to its 220 to STARTTLS, then waits for the first bytes of the client's handshake. */
async function upToHandshake(s: FakeSession): Promise<void> {
  await s.write('220 fake.test ESMTP\r\n');
  await s.nextLine();
  await s.write('250-fake.test\r\n250 STARTTLS\r\n');
  await s.nextLine();
  const hello = once(s.socket, 'data');
  await s.write('220 2.0.0 go ahead\r\n');
  await hello;
}

/** The 220 to STARTTLS arrived before the handshake failed: the step and every report show it, not "no reply". */
function assertShowsGoAhead(run: HostileRun): void {
  const step = run.cases[0]!.steps[2]!;
  assert.equal(step.sent, 'STARTTLS');
  assert.deepEqual(step.reply, { code: 220, enhanced: '2.0.0', lines: ['2.0.0 go ahead'] });
  assert.match(run.console, /\n +expected: 220\n +got: +220 2\.0\.0 go ahead\n/);
  assert.doesNotMatch(run.console, /no reply/);
  assert.match(run.tap, /got:\n\s+- "220 2\.0\.0 go ahead"\n/);
  assert.match(run.junit, /\ngot: 220 2\.0\.0 go ahead]]><\/failure>/);
}

describe('STARTTLS', () => {
  test('garbage instead of a handshake after the 220: a TLS failure naming what OpenSSL saw', async (t) => {
    const fake = await fakeServer(async (s) => {
      await upToHandshake(s);
      await s.write('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    });
    t.after(() => fake.close());
    const run = await runThenHealthy(starttls(at(fake)), healthy);
    assertCause(run.cases[0]!, { status: 'failed', kind: 'tls', message: /^step 3 \(starttls\): TLS handshake failed: the server did not answer with TLS \(OpenSSL: wrong version number\)$/ });
    assert.ok(!fake.received.includes('QUIT'), 'the QUIT of the case is not sent in clear after a failed upgrade');
    assertShowsGoAhead(run);
  });

  test('no answer to the handshake: the handshake deadline, not a reply timeout', async (t) => {
    const fake = await fakeServer(upToHandshake);
    t.after(() => fake.close());
    const run = await runThenHealthy(starttls(at(fake), { handshake: '300ms' }), healthy);
    const [result] = run.cases;
    assertCause(result!, { status: 'error', kind: 'timeout', message: /^step 3 \(starttls\): TLS handshake did not finish within 300 ms$/ });
    assertWaitedFor(result!.steps[2]!.durationMs, 300, 'the STARTTLS step');
    assertWithin(result!.durationMs, PROMPTLY_MS, 'the case');
  });

  test('a close in the middle of the handshake', async (t) => {
    const fake = await fakeServer(async (s) => {
      await upToHandshake(s);
      s.end();
    });
    t.after(() => fake.close());
    const run = await runThenHealthy(starttls(at(fake)), healthy);
    assertCause(run.cases[0]!, { status: 'failed', kind: 'tls', message: /^step 3 \(starttls\): TLS handshake failed: the server closed the connection$/ });
    assertShowsGoAhead(run);
  });
});

describe('implicit TLS', () => {
  test('a server that answers in clear text: the session does not start', async (t) => {
    const fake = await fakeServer((s) => s.write('220 fake.test ESMTP plain text\r\n'));
    t.after(() => fake.close());
    const run = await runThenHealthy(implicit(at(fake), '{ implicit: true }'), healthy);
    assertCause(run.cases[0]!, {
      status: 'failed',
      kind: 'tls',
      message: /^step 1 \(greeting\): cannot start the session: TLS handshake failed: the server did not answer with TLS \(OpenSSL: (wrong version number|packet length too long)\)$/,
    });
  });

  test('a server that never answers the handshake: the connect deadline covers it', async (t) => {
    const fake = await fakeServer(() => {});
    t.after(() => fake.close());
    const run = await runThenHealthy(implicit(at(fake), '{ implicit: true }', '300ms'), healthy);
    const [result] = run.cases;
    assertCause(result!, { status: 'error', kind: 'timeout', message: /^step 1 \(greeting\): cannot start the session: TLS handshake did not finish within 300 ms$/ });
    assertWaitedFor(result!.durationMs, 300, 'the case');
    assertWithin(result!.durationMs, PROMPTLY_MS, 'the case');
  });

  test('an expired certificate', async (t) => {
    const server = await startTestServer({ secure: true, ...serverTls(certs.expired) });
    t.after(() => server.close());
    const run = await runThenHealthy(implicit(at(server), `{ implicit: true, ca: ${JSON.stringify(certs.ca.certPath)} }`), healthy);
    assertCause(run.cases[0]!, {
      status: 'failed',
      kind: 'tls',
      message: /^step 1 \(greeting\): cannot start the session: certificate verification failed: certificate has expired \(CERT_HAS_EXPIRED\)$/,
    });
  });

  test('a certificate from an issuer nobody trusts', async (t) => {
    const server = await startTestServer({ secure: true, ...serverTls(certs.server) });
    t.after(() => server.close());
    const run = await runThenHealthy(implicit(at(server), '{ implicit: true }'), healthy);
    assertCause(run.cases[0]!, {
      status: 'failed',
      kind: 'tls',
      message: /^step 1 \(greeting\): cannot start the session: certificate verification failed: unable to (verify the first certificate: its issuer is neither in the chain the server sent nor trusted here \(an intermediate certificate the server does not send, or a private CA to trust with --ca\)|get the local issuer certificate) \(UNABLE_TO_\w+\)$/,
    });
  });
});
