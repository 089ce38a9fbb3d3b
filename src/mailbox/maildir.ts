import { constants } from 'node:fs';
import { lstat, open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { FileReadError, OPEN_FLAGS, problemText, readFileWithinAsync, shortPath } from '../read-file.js';
import { withinDeadline } from './deadline.js';
import { HEADER_MAX, headerEnd } from './header-section.js';
import { describeMailbox, MailboxError, type LocalMailbox, type MailboxDeadline, type MailboxEntry, type MailboxSession } from './types.js';

/**
 * A Maildir (new/, cur/, tmp/) with Maildir++ subfolders (`.Junk`, `.Sent`, `.a.b`), as an MTA or a
 * local delivery agent writes it. Each message is one file; the newest are those modified last.
 */

/**
 * Runs one file operation within the deadline: it fails with a 'timeout' MailboxError after
 * deadline.timeoutMs, and with 'aborted' as soon as deadline.signal aborts.
 */
export function fileOperation<T>(name: string, deadline: MailboxDeadline, what: string, work: () => Promise<T>): Promise<T> {
  const errors = {
    timedOut: () => new MailboxError('timeout', `${name}: no reply within ${deadline.timeoutMs} ms to ${what}`),
    interrupted: () => new MailboxError('aborted', `${name}: ${what} was interrupted`),
  };
  if (deadline.signal?.aborted) return Promise.reject(errors.interrupted());
  return withinDeadline(work(), deadline, errors);
}

/** A failed read of a message file, as a MailboxError of the right kind. */
export function readFailure(name: string, error: unknown, what: string): MailboxError {
  if (error instanceof MailboxError) return error;
  if (error instanceof FileReadError) {
    const kind = error.problem.reason === 'too-big' ? 'too-big' : error.problem.reason === 'missing' ? 'not-found' : 'io';
    return new MailboxError(kind, `${name}: ${what}: ${problemText(error.problem)}`);
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return new MailboxError(code === 'ENOENT' ? 'not-found' : 'io', `${name}: ${what}: ${code ?? String(error)}`);
}

const INBOX = 'INBOX';
const SUBFOLDERS = ['new', 'cur'] as const;

/** The Maildir's folder for a name: `INBOX` is the top, `a/b` is `.a.b`. */
function folderPath(root: string, folder: string): string {
  return folder === INBOX ? root : join(root, `.${folder.split('/').join('.')}`);
}

async function isMaildir(path: string): Promise<boolean> {
  try {
    const [top, fresh, current] = await Promise.all([stat(path), stat(join(path, 'new')), stat(join(path, 'cur'))]);
    return top.isDirectory() && fresh.isDirectory() && current.isDirectory();
  } catch {
    return false;
  }
}

/** The size a Maildir++ file name carries (`…,S=1234:2,S`), if any. */
function sizeInName(name: string): number | undefined {
  const match = /,S=(\d+)/.exec(name.split(':')[0] ?? '');
  return match ? Number(match[1]) : undefined;
}

/** A listed file: `new/…` or `cur/…` under its folder. */
interface Found {
  folder: string;
  id: string;
  path: string;
  mtimeMs: number;
  size: number;
}

export async function openMaildir(settings: LocalMailbox, deadline: MailboxDeadline): Promise<MailboxSession> {
  const name = describeMailbox(settings);
  const root = settings.path;
  const timed = <T>(what: string, work: () => Promise<T>) => fileOperation(name, deadline, what, work);
  if (!(await timed('opening it', () => isMaildir(root)))) {
    throw new MailboxError('not-found', `${name}: ${shortPath(root)} is not a Maildir (a folder with new/ and cur/ in it).`);
  }

  const folders = () =>
    timed('listing its folders', async () => {
      const names: string[] = [INBOX];
      for (const entry of await readdir(root, { withFileTypes: true })) {
        if (!entry.isDirectory() || !entry.name.startsWith('.') || entry.name === '.' || entry.name === '..') continue;
        if (await isMaildir(join(root, entry.name))) names.push(entry.name.slice(1).split('.').join('/'));
      }
      return names.sort((a, b) => (a === INBOX ? -1 : b === INBOX ? 1 : a < b ? -1 : a > b ? 1 : 0));
    });

  /** Where a listed message's file is now: a message read by a mail reader moves from new/ to cur/ and gains flags. */
  const locate = async (entry: MailboxEntry): Promise<string> => {
    const match = /^(new|cur)\/([^/]+)$/.exec(entry.id);
    if (!match || match[2] === '.' || match[2] === '..' || entry.folder.split('/').some((part) => part === '' || part.startsWith('.'))) {
      throw new MailboxError('not-found', `${name}: no message ${JSON.stringify(entry.id)} in ${entry.folder}.`);
    }
    const base = folderPath(root, entry.folder);
    const path = join(base, entry.id);
    try {
      if ((await lstat(path)).isFile()) return path;
    } catch {
      // Moved or gone: looked for by its unique part below.
    }
    const unique = (match[2] as string).split(':')[0] as string;
    for (const sub of SUBFOLDERS) {
      const names = await readdir(join(base, sub)).catch(() => [] as string[]);
      const moved = names.find((file) => file === unique || file.startsWith(`${unique}:`));
      if (moved !== undefined) return join(base, sub, moved);
    }
    throw new MailboxError('not-found', `${name}: the message ${entry.id} in ${entry.folder} is no longer there.`);
  };

  return {
    folders,
    async list(asked, options) {
      const known = new Set(await folders());
      const found: Found[] = [];
      for (const folder of asked) {
        if (!known.has(folder)) throw new MailboxError('not-found', `${name}: no folder ${JSON.stringify(folder)} (there are ${[...known].join(', ')}).`);
        const base = folderPath(root, folder);
        for (const sub of SUBFOLDERS) {
          const files = await timed(`listing ${folder}`, () => readdir(join(base, sub)).catch(() => [] as string[]));
          for (const file of files) {
            const path = join(base, sub, file);
            const info = await timed(`listing ${folder}`, () => lstat(path).catch(() => undefined));
            if (!info?.isFile()) continue;
            found.push({ folder, id: `${sub}/${file}`, path, mtimeMs: info.mtimeMs, size: sizeInName(file) ?? info.size });
          }
        }
      }
      found.sort((a, b) => b.mtimeMs - a.mtimeMs || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
      const entries: MailboxEntry[] = [];
      for (const message of found) {
        if (entries.length >= options.limit) break;
        const what = `reading ${message.id} in ${message.folder}`;
        const header = await timed(what, () =>
          readHeader(message.path).catch((error: unknown) => {
            throw readFailure(name, error, what);
          }),
        );
        if (header === undefined) continue;
        entries.push({ folder: message.folder, id: message.id, header, size: message.size, receivedAt: new Date(message.mtimeMs) });
      }
      return entries;
    },
    async read(entry, maxBytes) {
      const what = `reading ${entry.id} in ${entry.folder}`;
      return timed(what, async () => {
        try {
          return await readFileWithinAsync(await locate(entry), { maxBytes });
        } catch (error) {
          throw readFailure(name, error, what);
        }
      });
    },
    async remove(entry) {
      const what = `removing ${entry.id} in ${entry.folder}`;
      await timed(what, async () => {
        try {
          await unlink(await locate(entry));
        } catch (error) {
          throw readFailure(name, error, what);
        }
      });
    },
    async close() {},
  };
}

/** A message file's header section (at most HEADER_MAX), or undefined when it is gone or not a regular file. */
async function readHeader(path: string): Promise<Buffer | undefined> {
  let handle;
  try {
    handle = await open(path, OPEN_FLAGS | (constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP') return undefined;
    throw error;
  }
  try {
    if (!(await handle.stat()).isFile()) return undefined;
    const buffer = Buffer.alloc(HEADER_MAX);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, total, Math.min(16 * 1024, HEADER_MAX - total), null);
      if (bytesRead === 0) break;
      const end = headerEnd(buffer.subarray(0, total + bytesRead), total);
      total += bytesRead;
      if (end !== undefined) return Buffer.from(buffer.subarray(0, end));
      if (total >= HEADER_MAX) break;
    }
    return Buffer.from(buffer.subarray(0, total));
  } finally {
    await handle.close();
  }
}
