import { rootCertificates } from 'node:tls';
import { SecretSet } from '../smtp/secrets.js';
import { MailboxError, describeMailbox, type MailboxDeadline, type MailboxErrorKind, type NetworkMailbox } from './types.js';

/**
 * What the IMAP and POP3 backends share: the TLS options their settings mean, the secrets that never
 * show, the deadline every round trip is raced against, and what a socket or TLS error code means.
 */

/** `ca` adds to the system's CAs (Node's `ca` option would replace them). */
export function tlsOptionsOf(settings: NetworkMailbox): { rejectUnauthorized: boolean; ca?: string[]; servername?: string } {
  const name = settings.servername ?? settings.host;
  return {
    rejectUnauthorized: settings.verify,
    ...(settings.ca.length > 0 ? { ca: [...rootCertificates, ...settings.ca] } : {}),
    // SNI takes a host name, never an address; the certificate is still checked against the address.
    ...(isAddress(name) ? {} : { servername: name }),
  };
}

function isAddress(name: string): boolean {
  return /^[\d.]+$/.test(name) || name.includes(':');
}

/** The password and every form a login sends it in (IMAP LOGIN's quoted string, AUTH PLAIN, AUTH LOGIN, APOP is not used). */
export function secretsOf(settings: NetworkMailbox): SecretSet {
  const secrets = new SecretSet();
  const { user = '', password } = settings;
  if (password === undefined || password === '') return secrets;
  const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
  secrets.add(password);
  secrets.add(password.replace(/["\\]/g, '\\$&'));
  secrets.add(base64(password));
  secrets.add(base64(`\0${user}\0${password}`));
  secrets.add(base64(`${user}\0${user}\0${password}`));
  return secrets;
}

/** Builds a MailboxError whose message names the mailbox and never shows a secret. */
export class ErrorMaker {
  private readonly name: string;
  constructor(
    settings: NetworkMailbox,
    private readonly secrets: SecretSet,
  ) {
    this.name = describeMailbox(settings);
  }

  make(kind: MailboxErrorKind, text: string): MailboxError {
    return new MailboxError(kind, this.secrets.mask(`${this.name}: ${text}`));
  }
}

/**
 * Settles as `work` does, or rejects with a 'timeout' MailboxError after `deadline.timeoutMs`, or an
 * 'aborted' one when `deadline.signal` aborts; either way `giveUp` is called (it tears the connection
 * down) and a late rejection of `work` is ignored.
 */
export function bounded<T>(work: Promise<T>, deadline: MailboxDeadline, errors: ErrorMaker, what: string, giveUp: () => void): Promise<T> {
  work.catch(() => {});
  const { signal, timeoutMs } = deadline;
  if (signal?.aborted) {
    giveUp();
    return Promise.reject(errors.make('aborted', `${what} was interrupted`));
  }
  return new Promise<T>((resolve, reject) => {
    const fail = (error: MailboxError): void => {
      cleanup();
      giveUp();
      reject(error);
    };
    const onAbort = (): void => fail(errors.make('aborted', `${what} was interrupted`));
    const timer = setTimeout(() => fail(errors.make('timeout', `no reply within ${timeoutMs} ms to ${what}`)), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}

const CERTIFICATE_REASONS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'the certificate has expired',
  CERT_NOT_YET_VALID: 'the certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'a self-signed certificate is in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the certificate cannot be verified (unknown issuer)',
  UNABLE_TO_GET_ISSUER_CERT: 'the issuer certificate is unknown',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the issuer certificate is unknown',
  CERT_SIGNATURE_FAILURE: 'the certificate signature is wrong',
  CERT_REVOKED: 'the certificate is revoked',
  CERT_UNTRUSTED: 'the certificate is not trusted',
  CERT_REJECTED: 'the certificate is rejected',
  INVALID_CA: 'a CA certificate is invalid',
  INVALID_PURPOSE: 'the certificate is not meant for a server',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the certificate is for another name',
};

/** What a Node socket or TLS error means, by its code; undefined for an error that is not one. */
export function socketErrorOf(error: unknown, errors: ErrorMaker, settings: NetworkMailbox): MailboxError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, reason } = error as Error & { code?: unknown; reason?: unknown };
  if (typeof code !== 'string') return undefined;
  const certificate = CERTIFICATE_REASONS[code];
  if (certificate !== undefined) {
    const name = settings.servername ?? settings.host;
    return errors.make('tls', `certificate verification failed for ${name}: ${certificate} (${code})`);
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.startsWith('ERR_OSSL_')) {
    return errors.make('tls', `TLS failed: ${typeof reason === 'string' ? reason : code}`);
  }
  switch (code) {
    case 'ECONNREFUSED':
      return errors.make('connect', 'connection refused');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'ENODATA':
      return errors.make('connect', `cannot resolve host "${settings.host}"`);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return errors.make('connect', `cannot reach the host (${code})`);
    case 'ECONNRESET':
      return errors.make('connect', 'connection reset by the server');
    case 'EPIPE':
    case 'ERR_STREAM_DESTROYED':
    case 'ERR_STREAM_WRITE_AFTER_END':
      return errors.make('connect', 'the server closed the connection');
    case 'ETIMEDOUT':
      return errors.make('timeout', 'the connection timed out');
    default:
      return undefined;
  }
}
