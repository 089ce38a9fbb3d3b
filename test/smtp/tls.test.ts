import { before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { connect, type SmtpConnection } from '../../src/smtp/client.js';
import { certificateMatchesName, type TlsClientOptions } from '../../src/smtp/tls.js';
import { Transcript } from '../../src/smtp/transcript.js';
import type { TlsFacts } from '../../src/smtp/types.js';
import { CA_NAME, CLIENT_NAME, testCertificates, type TestCertificates } from '../helpers/certs.js';
import { clientCertificateRequired, serverTls } from '../helpers/server-tls.js';
import { fakeServer, type FakeScript, type FakeServer } from '../helpers/fake-server.js';
import { startTestServerFor, type TestServerOptions } from '../helpers/test-server.js';
import { openFor } from '../helpers/connections.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';

/** The deadline of every wait the test does not mean to reach. */
const TIMEOUT_MS = GENEROUS_MS;

let certs: TestCertificates;
before(async () => {
  certs = await testCertificates();
});

function notes(transcript: Transcript): string[] {
  return transcript.entries.filter((entry) => entry.dir === '*').map((entry) => entry.text);
}

const server = (t: TestContext, options: TestServerOptions) => startTestServerFor(t, { name: 'mx.test', ...options });
const open = openFor;

/** Greeting, EHLO, STARTTLS and its 220: everything up to the handshake. */
async function upToHandshake(conn: SmtpConnection): Promise<void> {
  assert.equal((await conn.readReply(TIMEOUT_MS)).code, 220);
  await conn.sendLine('EHLO client.test');
  const ehlo = await conn.readReply(TIMEOUT_MS);
  assert.ok(ehlo.lines.includes('STARTTLS'));
  await conn.sendLine('STARTTLS');
  assert.equal((await conn.readReply(TIMEOUT_MS)).code, 220);
}

async function ehloLines(conn: SmtpConnection): Promise<readonly string[]> {
  await conn.sendLine('EHLO client.test');
  const reply = await conn.readReply(TIMEOUT_MS);
  assert.equal(reply.code, 250);
  return reply.lines;
}

describe('STARTTLS against smtp-server', () => {
  test('with the CA given: verified, the facts filled, and the session goes on inside TLS', async (t) => {
    const target = await server(t, serverTls(certs.server));
    const transcript = new Transcript();
    const conn = await open(t, target, { transcript });
    await upToHandshake(conn);
    const facts = await conn.startTls({ verify: true, ca: [certs.ca.certPath] }, TIMEOUT_MS);

    const x509 = new X509Certificate(certs.server.cert);
    assert.equal(facts.verified, true);
    assert.equal(facts.authorizationError, undefined);
    assert.match(facts.protocol, /^TLSv1\.[23]$/);
    assert.match(facts.cipher, /^TLS_/);
    assert.equal(facts.subject, 'CN=localhost');
    assert.equal(facts.issuer, `CN=${CA_NAME}`);
    assert.equal(facts.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1');
    assert.equal(facts.validTo, new Date(x509.validTo).toISOString());
    assert.equal(facts.validFrom, new Date(x509.validFrom).toISOString());
    assert.equal(facts.fingerprint256, x509.fingerprint256);
    assert.deepEqual(conn.tls, facts);
    assert.equal(conn.peerCertificate?.fingerprint256, x509.fingerprint256);

    const note = notes(transcript).find((text) => text.startsWith('TLS '));
    assert.equal(note, `TLS ${facts.protocol} ${facts.cipher}; subject CN=localhost; issuer CN=${CA_NAME}; valid until ${facts.validTo.replace('.000Z', 'Z')}; chain complete, 2 certificates`);
    // RFC 3207 §4.2: the server forgets the old session and no longer offers STARTTLS.
    const lines = await ehloLines(conn);
    assert.ok(!lines.includes('STARTTLS'));
  });

  test('without the CA the handshake is refused, naming the reason, and the session ends', async (t) => {
    const target = await server(t, serverTls(certs.server));
    const transcript = new Transcript();
    const conn = await open(t, target, { transcript });
    await upToHandshake(conn);
    await assert.rejects(conn.startTls({ verify: true }, TIMEOUT_MS), {
      kind: 'tls',
      phase: 'certificate',
      message: /^certificate verification failed: unable to (verify the first certificate: its issuer is neither in the chain the server sent nor trusted here \(an intermediate certificate the server does not send, or a private CA to trust with --ca\) \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)|get the local issuer certificate \(UNABLE_TO_GET_ISSUER_CERT_LOCALLY\))$/,
    });
    assert.equal(conn.isOpen, false);
    assert.equal(conn.tls, undefined);
    assert.match(notes(transcript).at(-1) ?? '', /^certificate verification failed: /);
    await assert.rejects(conn.sendLine('EHLO client.test'), { kind: 'tls' });
  });

  test('a self-signed certificate is named as such', async (t) => {
    const target = await server(t, serverTls(certs.selfSigned));
    const conn = await open(t, target);
    await upToHandshake(conn);
    await assert.rejects(conn.startTls({ verify: true, ca: [certs.ca.certPath] }, TIMEOUT_MS), {
      kind: 'tls',
      message: 'certificate verification failed: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)',
    });
  });

  test('an expired certificate is named as such', async (t) => {
    const target = await server(t, serverTls(certs.expired));
    const conn = await open(t, target);
    await upToHandshake(conn);
    await assert.rejects(conn.startTls({ verify: true, ca: [certs.ca.certPath] }, TIMEOUT_MS), {
      kind: 'tls',
      message: 'certificate verification failed: certificate has expired (CERT_HAS_EXPIRED)',
    });
  });

  test('a certificate for another name says which names it holds', async (t) => {
    const target = await server(t, serverTls(certs.server));
    const conn = await open(t, target);
    await upToHandshake(conn);
    await assert.rejects(conn.startTls({ verify: true, ca: [certs.ca.certPath], servername: 'mx.example.com' }, TIMEOUT_MS), {
      kind: 'tls',
      message: 'certificate verification failed: the certificate is for "localhost" or "127.0.0.1", not "mx.example.com"',
    });
  });

  test('the servername is sent as SNI; an IP address is checked but not sent', async (t) => {
    const seen: string[] = [];
    const target = await server(t, {
      ...serverTls(certs.server),
      SNICallback(servername, callback) {
        seen.push(servername);
        callback(null);
      },
    });
    const named = await open(t, target);
    await upToHandshake(named);
    assert.equal((await named.startTls({ verify: true, ca: [certs.ca.certPath], servername: 'localhost' }, TIMEOUT_MS)).verified, true);
    await ehloLines(named);
    const byAddress = await open(t, target);
    await upToHandshake(byAddress);
    assert.equal((await byAddress.startTls({ verify: true, ca: [certs.ca.certPath], servername: '127.0.0.1' }, TIMEOUT_MS)).verified, true);
    await ehloLines(byAddress);
    assert.deepEqual(seen, ['localhost']);
  });

  test('with verify off the session goes on and the would-be failure is reported', async (t) => {
    const target = await server(t, serverTls(certs.selfSigned));
    const transcript = new Transcript();
    const conn = await open(t, target, { transcript });
    await upToHandshake(conn);
    const facts = await conn.startTls({ verify: false }, TIMEOUT_MS);
    assert.equal(facts.verified, false);
    assert.equal(facts.authorizationError, 'self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)');
    assert.equal(facts.issuer, 'CN=localhost');
    assert.match(notes(transcript).find((text) => text.startsWith('TLS ')) ?? '', /; NOT VERIFIED: self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\)$/);
    await ehloLines(conn);
  });

  test('with verify off and a good certificate, verified is still false and no error is reported', async (t) => {
    const target = await server(t, serverTls(certs.server));
    const conn = await open(t, target);
    await upToHandshake(conn);
    const facts = await conn.startTls({ verify: false, ca: [certs.ca.certPath] }, TIMEOUT_MS);
    assert.equal(facts.verified, false);
    assert.equal(facts.authorizationError, undefined);
  });

  test('a client certificate is presented to a server that asks for one', async (t) => {
    let clientName: string | undefined;
    const target = await server(t, clientCertificateRequired(certs, (client) => (clientName = client.name)));
    const conn = await open(t, target);
    await upToHandshake(conn);
    const tls: TlsClientOptions = { verify: true, ca: [certs.ca.certPath], cert: certs.client.certPath, key: certs.client.keyPath };
    await conn.startTls(tls, TIMEOUT_MS);
    await ehloLines(conn);
    assert.equal(clientName, CLIENT_NAME);
  });

  test('a server that requires a client certificate and gets none ends the session with a TLS error', async (t) => {
    const target = await server(t, clientCertificateRequired(certs));
    const conn = await open(t, target);
    await upToHandshake(conn);
    // In TLS 1.3 the server refuses after the client has finished its side of the handshake.
    const refused = conn
      .startTls({ verify: true, ca: [certs.ca.certPath] }, TIMEOUT_MS)
      .then(() => conn.readReply(TIMEOUT_MS));
    await assert.rejects(refused, { kind: 'tls', message: /^(TLS error|TLS handshake failed): .*certificate required/ });
    assert.equal(conn.isOpen, false);
  });

  test('a missing CA file is named', async (t) => {
    const target = await server(t, serverTls(certs.server));
    const conn = await open(t, target);
    await upToHandshake(conn);
    await assert.rejects(conn.startTls({ verify: true, ca: ['/nonexistent/ca.pem'] }, TIMEOUT_MS), {
      kind: 'tls',
      message: 'cannot read the CA file /nonexistent/ca.pem: no such file',
    });
  });
});

