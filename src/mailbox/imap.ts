import { createRequire } from 'node:module';
import type { FetchMessageObject, ImapFlow, ImapFlowOptions } from 'imapflow';
import { MailboxError, type MailboxDeadline, type MailboxEntry, type MailboxSession, type NetworkMailbox } from './types.js';
import { HEADER_MAX } from './header-section.js';
import { ErrorMaker, bounded, secretsOf, socketErrorOf, tlsOptionsOf } from './network.js';

/**
 * An IMAP mailbox (RFC 9051 / 3501) through imapflow, loaded only when a mailbox is opened. Every
 * command is raced against the deadline besides imapflow's own timeouts, so a server that greets
 * and then says nothing still fails in time.
 */

/** At most this much of a message's header section is kept. */

interface ImapFlowModule {
  ImapFlow: new (options: ImapFlowOptions) => ImapFlow;
}

/** imapflow's error properties this backend reads (it sets them on plain Errors). */
interface ImapFlowFailure {
  code?: unknown;
  authenticationFailed?: unknown;
  tlsFailed?: unknown;
  mailboxMissing?: unknown;
  responseStatus?: unknown;
  responseText?: unknown;
}

const TIMEOUT_CODES = new Set(['CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT', 'ETIMEOUT', 'LockTimeout']);
const CLOSED_CODES = new Set(['NoConnection', 'EConnectionClosed', 'StateLogout', 'ClosedAfterConnectText', 'ClosedAfterConnectTLS']);

