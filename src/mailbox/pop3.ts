import { MailboxError, type MailboxDeadline, type MailboxEntry, type MailboxSession, type NetworkMailbox } from './types.js';
import { HEADER_MAX } from './header-section.js';
import { ErrorMaker, secretsOf } from './network.js';
import { Pop3Connection } from './pop3-client.js';

/**
 * A POP3 maildrop (RFC 1939): one folder, INBOX. Messages are known by their UIDL when the server
 * has UIDL, else by their number; the highest number is the newest. Headers come from `TOP n 0`.
 * A removed message is marked with DELE and gone once close() has sent QUIT.
 */

/** At most this much of a message's header section is kept. */

/** The longest scan listing (LIST, UIDL) accepted: 64 bytes a message for a million messages. */
const MAX_LISTING_BYTES = 64 * 1024 * 1024;

const INBOX = 'INBOX';

export async function openPop3(settings: NetworkMailbox, deadline: MailboxDeadline): Promise<MailboxSession> {
  const errors = new ErrorMaker(settings, secretsOf(settings));
  const connection = await Pop3Connection.open(settings, deadline, errors);
  try {
    if (settings.tls === 'starttls') await connection.startTls();
    if (settings.user !== undefined) await login(connection, settings.user, settings.password ?? '', errors);
  } catch (error) {
    connection.destroy();
    throw error;
  }
  return new Pop3Session(connection, errors);
}

async function login(connection: Pop3Connection, user: string, password: string, errors: ErrorMaker): Promise<void> {
  // A line break would end the command early and send the rest as another one.
  if (/[\r\n]/.test(user + password)) throw errors.make('auth', 'the user name or password has a line break, which POP3 cannot send');
  // The server's words after a refused login are not shown: some echo what they were sent.
  const named = await connection.command(`USER ${user}`, 'USER');
  if (!named.ok) throw errors.make('auth', `the server refused the user name "${user}"`);
  const passed = await connection.command(`PASS ${password}`, 'PASS');
  if (!passed.ok) throw errors.make('auth', `the server refused the login of user "${user}"`);
}

class Pop3Session implements MailboxSession {
  /** message number → UIDL, once asked; undefined when the server has no UIDL. */
  private uidls: Map<number, string> | undefined | null = null;
  private readonly deleted = new Set<number>();

  constructor(
    private readonly connection: Pop3Connection,
    private readonly errors: ErrorMaker,
  ) {}

  async folders(): Promise<string[]> {
    return [INBOX];
  }

  async list(folders: readonly string[], options: { limit: number; messageId?: string }): Promise<MailboxEntry[]> {
    for (const folder of folders) this.checkFolder(folder);
    if (folders.length === 0 || options.limit <= 0) return [];
    const sizes = await this.sizes();
    const uidls = await this.uidlMap();
    const numbers = [...sizes.keys()].filter((n) => !this.deleted.has(n)).sort((a, b) => b - a);
    const entries: MailboxEntry[] = [];
    // POP3 cannot search: the newest `limit` messages are looked at, and those with another Message-ID left out.
    for (const n of numbers.slice(0, options.limit)) {
      const top = await this.connection.multi(`TOP ${n} 0`, HEADER_MAX, `TOP ${n} 0`);
      if (!top.ok) throw this.errors.make('protocol', `the server refused the header of message ${n} (TOP): -ERR ${top.text}`);
      if (options.messageId !== undefined && !hasMessageId(top.body, options.messageId)) continue;
      entries.push({ folder: INBOX, id: uidls?.get(n) ?? String(n), header: top.body, size: sizes.get(n) ?? 0 });
    }
    return entries;
  }

  async read(entry: MailboxEntry, maxBytes: number): Promise<Buffer> {
    const n = await this.numberOf(entry);
    const listed = await this.connection.command(`LIST ${n}`, `LIST ${n}`);
    if (!listed.ok) throw this.errors.make('not-found', `message ${entry.id} is no longer in the maildrop`);
    const size = Number(/^\d+\s+(\d+)/.exec(listed.text)?.[1]);
    if (size > maxBytes) throw this.tooBig(entry, size, maxBytes);
    const message = await this.connection.multi(`RETR ${n}`, maxBytes, `RETR ${n}`);
    if (!message.ok) throw this.errors.make('protocol', `the server refused message ${entry.id} (RETR): -ERR ${message.text}`);
    if (message.over) throw this.tooBig(entry, undefined, maxBytes);
    return message.body;
  }