describe('implicit TLS against smtp-server', () => {
  test('the handshake comes first and the greeting arrives inside TLS', async (t) => {
    const target = await server(t, { secure: true, ...serverTls(certs.server) });
    const transcript = new Transcript();
    const conn = await open(t, target, { transcript, tls: { implicit: true, verify: true, ca: [certs.ca.certPath] } });
    assert.equal(conn.tls?.verified, true);
    const greeting = await conn.readReply(TIMEOUT_MS);
    assert.equal(greeting.code, 220);
    const texts = transcript.entries.map((entry) => `${entry.dir}: ${entry.text}`);
    assert.match(texts[0] ?? '', /^\*: connected to 127\.0\.0\.1:\d+$/);
    assert.match(texts[1] ?? '', /^\*: TLS TLSv1\.[23] /);
    assert.match(texts[2] ?? '', /^S: 220 mx\.test/);
  });

  test('a failed verification fails connect', async (t) => {
    const target = await server(t, { secure: true, ...serverTls(certs.selfSigned) });
    const transcript = new Transcript();
    await assert.rejects(connect({ ...target, timeoutMs: TIMEOUT_MS, transcript, tls: { implicit: true, verify: true } }), {
      kind: 'tls',
      message: 'certificate verification failed: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)',
    });
    assert.equal(notes(transcript).at(-1), 'certificate verification failed: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT)');
  });

  test('a client key OpenSSL cannot use is a TLS error, before anything is sent', async (t) => {
    const target = await server(t, {});
    const transcript = new Transcript();
    // A PEM private key whose body is not a key: a readable file of the right shape, refused by OpenSSL.
    const key = join(mkdtempSync(join(tmpdir(), 'smtpspec-key-')), 'broken-key.pem');
    writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
    t.after(() => rmSync(dirname(key), { recursive: true, force: true }));
    const tls = { implicit: true, verify: true, cert: certs.client.certPath, key };
    await assert.rejects(connect({ ...target, timeoutMs: TIMEOUT_MS, transcript, tls }), {
      name: 'SmtpError',
      kind: 'tls',
      phase: 'tls',
      message: /^cannot use the client certificate or key: .+ \(ERR_OSSL_\w+\)$/,
    });
  });

  test('a plain server answering a TLS client is a handshake failure', async (t) => {
    const target = await server(t, {});
    await assert.rejects(connect({ ...target, timeoutMs: TIMEOUT_MS, tls: { implicit: true, verify: true } }), {
      kind: 'tls',
      phase: 'tls',
      message: /^TLS handshake failed: /,
    });
  });
});