export async function openImap(settings: NetworkMailbox, deadline: MailboxDeadline): Promise<MailboxSession> {
  const { ImapFlow: Client } = createRequire(import.meta.url)('imapflow') as ImapFlowModule;
  const errors = new ErrorMaker(settings, secretsOf(settings));
  const { timeoutMs } = deadline;
  const client = new Client({
    host: settings.host,
    port: settings.port,
    secure: settings.tls === 'implicit',
    ...(settings.tls === 'implicit' ? {} : { doSTARTTLS: settings.tls === 'starttls' }),
    tls: tlsOptionsOf(settings),
    ...(settings.user !== undefined ? { auth: { user: settings.user, pass: settings.password ?? '' } } : {}),
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  // imapflow reports a broken connection as an 'error' event too; the command under way rejects with it.
  client.on('error', () => {});

  const failure = (error: unknown, what: string): MailboxError => mapError(error, what, errors, settings, timeoutMs);
  const step = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    try {
      return await bounded(work(), deadline, errors, what, () => client.close());
    } catch (error) {
      throw failure(error, what);
    }
  };
  /** Runs `work` with `folder` selected (read-only unless it changes the folder), the lock released after. */
  const inFolder = async <T>(folder: string, readOnly: boolean, what: string, work: () => Promise<T>): Promise<T> => {
    const lock = await step(`opening folder "${folder}"`, () => client.getMailboxLock(folder, { readOnly })).catch(async (error: unknown) => {
      // A server may refuse to open a folder that does not exist with BAD rather than NO: the list says.
      if (error instanceof MailboxError && error.kind === 'protocol' && !(await folderNames()).includes(folder)) {
        throw errors.make('not-found', `there is no folder "${folder}"`);
      }
      throw error;
    });
    try {
      return await step(what, work);
    } finally {
      lock.release();
    }
  };

  const folderNames = async (): Promise<string[]> => {
    const boxes = await step('listing folders', () => client.list());
    return boxes.filter((box) => !hasFlag(box.flags, '\\Noselect') && !hasFlag(box.flags, '\\NonExistent')).map((box) => box.path);
  };

  await step(settings.tls === 'starttls' ? 'the greeting, STARTTLS and login' : 'the greeting and login', () => client.connect());

  const listFolder = async (folder: string, limit: number, messageId: string | undefined): Promise<MailboxEntry[]> =>
    inFolder(folder, true, `listing folder "${folder}"`, async () => {
      const exists = client.mailbox === false ? 0 : client.mailbox.exists;
      if (exists === 0 || limit <= 0) return [];
      let range: string;
      let byUid: boolean;
      if (messageId === undefined) {
        range = `${Math.max(1, exists - limit + 1)}:*`;
        byUid = false;
      } else {
        const uids = await client.search({ header: { 'message-id': messageId } }, { uid: true });
        if (uids === false || uids === undefined) throw errors.make('protocol', `the server refused to search folder "${folder}"`);
        if (uids.length === 0) return [];
        range = uids.slice(-limit).join(',');
        byUid = true;
      }
      const messages = await client.fetchAll(range, { uid: true, size: true, internalDate: true, headers: true }, { uid: byUid });
      return messages.map((message) => entryOf(folder, message)).sort((a, b) => Number(b.id) - Number(a.id));
    });

  return {
    folders: folderNames,

    async list(folders, { limit, messageId }) {
      const found: MailboxEntry[] = [];
      for (const folder of folders) found.push(...(await listFolder(folder, limit, messageId)));
      // Stable: within a folder, and for equal dates, the higher UID stays first.
      found.sort((a, b) => (b.receivedAt?.getTime() ?? 0) - (a.receivedAt?.getTime() ?? 0));
      return found.slice(0, Math.max(0, limit));
    },

    async read(entry, maxBytes) {
      return inFolder(entry.folder, true, `reading message ${entry.id} in "${entry.folder}"`, async () => {
        const sized = await client.fetchOne(entry.id, { uid: true, size: true }, { uid: true });
        if (sized === false) throw errors.make('not-found', `message ${entry.id} is no longer in folder "${entry.folder}"`);
        if ((sized.size ?? 0) > maxBytes) throw tooBig(errors, entry, sized.size ?? 0, maxBytes);
        const whole = await client.fetchOne(entry.id, { uid: true, source: true }, { uid: true });
        if (whole === false || whole.source === undefined) throw errors.make('not-found', `message ${entry.id} is no longer in folder "${entry.folder}"`);
        if (whole.source.length > maxBytes) throw tooBig(errors, entry, whole.source.length, maxBytes);
        return whole.source;
      });
    },

    async remove(entry) {
      await inFolder(entry.folder, false, `deleting message ${entry.id} in "${entry.folder}"`, async () => {
        const deleted = await client.messageDelete(entry.id, { uid: true });
        if (!deleted) throw errors.make('protocol', `the server did not delete message ${entry.id} in folder "${entry.folder}"`);
      });
    },

    async close() {
      if (!client.usable) {
        client.close();
        return;
      }
      try {
        await bounded(client.logout(), deadline, errors, 'LOGOUT', () => client.close());
      } catch {
        client.close();
      }
    },
  };
}

function entryOf(folder: string, message: FetchMessageObject): MailboxEntry {
  const header = message.headers ?? Buffer.alloc(0);
  const date = message.internalDate;
  const receivedAt = date === undefined ? undefined : date instanceof Date ? date : new Date(date);
  return {
    folder,
    id: String(message.uid),
    header: header.length > HEADER_MAX ? header.subarray(0, HEADER_MAX) : header,
    size: message.size ?? 0,
    ...(receivedAt !== undefined && !Number.isNaN(receivedAt.getTime()) ? { receivedAt } : {}),
  };
}

function hasFlag(flags: Set<string> | undefined, flag: string): boolean {
  return [...(flags ?? [])].some((value) => value.toLowerCase() === flag.toLowerCase());
}

function tooBig(errors: ErrorMaker, entry: MailboxEntry, size: number, maxBytes: number): MailboxError {
  return errors.make('too-big', `message ${entry.id} in "${entry.folder}" has ${size} bytes, more than the ${maxBytes} allowed`);
}

/** imapflow's failure as a MailboxError, told by its properties and codes. */
function mapError(error: unknown, what: string, errors: ErrorMaker, settings: NetworkMailbox, timeoutMs: number): MailboxError {
  if (error instanceof MailboxError) return error;
  const socket = socketErrorOf(error, errors, settings);
  if (socket !== undefined) return socket;
  const failure = (typeof error === 'object' && error !== null ? error : {}) as ImapFlowFailure;
  const code = typeof failure.code === 'string' ? failure.code : undefined;
  const said = typeof failure.responseText === 'string' && failure.responseText !== '' ? `: ${failure.responseText}` : '';
  if (failure.authenticationFailed === true) {
    return errors.make('auth', `the server refused the login of user "${settings.user ?? ''}"`);
  }
  if (failure.tlsFailed === true) {
    return errors.make('tls', code === 'STARTTLS_INJECTION' ? 'the server sent data between STARTTLS and the TLS handshake' : 'the server does not offer STARTTLS, which is required');
  }
  if (code !== undefined && TIMEOUT_CODES.has(code)) return errors.make('timeout', `no reply within ${timeoutMs} ms to ${what}`);
  if (code !== undefined && CLOSED_CODES.has(code)) return errors.make('connect', `the server closed the connection during ${what}`);
  if (failure.mailboxMissing === true) return errors.make('not-found', `${what}: there is no such folder`);
  if (failure.responseStatus === 'NO' || failure.responseStatus === 'BAD') {
    return errors.make('protocol', `${what}: the server answered ${failure.responseStatus}${said}`);
  }
  const reason = error instanceof Error ? error.message : String(error);
  return errors.make('protocol', `${what} failed: ${reason}${code !== undefined ? ` (${code})` : ''}`);
}
