import { before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import type { SmtpConnection } from '../../src/smtp/client.js';
import { Transcript } from '../../src/smtp/transcript.js';
import { dane } from '../../src/dns/checks/dane.js';
import type { DnsLookup, DnsRecordType, DnsResult, TlsaRecord } from '../../src/dns/types.js';
import { chainCertificates, testCertificates, type ChainCertificatesPem, type TestCertificates } from '../helpers/certs.js';
import { serverTls } from '../helpers/server-tls.js';
import { startTestServerFor, type TestServerOptions } from '../helpers/test-server.js';
import { openFor } from '../helpers/connections.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';

/** The deadline of every wait the test does not mean to reach. */
const TIMEOUT_MS = GENEROUS_MS;
const MX = 'mx.chain.test';

let certs: TestCertificates;
let chain: ChainCertificatesPem;
before(async () => {
  certs = await testCertificates();
  chain = await chainCertificates([MX, 'localhost']);
});

const server = (t: TestContext, options: TestServerOptions) => startTestServerFor(t, { name: MX, ...options });
const open = openFor;

/** Greeting, EHLO, STARTTLS and its 220, then the handshake with `ca` trusted (none: Node's roots only). */
async function startTls(conn: SmtpConnection, verify: boolean, ca: string[] = []): Promise<void> {
  assert.equal((await conn.readReply(TIMEOUT_MS)).code, 220);
  await conn.sendLine('EHLO client.test');
  assert.equal((await conn.readReply(TIMEOUT_MS)).code, 250);
  await conn.sendLine('STARTTLS');
  assert.equal((await conn.readReply(TIMEOUT_MS)).code, 220);
  await conn.startTls({ verify, ca, servername: MX }, TIMEOUT_MS);
}

function fingerprints(ders: Buffer[]): string[] {
  return ders.map((der) => new X509Certificate(der).fingerprint256);
}

function tlsNote(transcript: Transcript): string {
  return transcript.entries.find((entry) => entry.dir === '*' && entry.text.startsWith('TLS '))?.text ?? '';
}

/** A resolver that answers one TLSA question, authenticated or not, and denies everything else. */
function tlsaResolver(name: string, records: TlsaRecord[], authenticated: boolean): DnsLookup {
  const nodata = <T>(asked: string, type: DnsRecordType): DnsResult<T> => ({ ok: false, name: asked, type, kind: 'nodata', authenticated, message: `${asked} has no ${type} record` });
  return {
    mx: async (asked) => nodata(asked, 'MX'),
    a: async (asked) => nodata(asked, 'A'),
    aaaa: async (asked) => nodata(asked, 'AAAA'),
    ptr: async (asked) => nodata(asked, 'PTR'),
    txt: async (asked) => nodata(asked, 'TXT'),
    tlsa: async (asked) =>
      asked === name ? { ok: true, name: asked, type: 'TLSA', records, authenticated, server: '127.0.0.1:53', transport: 'udp' } : nodata(asked, 'TLSA'),
  };
}

describe('the certificate chain of a TLS session', () => {
  test('leaf and intermediate sent, root trusted via the CA file: complete, 3 certificates, and DANE-TA on the intermediate passes', async (t) => {
    const target = await server(t, serverTls(chain.fullChain));
    const transcript = new Transcript();
    const conn = await open(t, target, { transcript });
    await startTls(conn, true, [certs.ca.certPath]);

    assert.equal(conn.tls?.verified, true);
    assert.equal(conn.tls?.chainLength, 3);
    assert.equal(conn.tls?.chainComplete, true);
    const ders = conn.peerChain();
    assert.deepEqual(fingerprints(ders), [chain.leaf, chain.intermediate, certs.ca].map((pems) => new X509Certificate(pems.cert).fingerprint256));
    assert.equal(conn.peerChain(), ders, 'the chain is computed once per handshake');
    assert.match(tlsNote(transcript), /; chain complete, 3 certificates$/);

    const intermediateDigest = createHash('sha256').update(new X509Certificate(chain.intermediate.cert).raw).digest();
    const recordName = `_${target.port}._tcp.${MX}`;
    const taRecord: TlsaRecord = { usage: 2, selector: 0, matchingType: 1, data: intermediateDigest };
    const passed = await dane(MX, target.port, ders, tlsaResolver(recordName, [taRecord], true));
    assert.equal(passed.verdict, 'pass', passed.reasons.join('; '));
    assert.equal(passed.facts.chainLength, 3);
    assert.equal(passed.facts.records[0]?.matchedDepth, 1);
    // The same record against the server certificate alone has nothing to match.
    const leafOnly = await dane(MX, target.port, ders.slice(0, 1), tlsaResolver(recordName, [taRecord], true));
    assert.equal(leafOnly.verdict, 'fail');
  });

  test('leaf only, the intermediate missing: incomplete, 1 certificate', async (t) => {
    const target = await server(t, serverTls(chain.leaf));
    const transcript = new Transcript();
    const conn = await open(t, target, { transcript });
    await startTls(conn, false, [certs.ca.certPath]);

    assert.equal(conn.tls?.verified, false);
    assert.match(conn.tls?.authorizationError ?? '', /UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    assert.equal(conn.tls?.chainLength, 1);
    assert.equal(conn.tls?.chainComplete, false);
    assert.deepEqual(fingerprints(conn.peerChain()), [new X509Certificate(chain.leaf.cert).fingerprint256]);
    assert.match(tlsNote(transcript), /; chain INCOMPLETE: 1 certificate, an intermediate or the root is missing; NOT VERIFIED: /);
  });

  test('leaf only, verified: the handshake fails saying that an intermediate may be missing', async (t) => {
    const target = await server(t, serverTls(chain.leaf));
    const conn = await open(t, target);
    await assert.rejects(startTls(conn, true, [certs.ca.certPath]), (error: Error) => {
      assert.match(error.message, /certificate verification failed: unable to verify the first certificate: its issuer is neither in the chain the server sent nor trusted here \(an intermediate certificate the server does not send, or a private CA to trust with --ca\) \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);
      return true;
    });
  });

  test('leaf and intermediate sent but the root not trusted here: incomplete, 2 certificates', async (t) => {
    const target = await server(t, serverTls(chain.fullChain));
    const conn = await open(t, target);
    await startTls(conn, false);

    assert.equal(conn.tls?.chainLength, 2);
    assert.equal(conn.tls?.chainComplete, false);
    assert.deepEqual(fingerprints(conn.peerChain()), [chain.leaf, chain.intermediate].map((pems) => new X509Certificate(pems.cert).fingerprint256));
  });

  test('a self-signed certificate over implicit TLS: complete, 1 certificate', async (t) => {
    const target = await server(t, { secure: true, ...serverTls(certs.selfSigned) });
    const transcript = new Transcript();
    const conn = await open(t, target, { transcript, tls: { implicit: true, verify: false } });

    assert.match(conn.tls?.authorizationError ?? '', /DEPTH_ZERO_SELF_SIGNED_CERT/);
    assert.equal(conn.tls?.chainLength, 1);
    assert.equal(conn.tls?.chainComplete, true);
    assert.deepEqual(fingerprints(conn.peerChain()), [new X509Certificate(certs.selfSigned.cert).fingerprint256]);
    assert.match(tlsNote(transcript), /; chain complete, 1 certificate; NOT VERIFIED: /);
  });

  test('without TLS the chain is empty', async (t) => {
    const target = await server(t, serverTls(certs.server));
    const conn = await open(t, target);
    assert.equal((await conn.readReply(TIMEOUT_MS)).code, 220);
    assert.deepEqual(conn.peerChain(), []);
  });
});