describe('STARTTLS against scripted servers', () => {
  async function fake(t: TestContext, script: FakeScript): Promise<{ fake: FakeServer; conn: SmtpConnection; transcript: Transcript }> {
    const server = await fakeServer(script);
    t.after(() => server.close());
    const transcript = new Transcript();
    const conn = await connect({ host: server.host, port: server.port, timeoutMs: TIMEOUT_MS, transcript });
    t.after(() => conn.close());
    assert.equal((await conn.readReply(TIMEOUT_MS)).code, 220);
    await conn.sendLine('STARTTLS');
    assert.equal((await conn.readReply(TIMEOUT_MS)).code, 220);
    return { fake: server, conn, transcript };
  }

  test('data after the 220 is response injection: no handshake, nothing more sent', async (t) => {
    const { fake: server, conn, transcript } = await fake(t, async (s) => {
      await s.write('220 fake ESMTP\r\n');
      assert.equal(await s.nextLine(), 'STARTTLS');
      await s.write('220 ready\r\n250 injected\r\n');
    });
    await assert.rejects(conn.startTls({ verify: false }, TIMEOUT_MS), {
      kind: 'protocol',
      message: 'server sent data before the TLS handshake',
    });
    assert.equal(conn.isOpen, false);
    await conn.close();
    await server.done();
    assert.equal(server.receivedBytes().toString('latin1'), 'STARTTLS\r\n');
    assert.ok(notes(transcript).some((text) => text.includes('CVE-2011-0411')));
  });

  test('garbage instead of a handshake is a TLS error', async (t) => {
    const { conn } = await fake(t, async (s) => {
      await s.write('220 fake ESMTP\r\n');
      assert.equal(await s.nextLine(), 'STARTTLS');
      s.socket.once('data', () => void s.write('500 what is this?\r\n'));
      await s.write('220 ready\r\n');
    });
    await assert.rejects(conn.startTls({ verify: false }, TIMEOUT_MS), { kind: 'tls', message: /^TLS handshake failed: / });
    assert.equal(conn.isOpen, false);
  });

  test('a server that closes instead of shaking hands', async (t) => {
    const { conn } = await fake(t, async (s) => {
      await s.write('220 fake ESMTP\r\n');
      assert.equal(await s.nextLine(), 'STARTTLS');
      s.socket.once('data', () => s.end());
      await s.write('220 ready\r\n');
    });
    await assert.rejects(conn.startTls({ verify: false }, TIMEOUT_MS), {
      kind: 'tls',
      message: 'TLS handshake failed: the server closed the connection',
    });
  });

  test('a server that never shakes hands hits the deadline', async (t) => {
    const { conn } = await fake(t, async (s) => {
      await s.write('220 fake ESMTP\r\n');
      assert.equal(await s.nextLine(), 'STARTTLS');
      await s.write('220 ready\r\n');
    });
    await assert.rejects(conn.startTls({ verify: false }, 200), {
      kind: 'timeout',
      message: 'TLS handshake did not finish within 200 ms',
    });
    assert.equal(conn.isOpen, false);
  });
});

