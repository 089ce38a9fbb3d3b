import { rootCertificates } from 'node:tls';
import { SecretSet } from '../smtp/secrets.js';
import { verifyCodeWords } from '../smtp/tls.js';
import { withinDeadline } from './deadline.js';
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

/** Settles as `work` does, within the deadline (see withinDeadline); `what` names the operation in the error. */
export function bounded<T>(work: Promise<T>, deadline: MailboxDeadline, errors: ErrorMaker, what: string, giveUp: () => void): Promise<T> {
  return withinDeadline(
    work,
    deadline,
    { timedOut: () => errors.make('timeout', `no reply within ${deadline.timeoutMs} ms to ${what}`), interrupted: () => errors.make('aborted', `${what} was interrupted`) },
    giveUp,
  );
}


/** What a Node socket or TLS error means, by its code; undefined for an error that is not one. */
export function socketErrorOf(error: unknown, errors: ErrorMaker, settings: NetworkMailbox): MailboxError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, reason } = error as Error & { code?: unknown; reason?: unknown };
  if (typeof code !== 'string') return undefined;
  const certificate = code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? 'the certificate is for another name' : verifyCodeWords(code);
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
