import { open, stat, unlink } from 'node:fs/promises';
import { writeFileAtomically } from '../atomic-file.js';
import { LIMITS, OPEN_FLAGS, readFileWithinAsync, shortPath } from '../read-file.js';
import { headerOf } from './header-section.js';
import { fileOperation, readFailure } from './maildir.js';
import { describeMailbox, MailboxError, type LocalMailbox, type MailboxDeadline, type MailboxEntry, type MailboxSession } from './types.js';

/**
 * One mbox file (mboxo or mboxrd), as a local delivery agent appends to it: each message begins with a
 * `From ` line at the start of the file or after an empty line, and lines of the message that begin
 * with `From ` (after any number of `>`) carry one `>` more. The newest message is the last one; a
 * message's id is the byte offset of its `From ` line.
 */

const INBOX = 'INBOX';
const FROM = Buffer.from('From ');

/** Where one message lies in the file: its `From ` line at `start`, the next message (or the end) at `next`. */
interface Span {
  start: number;
  next: number;
}

/** The file as last read, with the facts that tell whether it changed since. */
interface Snapshot {
  bytes: Buffer;
  size: number;
  mtimeMs: number;
  spans: Span[];
}

/** The messages of an mbox file's bytes, in file order. */
export function splitMbox(bytes: Buffer): Span[] {
  const starts: number[] = [];
  if (bytes.subarray(0, FROM.length).equals(FROM)) starts.push(0);
  for (let at = bytes.indexOf('\nFrom ', 1); at >= 0; at = bytes.indexOf('\nFrom ', at + 1)) {
    if (bytes[at - 1] === 0x0a || (bytes[at - 1] === 0x0d && bytes[at - 2] === 0x0a)) starts.push(at + 1);
  }
  return starts.map((start, index) => ({ start, next: starts[index + 1] ?? bytes.length }));
}

/** A message's bytes as received: without its `From ` line and the empty line that ends it in the file, `>From ` quoting undone. */
export function messageOf(bytes: Buffer, span: Span): Buffer {
  const lineEnd = bytes.indexOf(0x0a, span.start);
  let end = span.next;
  const body = lineEnd < 0 || lineEnd >= end ? end : lineEnd + 1;
  if (end - body >= 1 && bytes[end - 1] === 0x0a) {
    // The empty line the mbox adds after each message: "…\n\n" or "…\r\n\r\n".
    if (end - body >= 2 && bytes[end - 2] === 0x0a) end -= 1;
    else if (end - body >= 4 && bytes[end - 2] === 0x0d && bytes[end - 3] === 0x0a && bytes[end - 4] === 0x0d) end -= 2;
    else if (end - body === 1 || (end - body === 2 && bytes[end - 2] === 0x0d)) end = body;
  }
  return unquote(bytes.subarray(body, end));
}

/** Takes one `>` off each line that begins with `>From `, `>>From ` and so on (mboxrd; mboxo's `>From ` alike). */
function unquote(message: Buffer): Buffer {
  const pieces: Buffer[] = [];
  let copied = 0;
  for (let line = 0; line < message.length; ) {
    if (message[line] === 0x3e) {
      let quote = line;
      while (message[quote] === 0x3e) quote += 1;
      if (message.subarray(quote, quote + FROM.length).equals(FROM)) {
        pieces.push(message.subarray(copied, line));
        copied = line + 1;
      }
    }
    const next = message.indexOf(0x0a, line);
    if (next < 0) break;
    line = next + 1;
  }
  if (copied === 0) return message;
  pieces.push(message.subarray(copied));
  return Buffer.concat(pieces);
}