  async remove(entry: MailboxEntry): Promise<void> {
    const n = await this.numberOf(entry);
    const reply = await this.connection.command(`DELE ${n}`, `DELE ${n}`);
    if (!reply.ok) throw this.errors.make('protocol', `the server refused to delete message ${entry.id} (DELE): -ERR ${reply.text}`);
    this.deleted.add(n);
  }

  async close(): Promise<void> {
    try {
      const reply = await this.connection.command('QUIT', 'QUIT');
      this.connection.end();
      if (!reply.ok && this.deleted.size > 0) {
        throw this.errors.make('protocol', `the server did not commit the deletions at QUIT: -ERR ${reply.text}`);
      }
    } catch (error) {
      this.connection.destroy();
      // Deletions are made at QUIT (RFC 1939 §6): if it failed, they were not.
      if (this.deleted.size > 0) throw error;
    }
  }

  private checkFolder(folder: string): void {
    if (folder.toUpperCase() !== INBOX) throw this.errors.make('not-found', `a POP3 maildrop has only the folder INBOX, not "${folder}"`);
  }

  /** message number → size, from LIST. */
  private async sizes(): Promise<Map<number, number>> {
    const reply = await this.connection.multi('LIST', MAX_LISTING_BYTES, 'LIST');
    if (!reply.ok) throw this.errors.make('protocol', `the server refused LIST: -ERR ${reply.text}`);
    return this.scanListing(reply.body, 'LIST', (value) => (/^\d+$/.test(value) ? Number(value) : undefined));
  }

  private async uidlMap(): Promise<Map<number, string> | undefined> {
    if (this.uidls !== null) return this.uidls;
    const reply = await this.connection.multi('UIDL', MAX_LISTING_BYTES, 'UIDL');
    // The UIDs of a maildrop do not change during a session (RFC 1939 §7), so they are asked once.
    this.uidls = reply.ok ? this.scanListing(reply.body, 'UIDL', (value) => (/^[\x21-\x7e]{1,70}$/.test(value) ? value : undefined)) : undefined;
    return this.uidls;
  }

  private scanListing<T>(body: Buffer, what: string, parse: (value: string) => T | undefined): Map<number, T> {
    const found = new Map<number, T>();
    for (const line of body.toString('latin1').split('\r\n')) {
      if (line === '') continue;
      const match = /^(\d+) +(\S+)/.exec(line);
      const value = match?.[2] === undefined ? undefined : parse(match[2]);
      if (!match || value === undefined) throw this.errors.make('protocol', `the server's ${what} has a line that is not "number value": "${line.slice(0, 80)}"`);
      found.set(Number(match[1]), value);
    }
    return found;
  }

  private async numberOf(entry: MailboxEntry): Promise<number> {
    this.checkFolder(entry.folder);
    const uidls = await this.uidlMap();
    let n: number | undefined;
    if (uidls === undefined) n = /^\d+$/.test(entry.id) ? Number(entry.id) : undefined;
    else for (const [number, uid] of uidls) if (uid === entry.id) n = number;
    if (n === undefined || this.deleted.has(n)) throw this.errors.make('not-found', `message ${entry.id} is not in the maildrop`);
    return n;
  }

  private tooBig(entry: MailboxEntry, size: number | undefined, maxBytes: number): MailboxError {
    const has = size === undefined ? 'is bigger' : `has ${size} bytes, more`;
    return this.errors.make('too-big', `message ${entry.id} ${has} than the ${maxBytes} bytes allowed`);
  }
}

/** Whether a header section has a Message-ID field with this value (folded lines unfolded, compared without case). */
function hasMessageId(header: Buffer, messageId: string): boolean {
  const unfolded = header.toString('latin1').replace(/\r?\n[ \t]+/g, ' ');
  const wanted = messageId.trim().toLowerCase();
  return unfolded.split(/\r?\n/).some((line) => {
    const field = /^message-id\s*:(.*)$/i.exec(line);
    return field?.[1] !== undefined && field[1].trim().toLowerCase() === wanted;
  });
}
