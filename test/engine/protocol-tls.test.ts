import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VERIFY_OFF_WARNING } from '../../src/engine/case-progress.js';
import { CA_NAME, CLIENT_NAME, testCertificates, type TestCertificates } from '../helpers/certs.js';
import { clientCertificateRequired, serverTls } from '../helpers/server-tls.js';
import { fakeServer } from '../helpers/fake-server.js';
import { startTestServer, type TestServer, type TestServerOptions } from '../helpers/test-server.js';
import { q, runInline, statuses, tcp, why } from './fixtures/inline.js';
import { assertWaitedFor, GENEROUS } from '../helpers/deadlines.js';

let certs: TestCertificates;
const servers: TestServer[] = [];

async function server(options: TestServerOptions): Promise<TestServer> {
  const started = await startTestServer({ name: 'mx.test', ...options });
  servers.push(started);
  return started;
}

before(async () => {
  certs = await testCertificates();
});
after(() => Promise.all(servers.map((s) => s.close())));

/** A file-level `tls:` block and a case that upgrades with STARTTLS, then the given steps. */
function starttlsCase(tls: string, ...after: string[]): string {
  return `
timeout: ${GENEROUS}
tls: ${tls}
cases:
  - name: upgrade
    steps:
      - expect: 220
      - send: EHLO client.test
        expect: 250
        capabilities: { has: [STARTTLS] }
      - starttls: true
${after.map((line) => `      ${line}`).join('\n')}
`;
}

