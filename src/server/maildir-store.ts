import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, relative, isAbsolute } from 'node:path';

/**
 * The embedded server's mail store: one Maildir per local part under a root folder
 * (`<root>/<local part>/new/…`), and Maildir++ subfolders (`.Junk`) inside it, as Dovecot and
 * Courier lay them out. A message is written to tmp/ and renamed into new/, so a reader never sees
 * half a message. Files keep the message's CRLF line endings, as received.
 *
 * The demo does not fsync before the rename: a crash may lose the last messages, which a sink for
 * tests can afford (a real MTA must not).
 */

/** The Maildir++ subfolder for messages the demo's spam check catches. */
export const JUNK_FOLDER = '.Junk';

/** Names Windows keeps for devices, whatever the extension: never a folder of ours. */
const DEVICE_NAME = /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/;
/** Folder names stay well under every file system's 255-byte limit. */
const MAX_NAME_LENGTH = 64;

/**
 * A local part as a folder name: lowercased, every character outside [a-z0-9._+-] replaced by `_`,
 * at most 64 characters, and never `.`, `..`, a leading dot (which would look like a Maildir++
 * subfolder) or a device name: a recipient can never name a folder outside the root.
 */
export function mailboxFolderName(localPart: string): string {
  let name = localPart.toLowerCase().replace(/[^a-z0-9._+-]/g, '_').slice(0, MAX_NAME_LENGTH);
  if (name === '' || name.startsWith('.') || DEVICE_NAME.test(name)) name = `_${name}`.slice(0, MAX_NAME_LENGTH);
  return name;
}

/** This host's name as a Maildir file name may carry it: `/` and `:` escaped as the Maildir convention has it. */
function maildirHostName(): string {
  return (hostname() || 'localhost').replace(/\//g, '\\057').replace(/:/g, '\\072');
}

export class MaildirStore {
  private deliveries = 0;
  private readonly host = maildirHostName();
  /** Maildirs this store has made (or found), so each delivery does not make them again. */
  private readonly made = new Set<string>();

  constructor(readonly root: string) {}

  /** The Maildir of a local part (created when first written to). */
  mailboxOf(localPart: string): string {
    const dir = join(this.root, mailboxFolderName(localPart));
    // The name cannot climb out (see mailboxFolderName); this says so again where the path is made.
    const inside = relative(this.root, dir);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) throw new Error(`mailbox folder outside the mail root: ${inside}`);
    return dir;
  }

  /**
   * Writes a message into the Maildir of `localPart` (its top folder, or a Maildir++ subfolder such as
   * `.Junk`) and returns the path of the file in new/.
   */
  async deliver(localPart: string, content: Buffer, folder?: typeof JUNK_FOLDER): Promise<string> {
    const mailbox = this.mailboxOf(localPart);
    const dir = folder === undefined ? mailbox : join(mailbox, folder);
    try {
      return await this.write(dir, content, folder !== undefined);
    } catch (error) {
      // A Maildir removed since this store made it (someone cleaned up): made again, once.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !this.made.delete(dir)) throw error;
      return this.write(dir, content, folder !== undefined);
    }
  }

  private async write(dir: string, content: Buffer, subfolder: boolean): Promise<string> {
    if (!this.made.has(dir)) {
      await Promise.all(['tmp', 'new', 'cur'].map((sub) => mkdir(join(dir, sub), { recursive: true })));
      // Maildir++: a subfolder is marked by an empty file named maildirfolder.
      if (subfolder) await (await open(join(dir, 'maildirfolder'), 'a')).close();
      this.made.add(dir);
    }
    const name = this.uniqueName(content.length);
    const tmpPath = join(dir, 'tmp', name);
    const newPath = join(dir, 'new', name);
    const file = await open(tmpPath, 'wx');
    try {
      await file.writeFile(content);
    } catch (error) {
      await file.close();
      await rm(tmpPath, { force: true });
      throw error;
    }
    await file.close();
    await rename(tmpPath, newPath);
    return newPath;
  }

  /**
   * A name no other delivery has, in the Maildir style: `<seconds>.M<microseconds>P<pid>Q<count>R<random>.<host>,S=<size>`
   * (the count is this store's; the random part keeps two stores on one root apart).
   */
  private uniqueName(size: number): string {
    const now = Date.now();
    const seconds = Math.floor(now / 1000);
    const micros = (now % 1000) * 1000;
    this.deliveries += 1;
    return `${seconds}.M${micros}P${process.pid}Q${this.deliveries}R${randomBytes(4).toString('hex')}.${this.host},S=${size}`;
  }
}