describe('TLS helpers', () => {
  function facts(overrides: Partial<TlsFacts> = {}): TlsFacts {
    return {
      protocol: 'TLSv1.3',
      cipher: 'TLS_AES_256_GCM_SHA384',
      verified: true,
      subject: 'CN=mx.example.com, O=Example',
      issuer: 'CN=Example CA',
      subjectAltName: 'DNS:mx.example.com, DNS:*.mail.example.com, IP Address:192.0.2.1',
      validFrom: '2025-01-01T00:00:00.000Z',
      validTo: '2025-03-01T00:00:00.000Z',
      fingerprint256: 'AA:BB',
      ...overrides,
    };
  }

  test('certificateMatchesName checks names the way a TLS client does', () => {
    assert.equal(certificateMatchesName(facts(), 'mx.example.com'), undefined);
    assert.equal(certificateMatchesName(facts(), 'a.mail.example.com'), undefined);
    assert.equal(certificateMatchesName(facts(), '192.0.2.1'), undefined);
    assert.equal(
      certificateMatchesName(facts(), 'example.com'),
      'the certificate is for "mx.example.com", "*.mail.example.com" or "192.0.2.1", not "example.com"',
    );
    const noSan = facts({ subject: 'CN=legacy.example.com' });
    delete noSan.subjectAltName;
    assert.equal(certificateMatchesName(noSan, 'legacy.example.com'), undefined);
    assert.equal(certificateMatchesName(noSan, 'other.example.com'), 'the certificate is for "legacy.example.com", not "other.example.com"');
  });

  test('certificateMatchesName takes the peer certificate too', async (t) => {
    const target = await server(t, { secure: true, ...serverTls(certs.server) });
    const conn = await open(t, target, { tls: { implicit: true, verify: true, ca: [certs.ca.certPath] } });
    const peer = conn.peerCertificate;
    assert.ok(peer);
    assert.equal(certificateMatchesName(peer, 'localhost'), undefined);
    assert.equal(certificateMatchesName(peer, 'mx.example.com'), 'the certificate is for "localhost" or "127.0.0.1", not "mx.example.com"');
    assert.equal(conn.certificateNameMismatch('127.0.0.1'), undefined);
    assert.equal(conn.certificateNameMismatch('mx.example.com'), 'the certificate is for "localhost" or "127.0.0.1", not "mx.example.com"');
  });

  test('certificateNameMismatch without TLS says so', async (t) => {
    const target = await server(t, {});
    const conn = await open(t, target);
    assert.equal(conn.certificateNameMismatch('localhost'), 'there is no TLS session');
  });
});