describe('STARTTLS through the engine', () => {
  let good: TestServer;
  before(async () => {
    good = await server(serverTls(certs.server));
  });

  test('with the CA: passed, the TLS session recorded, capabilities forgotten until a new EHLO', async () => {
    const result = await runInline(
      starttlsCase(
        `{ ca: ${q(certs.ca.certPath)} }`,
        '- send: NOOP',
        '  when: { capability: STARTTLS }',
        '- send: EHLO client.test',
        '  expect: 250',
        '  capabilities: { lacks: [STARTTLS] }',
        '- send: NOOP',
        '  when: { capability: PIPELINING }',
        '  expect: 250',
        '- send: QUIT',
        '  expect: 221',
      ),
      tcp(good),
    );
    assert.equal(result.status, 'passed', why(result));
    assert.deepEqual(statuses(result), ['passed', 'passed', 'passed', 'skipped', 'passed', 'passed', 'passed']);
    const upgrade = result.steps[2]!;
    assert.equal(upgrade.reply?.code, 220);
    assert.equal(upgrade.tls?.verified, true);
    assert.equal(upgrade.tls?.subject, 'CN=localhost');
    assert.equal(upgrade.tls?.issuer, `CN=${CA_NAME}`);
    assert.match(upgrade.tls?.protocol ?? '', /^TLSv1\.[23]$/);
    assert.equal(result.steps[3]!.message, 'condition not met: capability STARTTLS');
    assert.equal(result.steps[1]!.tls, undefined, 'no TLS facts before the upgrade');
    assert.deepEqual(result.tls, upgrade.tls);
    assert.equal(result.warnings, undefined);
    const sent = result.transcript.filter((e) => e.dir === 'C').map((e) => e.text);
    assert.deepEqual(sent, ['EHLO client.test', 'STARTTLS', 'EHLO client.test', 'NOOP', 'QUIT'], 'the skipped NOOP was not sent');
  });

  test('without the CA: failed as a TLS error naming the reason; the QUIT of the case is not sent in clear', async () => {
    const result = await runInline(starttlsCase('{}', '- send: EHLO client.test', '- send: QUIT'), tcp(good));
    assert.equal(result.status, 'failed');
    assert.deepEqual(statuses(result), ['passed', 'passed', 'failed', 'skipped', 'skipped']);
    assert.equal(result.failure?.kind, 'tls');
    assert.equal(result.failure?.stepIndex, 2);
    assert.match(result.failure!.message, /^step 3 \(starttls\): certificate verification failed: unable to (verify the first certificate|get the local issuer certificate)/);
    assert.equal(result.tls, undefined);
    assert.ok(!result.transcript.some((e) => e.dir === 'C' && e.text === 'QUIT'));
  });

  test('verify: false passes, and the case carries the verification-off warning', async () => {
    const result = await runInline(starttlsCase('{ verify: false }', '- send: EHLO client.test', '  expect: 250'), tcp(good));
    assert.equal(result.status, 'passed', why(result));
    assert.deepEqual(result.warnings, [VERIFY_OFF_WARNING]);
    assert.equal(result.tls?.verified, false);
    assert.match(result.tls?.authorizationError ?? '', /unable to/);
  });

  test('an expired certificate is a TLS failure that says so', async () => {
    const expired = await server(serverTls(certs.expired));
    const result = await runInline(starttlsCase(`{ ca: ${q(certs.ca.certPath)} }`), tcp(expired));
    assert.equal(result.status, 'failed');
    assert.equal(result.failure?.kind, 'tls');
    assert.equal(result.steps[2]!.message, 'certificate verification failed: certificate has expired (CERT_HAS_EXPIRED)');
  });

  test('valid_for_days beyond the certificate fails the step with the days left', async () => {
    const result = await runInline(starttlsCase(`{ ca: ${q(certs.ca.certPath)} }`, '  tls: { valid_for_days: 400 }'), tcp(good));
    assert.equal(result.status, 'failed');
    assert.equal(result.failure?.kind, 'expectation');
    // The certificate ends 365 days after it was made, a moment ago: 364 whole days are left.
    assert.match(result.steps[2]!.message ?? '', /^TLS: the certificate expires in 36[45] days \(\d{4}-\d\d-\d\d\), fewer than 400$/);
    assert.equal(result.steps[2]!.tls?.verified, true, 'the facts are kept on the failed step');
    const enough = await runInline(starttlsCase(`{ ca: ${q(certs.ca.certPath)} }`, '  tls: { valid_for_days: 300 }'), tcp(good));
    assert.equal(enough.status, 'passed', why(enough));
  });

  test('a hostname assertion the certificate does not cover fails, naming the names it holds', async () => {
    const result = await runInline(starttlsCase(`{ ca: ${q(certs.ca.certPath)} }`, '  tls: { hostname: mx.example.com }'), tcp(good));
    assert.equal(result.status, 'failed');
    assert.equal(result.failure?.kind, 'expectation');
    assert.equal(result.steps[2]!.message, 'TLS: the certificate is for "localhost" or "127.0.0.1", not "mx.example.com"');
  });

  test('a servername the certificate does not cover fails the handshake check', async () => {
    const result = await runInline(starttlsCase(`{ ca: ${q(certs.ca.certPath)}, servername: mx.example.com }`), tcp(good));
    assert.equal(result.failure?.kind, 'tls');
    assert.equal(result.steps[2]!.message, 'certificate verification failed: the certificate is for "localhost" or "127.0.0.1", not "mx.example.com"');
  });

  test('min_version TLSv1.3, issuer and subject assertions pass against a modern server', async () => {
    const result = await runInline(
      starttlsCase(`{ ca: ${q(certs.ca.certPath)} }`, `  tls: { min_version: TLSv1.3, issuer: "/${CA_NAME}/", subject: CN=localhost, hostname: localhost }`),
      tcp(good),
    );
    assert.equal(result.status, 'passed', why(result));
    assert.equal(result.steps[2]!.tls?.protocol, 'TLSv1.3');
  });

  test('the latency of a STARTTLS step is the wait for the 220, not the handshake after it', async () => {
    // The server takes its time to pick a certificate for the name the client asks for: the
    // handshake, which starts once the 220 has come, takes at least that long.
    const PICK_MS = 500;
    const slow = await server({
      ...serverTls(certs.server),
      SNICallback: (_name, callback) => void setTimeout(() => callback(null, undefined), PICK_MS),
    });
    const result = await runInline(starttlsCase(`{ ca: ${q(certs.ca.certPath)}, servername: localhost }`), tcp(slow));
    assert.equal(result.status, 'passed', why(result));
    const upgrade = result.steps[2]!;
    assert.equal(typeof upgrade.latencyMs, 'number');
    // The step lasts its latency, then the handshake: a latency that took the handshake in would leave no such gap.
    assertWaitedFor(upgrade.durationMs - upgrade.latencyMs!, PICK_MS, `the step (${upgrade.durationMs} ms) after its latency (${upgrade.latencyMs} ms)`);
  });

  test('a server that answers STARTTLS with 454 fails the expectation without a handshake', async () => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 fake ESMTP\r\n');
      await s.nextLine();
      await s.write('250-fake\r\n250 STARTTLS\r\n');
      await s.nextLine();
      await s.write('454 4.7.0 TLS not available\r\n');
    });
    try {
      const result = await runInline(starttlsCase('{}'), tcp(fake));
      assert.equal(result.failure?.kind, 'expectation');
      assert.equal(result.steps[2]!.message, 'expected 220, got 454 4.7.0 TLS not available');
      assert.equal(result.tls, undefined);
    } finally {
      await fake.close();
    }
  });
});

