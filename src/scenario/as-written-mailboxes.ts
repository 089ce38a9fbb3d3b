import type { KeyTable } from './key-table.js';

/** The `mailboxes:` of a scenario file and its `mailbox` steps, as written (see as-written.ts). */

/** Exactly one of imap, pop3, maildir, mbox, mailpit, mailhog and embedded. */
export interface MailboxAsWritten {
  imap?: string;
  pop3?: string;
  maildir?: string;
  mbox?: string;
  mailpit?: string;
  mailhog?: string;
  embedded?: string;
  tls?: 'implicit' | 'starttls' | 'none';
  verify?: boolean;
  ca?: string | string[];
  servername?: string;
  user?: string;
  password?: string;
}

/** Header name → a pattern one of its values matches, true (present) or false (absent). */
export type HeaderChecksAsWritten = Record<string, string | boolean>;

export interface MailboxFindAsWritten {
  message_id?: string;
  headers?: HeaderChecksAsWritten;
}

export interface DsnCheckAsWritten {
  action?: 'delivered' | 'failed' | 'delayed' | 'relayed' | 'expanded';
  status?: string;
  recipient?: string;
}

export interface MailboxStepMapAsWritten {
  in: string;
  folders?: string[];
  find?: MailboxFindAsWritten;
  folder?: string;
  headers?: HeaderChecksAsWritten;
  body?: string;
  max_size?: number;
  dsn?: boolean | DsnCheckAsWritten;
  delete?: boolean;
}

/** A mailbox's name is short for `{ in: name }`. */
export type MailboxStepAsWritten = string | MailboxStepMapAsWritten;

export const mailboxKeys: KeyTable<MailboxAsWritten> = {
  imap: 'optional',
  pop3: 'optional',
  maildir: 'optional',
  mbox: 'optional',
  mailpit: 'optional',
  mailhog: 'optional',
  embedded: 'optional',
  tls: 'optional',
  verify: 'optional',
  ca: 'optional',
  servername: 'optional',
  user: 'optional',
  password: 'optional',
};

/** The keys that say what a mailbox is; a mailbox has exactly one. */
export const MAILBOX_KIND_KEYS = ['imap', 'pop3', 'maildir', 'mbox', 'mailpit', 'mailhog', 'embedded'] as const satisfies readonly (keyof MailboxAsWritten)[];

export const mailboxStepKeys: KeyTable<MailboxStepMapAsWritten> = {
  in: 'required',
  folders: 'optional',
  find: 'optional',
  folder: 'optional',
  headers: 'optional',
  body: 'optional',
  max_size: 'optional',
  dsn: 'optional',
  delete: 'optional',
};

export const mailboxFindKeys: KeyTable<MailboxFindAsWritten> = {
  message_id: 'optional',
  headers: 'optional',
};

export const dsnCheckKeys: KeyTable<DsnCheckAsWritten> = {
  action: 'optional',
  status: 'optional',
  recipient: 'optional',
};
