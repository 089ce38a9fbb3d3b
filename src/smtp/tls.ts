import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import tls, { type DetailedPeerCertificate, type PeerCertificate, type TLSSocket } from 'node:tls';
import { openSslReason, untilEvent } from './transport.js';
import { SmtpError, type TlsFacts } from './types.js';
import { orList } from '../words.js';
import { CertificateFileError, CertificateFiles, certificateProblemText, type TlsFiles } from './certificate-files.js';
import { shortPath } from '../read-file.js';
import { describeChain } from '../tls-facts.js';

/**
 * The client side of TLS for SMTP: STARTTLS (RFC 3207) and implicit TLS (RFC 8314).
 * The certificate is always checked; with `verify` off a failed check is reported, not fatal.
 */

export interface TlsClientOptions {
  /** SNI and the name the certificate must match; default: the TCP host. An IP address is checked but not sent as SNI. */
  servername?: string;
  verify: boolean;
  /** CA certificate files, trusted in addition to Node's root certificates. */
  ca?: string[];
  /** Client certificate and key files. */
  cert?: string;
  key?: string;
  /** The material of those files, read once before the first session; no file is read when it is given. */
  files?: TlsFiles;
}

export interface TlsUpgrade {
  socket: TLSSocket;
  facts: TlsFacts;
  peerCertificate: PeerCertificate;
  /** The DER bytes of the chain (see peerChain), the server's certificate first. */
  chain: Buffer[];
}

/** Name checked when neither a servername nor a TCP host is known (UNIX sockets, child processes). */
const FALLBACK_NAME = 'localhost';

const VERIFY_REASONS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the certificate chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate: its issuer is neither in the chain the server sent nor trusted here (an intermediate certificate the server does not send, or a private CA to trust with --ca)',
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get the issuer certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get the local issuer certificate',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  CERT_REVOKED: 'certificate revoked',
  CERT_UNTRUSTED: 'certificate not trusted',
  CERT_REJECTED: 'certificate rejected',
  INVALID_CA: 'invalid CA certificate',
  INVALID_PURPOSE: 'certificate not meant for this purpose',
  PATH_LENGTH_EXCEEDED: 'certificate chain too long',
  CERT_CHAIN_TOO_LONG: 'certificate chain too long',
  ERROR_IN_CERT_NOT_BEFORE_FIELD: "format error in the certificate's notBefore field",
  ERROR_IN_CERT_NOT_AFTER_FIELD: "format error in the certificate's notAfter field",
};

export type { TlsFiles } from './certificate-files.js';

/**
 * The CA, certificate and key material: what was read up front (`options.files`), else the files
 * read now, each within its limit; rejects with a `tls` SmtpError naming the file.
 */
export async function loadTlsFiles(options: TlsClientOptions): Promise<TlsFiles> {
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new SmtpError('tls', 'tls', 'a client certificate needs both a certificate file and a key file');
  }
  if (options.files) return options.files;
  const store = new CertificateFiles();
  try {
    for (const path of options.ca ?? []) await store.readFlag('the CA file', path, 'CA certificate');
    return store.tlsFiles(options);
  } catch (error) {
    if (!(error instanceof CertificateFileError)) throw error;
    const file = `the ${error.kind === 'CA certificate' ? 'CA file' : error.kind} ${shortPath(error.path)}`;
    throw new SmtpError('tls', 'tls', `${'read' in error.problem ? 'cannot read' : 'cannot use'} ${file}: ${certificateProblemText(error.problem)}`);
  }
}

/**
 * Starts the client handshake over `stream` at once (before the first await, so no byte is
 * read from `stream` by anyone else), then checks the certificate.
 * Rejects with SmtpError: `tls` for a failed handshake or (with verify) a failed check, `timeout` past the deadline.
 * On rejection the TLS socket is destroyed; the caller disposes of `stream`.
 * `host` is the TCP host: the default name to check when the options name none.
 */
