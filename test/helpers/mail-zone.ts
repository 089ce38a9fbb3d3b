import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { caSignedServerCertificate, testCertificates, type PemFiles } from './certs.js';
import { startDnsServer, type TestDnsServer, type ZoneEntry } from './dns-server.js';
import { serverTls } from './server-tls.js';
import { startTestServer, type TestServer } from './test-server.js';

/**
 * Two mail domains on loopback for the DNS checks, one that passes every check and one that fails
 * each for a clear reason, served by the test DNS server, one SMTP server per domain and one HTTPS
 * server for both MTA-STS policies. Every address is 127.0.0.1.
 *
 * good.test: MX mx.good.test; PTR of 127.0.0.1 is mx.good.test and the server greets as it; an
 * MTA-STS record and an enforce policy whose mx pattern is mx.good.test; a TLS-RPT record; a
 * DNSSEC-authenticated DANE-EE TLSA record (3 1 1) of the server certificate's public key.
 *
 * bad.test: MX mx.bad.test, whose server greets as mx.bad.test, a name the PTR of 127.0.0.1 does not
 * give; an MTA-STS record and a policy whose only mx pattern is mx.elsewhere.test; no TLS-RPT record;
 * an authenticated TLSA record that holds the good server's key, not its own.
 *
 * multi.test: two MX hosts, mx.good.test and mx2.good.test, both the good SMTP server (its
 * certificate names both); an MTA-STS record and a policy whose pattern *.good.test matches both.
 *
 * Block lists: LISTING_ZONE lists 127.0.0.1 (127.0.0.2, with a TXT reason); CLEAN_ZONE lists nothing.
 */

export const LISTING_ZONE = 'listed.dnsbl.test';
export const CLEAN_ZONE = 'clean.dnsbl.test';
/** The PTR and greeting name confirmed for 127.0.0.1. */
export const CONFIRMED_NAME = 'mx.good.test';
/** A domain whose two MX hosts are both the good SMTP server (use good.smtpPort as its port). */
export const TWO_MX_DOMAIN = 'multi.test';

export interface ZoneDomain {
  domain: string;
  /** Its MX host, the name its SMTP server greets with. */
  mxHost: string;
  /** The SMTP port of its MX host (use it as the target's port: `domain:port`). */
  smtpPort: number;
  /** The SMTP server's certificate (signed by the test CA, valid for mxHost). */
  certificate: PemFiles;
  /** The TLSA record name for its MX host and port: `_PORT._tcp.MXHOST`. */
  tlsaName: string;
  /** How many connections its SMTP server has accepted so far. */
  connections(): number;
}

export interface MailZone {
  dns: TestDnsServer;
  good: ZoneDomain;
  bad: ZoneDomain;
  /** The HTTPS port every policy host (mta-sts.good.test, mta-sts.bad.test, mta-sts.multi.test) is served on. */
  policyPort: number;
  /** How many policy requests the HTTPS server has answered, by Host name. */
  policyRequests: Map<string, number>;
  /** The test CA that signed every certificate here, as a file for `--ca`. */
  caPath: string;
  close(): Promise<void>;
}

const POLICY_MAX_AGE = 604_800;