describe('STARTTLS response injection', () => {
  test('bytes after the 220 fail the case as a protocol error and nothing more is sent', async () => {
    let afterStarttls: Promise<string | undefined> | undefined;
    const fake = await fakeServer(async (s) => {
      await s.write('220 fake ESMTP\r\n');
      await s.nextLine();
      await s.write('250-fake\r\n250 STARTTLS\r\n');
      await s.nextLine();
      await s.write('220 go ahead\r\n250 injected\r\n');
      afterStarttls = s.nextLine();
      await s.closed;
    });
    try {
      const result = await runInline(starttlsCase(`{ ca: ${q(certs.ca.certPath)} }`, '- send: EHLO client.test', '- send: QUIT'), tcp(fake));
      assert.equal(result.status, 'failed');
      assert.equal(result.failure?.kind, 'protocol');
      assert.match(result.failure!.message, /^step 3 \(starttls\): server sent data before the TLS handshake/);
      assert.deepEqual(statuses(result), ['passed', 'passed', 'failed', 'skipped', 'skipped']);
      await fake.done();
      assert.equal(await afterStarttls, undefined, 'the client closed without sending anything more');
      assert.equal(fake.receivedBytes().toString('latin1'), 'EHLO client.test\r\nSTARTTLS\r\n');
    } finally {
      await fake.close();
    }
  });
});

describe('implicit TLS and client certificates', () => {
  test('implicit TLS: the greeting is read inside TLS and the case records the session', async () => {
    const secure = await server({ secure: true, ...serverTls(certs.server) });
    const result = await runInline(
      `
timeout: ${GENEROUS}
tls: { implicit: true, ca: ${q(certs.ca.certPath)} }
cases:
  - name: submissions
    steps:
      - expect: 220
        text: mx.test
        tls: { min_version: TLSv1.2 }
      - send: EHLO client.test
        expect: 250
        capabilities: { lacks: [STARTTLS] }
      - send: QUIT
        expect: 221
`,
      tcp(secure),
    );
    assert.equal(result.status, 'passed', why(result));
    assert.equal(result.tls?.verified, true);
    assert.equal(result.tls?.subject, 'CN=localhost');
    assert.deepEqual(result.steps[0]!.tls, result.tls);
    const notes = result.transcript.map((e) => `${e.dir}: ${e.text}`);
    const tlsNote = notes.findIndex((text) => text.startsWith('*: TLS TLSv1.'));
    const greeting = notes.findIndex((text) => text.startsWith('S: 220'));
    assert.ok(tlsNote !== -1 && tlsNote < greeting, notes.join('\n'));
  });

  test('implicit TLS against a self-signed certificate fails the session start as a TLS error', async () => {
    const selfSigned = await server({ secure: true, ...serverTls(certs.selfSigned) });
    const result = await runInline(
      `timeout: ${GENEROUS}\ntls: { implicit: true, ca: ${q(certs.ca.certPath)} }\ncases:\n  - name: s\n    steps:\n      - expect: 220\n      - send: QUIT\n`,
      tcp(selfSigned),
    );
    assert.equal(result.status, 'failed');
    assert.equal(result.failure?.kind, 'tls');
    assert.equal(result.steps[0]!.message, 'cannot start the session: certificate verification failed: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)');
    assert.deepEqual(statuses(result), ['failed', 'skipped']);
  });

  describe('a server that requires a client certificate', () => {
    let strict: TestServer;
    let clientName: string | undefined;
    before(async () => {
      strict = await server(clientCertificateRequired(certs, (client) => (clientName = client.name)));
    });

    test('the certificate and key from the file are presented', async () => {
      clientName = undefined;
      const tls = `{ ca: ${q(certs.ca.certPath)}, cert: ${q(certs.client.certPath)}, key: ${q(certs.client.keyPath)} }`;
      const result = await runInline(starttlsCase(tls, '- send: EHLO client.test', '  expect: 250'), tcp(strict));
      assert.equal(result.status, 'passed', why(result));
      assert.equal(clientName, CLIENT_NAME);
    });

    test('without one the session ends with a TLS failure', async () => {
      const result = await runInline(starttlsCase(`{ ca: ${q(certs.ca.certPath)} }`, '- send: EHLO client.test', '  expect: 250'), tcp(strict));
      assert.equal(result.status, 'failed');
      assert.equal(result.failure?.kind, 'tls');
      assert.match(result.failure!.message, /certificate required/);
    });
  });
});
