import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

/**
 * Certificates for TLS tests, generated once per process (EC P-256, SHA-256) and written to a
 * temporary directory that is removed when the process exits:
 * a CA, a server certificate it signed for localhost / 127.0.0.1, an expired one,
 * a self-signed one, and a client certificate signed by the CA.
 */

export interface PemFiles {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

export interface TestCertificates {
  ca: PemFiles;
  /** CN=localhost, SAN DNS:localhost, IP:127.0.0.1, signed by the CA, valid for a year. */
  server: PemFiles;
  /** Like `server`, but expired 30 days ago. */
  expired: PemFiles;
  /** CN=localhost, signed by itself. */
  selfSigned: PemFiles;
  /** CN=smtpspec test client, signed by the CA, for client authentication. */
  client: PemFiles;
}

export const CA_NAME = 'smtpspec test CA';
export const CLIENT_NAME = 'smtpspec test client';
const DAY_MS = 86_400_000;
const BASE = { keyType: 'ec', algorithm: 'sha256' } as const;
type Extensions = NonNullable<Parameters<typeof generate>[1]>['extensions'];
const SERVER_EXTENSIONS: Extensions = [
  { name: 'basicConstraints', cA: false, critical: true },
  { name: 'keyUsage', digitalSignature: true, critical: true },
  { name: 'extKeyUsage', serverAuth: true },
  {
    name: 'subjectAltName',
    altNames: [
      { type: 2, value: 'localhost' },
      { type: 7, ip: '127.0.0.1' },
    ],
  },
];

let cached: Promise<TestCertificates> | undefined;

export function testCertificates(): Promise<TestCertificates> {
  cached ??= create();
  return cached;
}

async function create(): Promise<TestCertificates> {
  const folder = temporaryFolder('smtpspec-certs-');
  const save = (name: string, pems: { cert: string; private: string }): PemFiles => folder(name, pems.cert, pems.private);
  const now = Date.now();
  const ca = save(
    'ca',
    await generate([{ name: 'commonName', value: CA_NAME }], {
      ...BASE,
      notBeforeDate: new Date(now - DAY_MS),
      notAfterDate: new Date(now + 3650 * DAY_MS),
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    }),
  );
  const signer = { key: ca.key, cert: ca.cert };
  const localhost = [{ name: 'commonName', value: 'localhost' }];
  const [server, expired, selfSigned, client] = await Promise.all([
    generate(localhost, { ...BASE, ca: signer, notBeforeDate: new Date(now - DAY_MS), notAfterDate: new Date(now + 365 * DAY_MS), extensions: SERVER_EXTENSIONS }),
    generate(localhost, { ...BASE, ca: signer, notBeforeDate: new Date(now - 400 * DAY_MS), notAfterDate: new Date(now - 30 * DAY_MS), extensions: SERVER_EXTENSIONS }),
    generate(localhost, { ...BASE, notBeforeDate: new Date(now - DAY_MS), notAfterDate: new Date(now + 365 * DAY_MS), extensions: SERVER_EXTENSIONS }),
    generate([{ name: 'commonName', value: CLIENT_NAME }], {
      ...BASE,
      ca: signer,
      notBeforeDate: new Date(now - DAY_MS),
      notAfterDate: new Date(now + 365 * DAY_MS),
      extensions: [
        { name: 'basicConstraints', cA: false, critical: true },
        { name: 'keyUsage', digitalSignature: true, critical: true },
        { name: 'extKeyUsage', clientAuth: true },
      ],
    }),
  ]);
  return {
    ca,
    server: save('server', server),
    expired: save('expired', expired),
    selfSigned: save('self-signed', selfSigned),
    client: save('client', client),
  };
}

export const INTERMEDIATE_NAME = 'smtpspec test intermediate CA';

export interface ChainCertificatesPem {
  /** A CA certificate signed by the test CA (CN=INTERMEDIATE_NAME), valid for five years. */
  intermediate: PemFiles;
  /** A server certificate for the given DNS names (the first also its CN), signed by the intermediate, valid for a year. */
  leaf: PemFiles;
  /** The leaf followed by the intermediate, as a server sends a complete chain (the key is the leaf's). */
  fullChain: PemFiles;
}

/**
 * A two-level chain under the test CA for `names`, in a temporary directory removed when the process
 * exits: test CA → intermediate → leaf. Made anew on each call.
 */
export async function chainCertificates(names: string[]): Promise<ChainCertificatesPem> {
  const { ca } = await testCertificates();
  const save = temporaryFolder('smtpspec-chain-');
  const now = Date.now();
  const intermediate = await generate([{ name: 'commonName', value: INTERMEDIATE_NAME }], {
    ...BASE,
    ca: { key: ca.key, cert: ca.cert },
    notBeforeDate: new Date(now - DAY_MS),
    notAfterDate: new Date(now + 5 * 365 * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const leaf = await serverCertificateFor(names, { key: intermediate.private, cert: intermediate.cert });
  return {
    intermediate: save('intermediate', intermediate.cert, intermediate.private),
    leaf: save('leaf', leaf.cert, leaf.private),
    fullChain: save('full-chain', `${leaf.cert.trimEnd()}\n${intermediate.cert}`, leaf.private),
  };
}

/**
 * A server certificate signed by the test CA for the given DNS names (the first is also its common
 * name), EC P-256, valid for a year, written to a temporary directory removed when the process exits.
 */
export async function caSignedServerCertificate(dnsNames: string[]): Promise<PemFiles> {
  const { ca } = await testCertificates();
  const pems = await serverCertificateFor(dnsNames, { key: ca.key, cert: ca.cert });
  return temporaryFolder('smtpspec-named-cert-')('server', pems.cert, pems.private);
}

/** A server certificate for DNS names (the first also its CN), valid for a year, signed by `signer`. */
function serverCertificateFor(names: string[], signer: { key: string; cert: string }) {
  const now = Date.now();
  return generate([{ name: 'commonName', value: names[0] ?? 'localhost' }], {
    ...BASE,
    ca: signer,
    notBeforeDate: new Date(now - DAY_MS),
    notAfterDate: new Date(now + 365 * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((value) => ({ type: 2, value })) },
    ],
  });
}

/** A temporary folder removed when the process exits, and how to save a certificate and its key in it. */
function temporaryFolder(prefix: string): (name: string, cert: string, key: string) => PemFiles {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return (name, cert, key) => {
    const certPath = join(dir, `${name}.crt`);
    const keyPath = join(dir, `${name}.key`);
    writeFileSync(certPath, cert);
    writeFileSync(keyPath, key);
    return { cert, key, certPath, keyPath };
  };
}