/** When the `From ` line says the message arrived (`From sender Thu Nov  5 12:00:00 2026`), if it can be read. */
function receivedAt(bytes: Buffer, span: Span): Date | undefined {
  const lineEnd = bytes.indexOf(0x0a, span.start);
  const line = bytes.toString('latin1', span.start, lineEnd < 0 || lineEnd > span.next ? Math.min(span.next, span.start + 1000) : lineEnd).trim();
  const date = new Date(line.split(/\s+/).slice(2).join(' '));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export async function openMbox(settings: LocalMailbox, deadline: MailboxDeadline): Promise<MailboxSession> {
  const name = describeMailbox(settings);
  const path = settings.path;
  const timed = <T>(what: string, work: () => Promise<T>) => fileOperation(name, deadline, what, work);
  const notMbox = (why: string) => new MailboxError('not-found', `${name}: ${shortPath(path)} ${why}.`);

  await timed('opening it', async () => {
    const info = await stat(path).catch(() => undefined);
    if (info === undefined) throw notMbox('does not exist');
    if (!info.isFile()) throw notMbox('is not an mbox file (not a regular file)');
    const handle = await open(path, OPEN_FLAGS);
    try {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(FROM.length), 0, FROM.length, 0);
      if (bytesRead > 0 && !buffer.subarray(0, bytesRead).equals(FROM.subarray(0, bytesRead))) throw notMbox('is not an mbox file (it does not begin with a "From " line)');
    } finally {
      await handle.close();
    }
  });

  /** The file as it is now: the last snapshot when it has not changed since, else read again. */
  let snapshot: Snapshot | undefined;
  /** The file's facts when it was last listed: remove() refuses to rewrite a file that changed since. */
  let listed: { size: number; mtimeMs: number } | undefined;
  const current = (what: string): Promise<Snapshot> =>
    timed(what, async () => {
      try {
        const before = await stat(path);
        if (snapshot && snapshot.size === before.size && snapshot.mtimeMs === before.mtimeMs) return snapshot;
        const bytes = await readFileWithinAsync(path, LIMITS.message);
        snapshot = { bytes, size: before.size, mtimeMs: before.mtimeMs, spans: splitMbox(bytes) };
        if (bytes.length !== before.size) snapshot.size = -1; // Written to while read: read again next time.
        return snapshot;
      } catch (error) {
        throw readFailure(name, error, what);
      }
    });

  const spanOf = (file: Snapshot, entry: MailboxEntry): Span => {
    const span = file.spans.find((candidate) => String(candidate.start) === entry.id);
    if (entry.folder !== INBOX || span === undefined) throw new MailboxError('not-found', `${name}: no message at byte ${entry.id} in ${entry.folder} (the file changed, or it was removed).`);
    return span;
  };

  return {
    async folders() {
      return [INBOX];
    },
    async list(folders, options) {
      for (const folder of folders) if (folder !== INBOX) throw new MailboxError('not-found', `${name}: no folder ${JSON.stringify(folder)} (an mbox file has INBOX only).`);
      if (!folders.includes(INBOX)) return [];
      const file = await current('reading it');
      listed = { size: file.size, mtimeMs: file.mtimeMs };
      return file.spans
        .slice(Math.max(0, file.spans.length - Math.max(0, options.limit)))
        .reverse()
        .map((span) => {
          const message = messageOf(file.bytes, span);
          const entry: MailboxEntry = { folder: INBOX, id: String(span.start), header: Buffer.from(headerOf(message)), size: message.length };
          const when = receivedAt(file.bytes, span);
          if (when) entry.receivedAt = when;
          return entry;
        });
    },
    async read(entry, maxBytes) {
      const file = await current(`reading the message at byte ${entry.id}`);
      const message = messageOf(file.bytes, spanOf(file, entry));
      if (message.length > maxBytes) throw new MailboxError('too-big', `${name}: the message at byte ${entry.id} is ${message.length} bytes, more than the ${maxBytes} read.`);
      return Buffer.from(message);
    },
    async remove(entry) {
      const what = `removing the message at byte ${entry.id}`;
      const lock = `${path}.lock`;
      await timed(what, async () => {
        // The dot-lock local delivery agents take before they append: nothing is delivered while the file is rewritten.
        try {
          await (await open(lock, 'wx')).close();
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          throw new MailboxError('io', `${name}: ${what}: ${code === 'EEXIST' ? `${shortPath(lock)} exists (another program is writing the file)` : (code ?? String(error))}.`);
        }
        try {
          const info = await stat(path);
          if (listed === undefined || info.size !== listed.size || info.mtimeMs !== listed.mtimeMs) {
            throw new MailboxError('io', `${name}: ${what}: the file changed since it was listed; it is left as it is.`);
          }
          const file = await current(what);
          const span = spanOf(file, entry);
          writeFileAtomically(path, Buffer.concat([file.bytes.subarray(0, span.start), file.bytes.subarray(span.next)]), { replace: true, mode: info.mode & 0o7777 });
          snapshot = undefined;
          listed = undefined;
        } catch (error) {
          throw error instanceof MailboxError ? error : readFailure(name, error, what);
        } finally {
          await unlink(lock).catch(() => undefined);
        }
      });
    },
    async close() {
      snapshot = undefined;
    },
  };
}