export async function upgradeToTls(
  stream: Duplex,
  options: TlsClientOptions,
  files: TlsFiles,
  host: string | undefined,
  timeoutMs: number,
): Promise<TlsUpgrade> {
  const name = options.servername ?? host ?? FALLBACK_NAME;
  const socket = startHandshake({
    socket: stream,
    ...(isIP(name) === 0 ? { servername: name } : {}),
    ...(files.ca ? { ca: files.ca } : {}),
    ...(files.cert ? { cert: files.cert } : {}),
    ...(files.key ? { key: files.key } : {}),
    minVersion: 'TLSv1',
    // The check happens after the handshake, so a failure has a readable reason and `verify: false` can report it.
    rejectUnauthorized: false,
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name, cert),
  });
  await handshake(socket, timeoutMs);
  const peerCertificate = socket.getPeerCertificate(true);
  const reason = socket.authorized ? undefined : verificationReason(socket.authorizationError, peerCertificate, name);
  if (options.verify && reason !== undefined) {
    socket.destroy();
    throw new SmtpError('tls', 'certificate', `certificate verification failed: ${reason}`);
  }
  const chain = peerChain(peerCertificate);
  const facts = tlsFacts(socket, peerCertificate, options.verify, reason);
  facts.chainLength = chain.ders.length;
  facts.chainComplete = chain.complete;
  return { socket, facts, peerCertificate, chain: chain.ders };
}

/** The transcript note after a handshake. */
export function describeTls(facts: TlsFacts, verify: boolean): string {
  const parts = [`TLS ${facts.protocol} ${facts.cipher}`, `subject ${facts.subject}`, `issuer ${facts.issuer}`, `valid until ${facts.validTo.replace(/\.000Z$/, 'Z')}`];
  const chain = describeChain(facts);
  if (chain !== undefined) parts.push(chain);
  if (!verify && facts.authorizationError) parts.push(`NOT VERIFIED: ${facts.authorizationError}`);
  return parts.join('; ');
}

/** Why the certificate is not valid for `name` (checked with tls.checkServerIdentity), or undefined when it is. */
export function certificateMatchesName(certificate: PeerCertificate | TlsFacts, name: string): string | undefined {
  const cert = typeof certificate.subject === 'string' ? certificateFromFacts(certificate as TlsFacts) : (certificate as PeerCertificate);
  return tls.checkServerIdentity(name, cert) ? nameMismatch(cert, name) : undefined;
}

/**
 * The chain of a session, followed from the server's certificate through `issuerCertificate` until a
 * self-signed certificate (complete), or a certificate without a known issuer or a repeat (incomplete).
 * Node builds that chain from what the server sent and completes it from the trust store of this
 * handshake (Node's roots and the CA files): a server that leaves out its root still has a complete chain
 * here when that root is trusted (and the root is counted), while a server that leaves out an
 * intermediate has an incomplete one (and fails verification with UNABLE_TO_VERIFY_LEAF_SIGNATURE).
 * A root not trusted here ends the chain only if the server sent it. Node points a trusted root's
 * `issuerCertificate` at itself but leaves it out for an untrusted self-signed one, so the last
 * certificate is checked for signing itself (one parse per handshake).
 */
function peerChain(leaf: DetailedPeerCertificate): { ders: Buffer[]; complete: boolean } {
  const ders: Buffer[] = [];
  const seen = new Set<string>();
  // Node's objects lie: issuerCertificate is missing where no issuer was found, and the whole object is empty without a certificate.
  let cert = leaf as Partial<DetailedPeerCertificate> | undefined;
  while (cert?.raw !== undefined && cert.fingerprint256 !== undefined && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    ders.push(cert.raw);
    const issuer = cert.issuerCertificate as Partial<DetailedPeerCertificate> | undefined;
    if (issuer === cert || (issuer !== undefined && issuer.fingerprint256 === cert.fingerprint256)) return { ders, complete: true };
    if (issuer === undefined) return { ders, complete: signsItself(cert.raw) };
    cert = issuer;
  }
  return { ders, complete: false };
}

/** Names itself as issuer and is signed by its own key (checkIssued would also want keyCertSign, which a self-signed server certificate may lack). */
function signsItself(der: Buffer): boolean {
  try {
    const x509 = new X509Certificate(der);
    return x509.subject === x509.issuer && x509.verify(x509.publicKey);
  } catch {
    return false;
  }
}

/** tls.connect, with a certificate or key that OpenSSL refuses (told by its error code) made a `tls` SmtpError. */
function startHandshake(options: tls.ConnectionOptions): TLSSocket {
  try {
    return tls.connect(options);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code?.startsWith('ERR_OSSL_')) throw new SmtpError('tls', 'tls', `cannot use the client certificate or key: ${openSslReason(error as Error)}`);
    throw error;
  }
}

