import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Files written whole or not at all: first a temporary file beside the target
 * (`.<name>.<random>.tmp`), then a rename, so a reader sees either the old file or the
 * complete new one, and a failed write leaves neither a half file nor the temporary one.
 */

export interface AtomicWriteOptions {
  /** Replace a file at the path. Without it an existing file is never replaced, even one that appears meanwhile: the write fails with EEXIST. */
  replace: boolean;
  /** Create missing parent folders first. */
  createFolder?: boolean;
}

export async function writeFileAtomically(path: string, text: string, options: AtomicWriteOptions): Promise<void> {
  const folder = dirname(path);
  if (options.createFolder) await mkdir(folder, { recursive: true });
  const temp = join(folder, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text, { flag: 'wx' });
    if (options.replace) await rename(temp, path);
    else await linkOrRename(temp, path);
  } finally {
    await unlink(temp).catch(() => {});
  }
}

/** A hard link fails when the name is taken; where links are not supported, a rename after a last check. */
async function linkOrRename(temp: string, path: string): Promise<void> {
  try {
    await link(temp, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || !(code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS')) throw error;
    if (existsSync(path)) throw Object.assign(new Error(`${path} already exists`), { code: 'EEXIST' });
    await rename(temp, path);
  }
}
