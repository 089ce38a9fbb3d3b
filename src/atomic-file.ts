import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, linkSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Files written whole or not at all: first a temporary file beside the target
 * (`.<name>.<random>.tmp`), then a rename, so a reader sees either the old file or the
 * complete new one, and a failed write leaves neither a half file nor the temporary one.
 *
 * The write is synchronous from the temporary file to the rename: a signal's handler, which
 * runs between two turns of the event loop, finds either no temporary file or the file renamed
 * into place, so a process that exits at once on a second Ctrl-C leaves no half report and no
 * temporary file. (An asynchronous write would leave the file system calls running on Node's
 * threads while the process ends.)
 */

export interface AtomicWriteOptions {
  /** Replace a file at the path. Without it an existing file is never replaced, even one that appears meanwhile: the write fails with EEXIST. */
  replace: boolean;
  /** Create missing parent folders first. */
  createFolder?: boolean;
  /** The new file's permissions (before the umask), e.g. those of the file it replaces; default 0o666. */
  mode?: number;
}

/** `text` may come in pieces, written in order: a large report need not be joined into one string first; bytes are written as they are. */
export function writeFileAtomically(path: string, text: string | Uint8Array | readonly string[], options: AtomicWriteOptions): void {
  if (options.createFolder) createFolder(dirname(path));
  const temp = temporaryName(path);
  try {
    if (typeof text === 'string' || text instanceof Uint8Array) writeFileSync(temp, text, { flag: 'wx', mode: options.mode ?? 0o666 });
    else writePieces(temp, text, options.mode ?? 0o666);
    if (options.replace) renameSync(temp, path);
    else linkOrRename(temp, path);
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // Renamed into place, or never made.
    }
  }
}

/** Pieces joined into runs of about this many characters, so that small pieces do not cost a system call each. */
const WRITE_RUN = 1 << 20;

function writePieces(temp: string, pieces: readonly string[], mode: number): void {
  const fd = openSync(temp, 'wx', mode);
  try {
    let run: string[] = [];
    let length = 0;
    // A character outside the BMP split between two pieces is written whole, with the next run.
    let carried = '';
    const flush = (last: boolean): void => {
      let text = carried + run.join('');
      carried = '';
      const end = text.charCodeAt(text.length - 1);
      if (!last && end >= 0xd800 && end <= 0xdbff) [text, carried] = [text.slice(0, -1), text.slice(-1)];
      if (text !== '') writeAll(fd, Buffer.from(text, 'utf8'));
      run = [];
      length = 0;
    };
    for (const piece of pieces) {
      run.push(piece);
      length += piece.length;
      if (length >= WRITE_RUN) flush(false);
    }
    flush(true);
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Buffer): void {
  for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
}

/**
 * Makes a folder and its missing parents, one level at a time from the nearest one that exists, and
 * fails with the system's error where one cannot be made. (Node's recursive mkdir loops for ever on
 * some paths, such as one under /proc.) Each step goes one level down a path of known length.
 */
export function createFolder(folder: string): void {
  const missing: string[] = [];
  for (let current = resolve(folder); ; current = dirname(current)) {
    if (existsSync(current)) {
      if (statSync(current).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${current}'`), { code: 'ENOTDIR', syscall: 'mkdir', path: current });
    }
    missing.unshift(current);
    if (dirname(current) === current) break;
  }
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (error) {
      // Made meanwhile by another process: fine when it is a folder.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(level).isDirectory()) throw error;
    }
  }
}

/**
 * Makes the folder of `path` and proves that the file can be written there, by making and removing a
 * temporary file as a write would: a report's path is checked so before the run, not after it.
 */
export function prepareFolderFor(path: string): void {
  const folder = dirname(path);
  createFolder(folder);
  const probe = temporaryName(path);
  writeFileSync(probe, '', { flag: 'wx' });
  unlinkSync(probe);
}

function temporaryName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** A hard link fails when the name is taken; where links are not supported, a rename after a last check. */
function linkOrRename(temp: string, path: string): void {
  try {
    linkSync(temp, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || !(code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS')) throw error;
    if (existsSync(path)) throw Object.assign(new Error(`${path} already exists`), { code: 'EEXIST' });
    renameSync(temp, path);
  }
}