function handshake(socket: TLSSocket, timeoutMs: number): Promise<void> {
  return untilEvent(socket, 'secureConnect', timeoutMs, {
    onError: (err) => new SmtpError('tls', 'tls', `TLS handshake failed: ${handshakeReason(err)}`),
    onClose: () => new SmtpError('tls', 'tls', 'TLS handshake failed: the server closed the connection'),
    onTimeout: () => new SmtpError('timeout', 'tls', `TLS handshake did not finish within ${timeoutMs} ms`),
  });
}

/** OpenSSL's words for a first answer that is not a TLS record (a banner, an HTTP error, garbage). */
const NOT_TLS = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_UNEXPECTED_RECORD', 'ERR_SSL_RECORD_LAYER_FAILURE']);

function handshakeReason(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'the server closed the connection';
  if (code !== undefined && NOT_TLS.has(code)) return `the server did not answer with TLS (OpenSSL: ${(err as { reason?: string }).reason ?? code})`;
  if (code?.startsWith('ERR_SSL_')) return openSslReason(err);
  return code ?? err.message;
}

/** The words for an OpenSSL certificate verification code (`CERT_HAS_EXPIRED`), when it is one. */
export function verifyCodeWords(code: string): string | undefined {
  return VERIFY_REASONS[code];
}

/** Node gives the reason as an OpenSSL code string (typed as Error); turns it into words. */
function verificationReason(error: unknown, cert: PeerCertificate, name: string): string {
  const code = typeof error === 'string' ? error : error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : 'unknown reason';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return nameMismatch(cert, name);
  const words = VERIFY_REASONS[code];
  return words ? `${words} (${code})` : code;
}

function nameMismatch(cert: PeerCertificate, name: string): string {
  const names = certificateNames(cert);
  if (names.length === 0) return `the certificate names no host, not "${name}"`;
  const shown = names.slice(0, 5).map((n) => `"${n}"`);
  const more = names.length > shown.length ? ` (and ${names.length - shown.length} more)` : '';
  return `the certificate is for ${orList(shown)}${more}, not "${name}"`;
}

/** DNS names and IP addresses of the subjectAltName, or else the common name. */
function certificateNames(cert: PeerCertificate): string[] {
  const alt = (cert.subjectaltname ?? '')
    .split(', ')
    .map((entry) => /^(?:DNS|IP Address):(.*)$/.exec(entry)?.[1])
    .filter((value): value is string => value !== undefined && value !== '');
  if (alt.length > 0) return alt;
  const cn = cert.subject?.CN as string | string[] | undefined;
  return cn === undefined ? [] : Array.isArray(cn) ? cn : [cn];
}

function tlsFacts(socket: TLSSocket, cert: PeerCertificate, verify: boolean, reason: string | undefined): TlsFacts {
  const facts: TlsFacts = {
    protocol: socket.getProtocol() ?? 'unknown',
    cipher: socket.getCipher().standardName,
    verified: verify && reason === undefined,
    subject: distinguishedName(cert.subject),
    issuer: distinguishedName(cert.issuer),
    validFrom: isoDate(cert.valid_from),
    validTo: isoDate(cert.valid_to),
    fingerprint256: cert.fingerprint256 ?? '',
  };
  if (reason !== undefined) facts.authorizationError = reason;
  if (cert.subjectaltname) facts.subjectAltName = cert.subjectaltname;
  return facts;
}

/** `CN=mx.example.com, O=Example`; a repeated attribute appears once per value. */
function distinguishedName(name: PeerCertificate['subject'] | undefined): string {
  if (!name) return '';
  return Object.entries(name as unknown as Record<string, string | string[]>)
    .flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).map((v) => `${key}=${v}`))
    .join(', ');
}

function isoDate(text: string | undefined): string {
  if (!text) return '';
  const time = Date.parse(text);
  return Number.isNaN(time) ? text : new Date(time).toISOString();
}

/** Enough of a certificate for tls.checkServerIdentity, rebuilt from the facts. */
function certificateFromFacts(facts: TlsFacts): PeerCertificate {
  const cn = /(?:^|, )CN=([^,]*)/.exec(facts.subject)?.[1];
  return { subject: cn === undefined ? {} : { CN: cn }, subjectaltname: facts.subjectAltName } as unknown as PeerCertificate;
}