export async function startMailZone(): Promise<MailZone> {
  const [certs, goodCert, badCert, policyCert] = await Promise.all([
    testCertificates(),
    caSignedServerCertificate(['mx.good.test', 'mx2.good.test']),
    caSignedServerCertificate(['mx.bad.test']),
    caSignedServerCertificate(['mta-sts.good.test', 'mta-sts.bad.test', `mta-sts.${TWO_MX_DOMAIN}`]),
  ]);
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(closers.splice(0).map((closer) => closer()));
  };
  try {
    const good = await smtpServer('good.test', goodCert, closers);
    const bad = await smtpServer('bad.test', badCert, closers);
    const policies: Record<string, string> = {
      'mta-sts.good.test': policyText('mx.good.test'),
      'mta-sts.bad.test': policyText('mx.elsewhere.test'),
      [`mta-sts.${TWO_MX_DOMAIN}`]: policyText('*.good.test'),
    };
    const policyRequests = new Map<string, number>();
    const https = await policyServer(policyCert, policies, policyRequests, closers);
    const spki = spkiSha256(goodCert.cert);
    const zone: Record<string, ZoneEntry> = {
      'good.test': { mx: [[10, 'mx.good.test']] },
      'bad.test': { mx: [[10, 'mx.bad.test']] },
      'mx.good.test': { a: ['127.0.0.1'] },
      'mx.bad.test': { a: ['127.0.0.1'] },
      'mx2.good.test': { a: ['127.0.0.1'] },
      [TWO_MX_DOMAIN]: { mx: [[10, 'mx.good.test'], [20, 'mx2.good.test']] },
      [`mta-sts.${TWO_MX_DOMAIN}`]: { a: ['127.0.0.1'] },
      [`_mta-sts.${TWO_MX_DOMAIN}`]: { txt: ['v=STSv1; id=20261207multi'] },
      'mta-sts.good.test': { a: ['127.0.0.1'] },
      'mta-sts.bad.test': { a: ['127.0.0.1'] },
      '1.0.0.127.in-addr.arpa': { ptr: [CONFIRMED_NAME] },
      '_mta-sts.good.test': { txt: ['v=STSv1; id=20261207good'] },
      '_mta-sts.bad.test': { txt: ['v=STSv1; id=20261207bad'] },
      '_smtp._tls.good.test': { txt: ['v=TLSRPTv1; rua=mailto:tls@good.test'] },
      [good.tlsaName]: { tlsa: [{ usage: 3, selector: 1, matchingType: 1, data: spki }], authenticated: true },
      // The good server's key under the bad host's name: a TLSA record that matches nothing bad.test presents.
      [bad.tlsaName]: { tlsa: [{ usage: 3, selector: 1, matchingType: 1, data: spki }], authenticated: true },
      [`1.0.0.127.${LISTING_ZONE}`]: { a: ['127.0.0.2'], txt: ['127.0.0.1 is listed for testing'] },
    };
    const dns = await startDnsServer(zone);
    closers.push(() => dns.close());
    return { dns, good, bad, policyPort: https, policyRequests, caPath: certs.ca.certPath, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function smtpServer(domain: string, certificate: PemFiles, closers: (() => Promise<void>)[]): Promise<ZoneDomain> {
  const mxHost = `mx.${domain}`;
  let connections = 0;
  const server: TestServer = await startTestServer({
    name: mxHost,
    ...serverTls(certificate),
    onConnect(_session, callback) {
      connections += 1;
      callback();
    },
  });
  closers.push(() => server.close());
  return { domain, mxHost, smtpPort: server.port, certificate, tlsaName: `_${server.port}._tcp.${mxHost}`, connections: () => connections };
}

function policyText(mxPattern: string): string {
  return `version: STSv1\r\nmode: enforce\r\nmx: ${mxPattern}\r\nmax_age: ${POLICY_MAX_AGE}\r\n`;
}

/** One HTTPS server for every policy host, answering by the Host header; 404 for anything else. */
async function policyServer(
  certificate: PemFiles,
  policies: Record<string, string>,
  requests: Map<string, number>,
  closers: (() => Promise<void>)[],
): Promise<number> {
  const server: Server = createServer({ key: certificate.key, cert: certificate.cert }, (request, response) => {
    const host = (request.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    requests.set(host, (requests.get(host) ?? 0) + 1);
    const policy = policies[host];
    if (request.url !== '/.well-known/mta-sts.txt' || policy === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain' }).end(policy);
  });
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  });
  return (server.address() as AddressInfo).port;
}

/** The SHA-256 of a certificate's SubjectPublicKeyInfo: the data of a TLSA 3 1 1 (or 2 1 1) record. */
export function spkiSha256(pem: string): Buffer {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest();
}
