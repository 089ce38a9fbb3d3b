/**
 * Mailboxes: where a delivery step looks for the message a case sent. This folder knows nothing of
 * YAML, scenarios or reports (like smtp/): it opens a mailbox, lists what is there, reads and deletes
 * messages. Finding and checking the message is the engine's (engine/mailbox-step.ts).
 */

/** How to reach a mailbox, normalised (the scenario's `mailboxes:` settings). */
export type MailboxSettings = NetworkMailbox | LocalMailbox | CatcherMailbox;

/** IMAP (RFC 9051 / 3501) or POP3 (RFC 1939) over TCP. */
export interface NetworkMailbox {
  kind: 'imap' | 'pop3';
  host: string;
  port: number;
  /**
   * 'implicit': TLS from the first byte (993, 995); 'starttls': STARTTLS (IMAP, RFC 9051 §6.2.1) or STLS
   * (POP3, RFC 2595), required: a server that does not offer it fails the step; 'none': plaintext.
   */
  tls: 'implicit' | 'starttls' | 'none';
  /** The certificate is verified as SMTP's is: against the system's CAs and `ca`, for `servername` (default host). */
  verify: boolean;
  /** PEM text of CA certificates trusted besides the system's. */
  ca: string[];
  servername?: string;
  user?: string;
  /** A secret: never in any output, in any encoding. */
  password?: string;
}

/** A mail store on this machine, as an MTA or the embedded server writes it. */
export interface LocalMailbox {
  /** A Maildir folder (new/, cur/, tmp/; subfolders `.Junk` and so on), or an mbox file. */
  kind: 'maildir' | 'mbox';
  path: string;
}

/** The HTTP API of a developers' mail catcher. */
export interface CatcherMailbox {
  kind: 'mailpit' | 'mailhog';
  /** The API's base URL, e.g. http://127.0.0.1:8025 */
  url: string;
  /** HTTP basic authentication, when the catcher asks for it; the password is a secret. */
  user?: string;
  password?: string;
}

/** One message in a mailbox, as listed: enough to tell whether it is the one looked for. */
export interface MailboxEntry {
  /** The folder it is in: the IMAP mailbox name, `INBOX` for POP3, mbox and catchers, the Maildir folder's name (INBOX for the top). */
  folder: string;
  /** What identifies it to the backend (an IMAP UID, a POP3 UIDL or number, a file name, an API id). */
  id: string;
  /** The message's header section as received, unfolded lines included, ending with the empty line (at most 256 KiB). */
  header: Buffer;
  /** Size in bytes, as the store reports it. */
  size: number;
  /** When the store received it, if it knows. */
  receivedAt?: Date;
}

/** What every wait of a mailbox session is bounded by. */
export interface MailboxDeadline {
  /** Each network or file operation ends within this many ms, or fails with a 'timeout' MailboxError. */
  timeoutMs: number;
  /** Aborts whatever is under way (the run is interrupted). */
  signal?: AbortSignal;
}

/** An open mailbox. Every method may throw a MailboxError. */
export interface MailboxSession {
  /** The folders a step may name, as the store calls them. */
  folders(): Promise<string[]>;
  /**
   * The messages in these folders, newest first, at most `limit`. `messageId`, when given, lets a backend
   * that can search (IMAP SEARCH HEADER, Mailpit's search) list only the messages that carry it.
   */
  list(folders: readonly string[], options: { limit: number; messageId?: string }): Promise<MailboxEntry[]>;
  /** The whole message as received (at most `maxBytes`; a bigger one is a MailboxError of kind 'too-big'). */
  read(entry: MailboxEntry, maxBytes: number): Promise<Buffer>;
  /** Removes the message from the store (IMAP: flagged \Deleted and expunged; POP3: DELE then QUIT). */
  remove(entry: MailboxEntry): Promise<void>;
  close(): Promise<void>;
}

/** Why a mailbox operation failed: as data, never recognised by message text. */
export type MailboxErrorKind = 'connect' | 'tls' | 'auth' | 'protocol' | 'timeout' | 'not-found' | 'too-big' | 'io' | 'aborted';

export class MailboxError extends Error {
  override name = 'MailboxError';
  constructor(
    readonly kind: MailboxErrorKind,
    /** One sentence for the user, naming the mailbox and the cause; never a password. */
    message: string,
  ) {
    super(message);
  }
}

/** A readable name for a mailbox in messages: `imaps://mail.example.test:993`, `maildir /var/mail/alice`. */
export function describeMailbox(settings: MailboxSettings): string {
  switch (settings.kind) {
    case 'imap':
    case 'pop3': {
      const scheme = settings.tls === 'implicit' ? `${settings.kind}s` : settings.kind;
      const user = settings.user === undefined ? '' : `${settings.user}@`;
      return `${scheme}://${user}${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${settings.port}`;
    }
    case 'maildir':
    case 'mbox':
      return `${settings.kind} ${settings.path}`;
    case 'mailpit':
    case 'mailhog':
      return `${settings.kind} ${withoutCredentials(settings.url)}`;
  }
}

/** A URL without the user name and password it may carry (`http://user:pw@host/`): those are never shown. */
function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1');
}
