import { createReadStream, createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { brotliDecompressSync, createBrotliDecompress } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';
import { GENEROUS_MS } from './deadlines.js';

/**
 * A headless Chromium from the npm registry: the package @sparticuz/chromium (a devDependency,
 * pinned) ships the browser brotli-compressed, with the NSS libraries it links against. The
 * browser test and scripts/report-screenshot.mjs both launch it through launchChromium().
 *
 * Unpacked once per package version into node_modules/.cache/smtpspec-chromium/<version>/,
 * beside the package (so `npm ci` clears both). Concurrent test runs are safe: each process
 * unpacks into a folder of its own and renames it into place; the version folder only ever
 * appears whole, and a process that loses the race drops its copy and uses the winner's.
 */

const PACKAGE = '@sparticuz/chromium';

/** Headless, and quiet: no first-run pages, background fetches or updates that could reach the network. */
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface UnpackedChromium {
  executable: string;
  /** Shared libraries the executable needs (NSS, expat), put first on its LD_LIBRARY_PATH. */
  libraries: string;
}

/** The package's folder, found from its entry point (its exports do not include package.json). */
function packageFolder(): string {
  let folder = dirname(createRequire(import.meta.url).resolve(PACKAGE));
  while (!existsSync(join(folder, 'package.json')) || (JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { name?: string }).name !== PACKAGE) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error(`${PACKAGE} has no package.json above its entry point`);
    folder = parent;
  }
  return folder;
}

/** The regular files of a ustar archive, by name. */
function* tarFiles(archive: Buffer): Generator<{ name: string; mode: number; data: Buffer }> {
  const field = (start: number, length: number): string => archive.toString('latin1', start, start + length).replace(/\0.*$/s, '');
  for (let offset = 0; offset + 512 <= archive.length; ) {
    const name = field(offset, 100);
    if (name === '') return;
    const size = parseInt(field(offset + 124, 12).trim(), 8);
    const type = field(offset + 156, 1);
    const prefix = field(offset + 345, 155);
    const start = offset + 512;
    if (type === '0' || type === '') {
      yield { name: prefix ? `${prefix}/${name}` : name, mode: parseInt(field(offset + 100, 8).trim(), 8), data: archive.subarray(start, start + size) };
    }
    offset = start + Math.ceil(size / 512) * 512;
  }
}

async function isExecutableFile(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => undefined);
  return info !== undefined && info.isFile() && (info.mode & 0o111) !== 0 && info.size > 0;
}

/** Unpacks into a folder of this process's own, then renames it to `folder` unless another process did first. */
async function unpackInto(source: string, folder: string): Promise<void> {
  const temp = `${folder}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await mkdir(join(temp, 'lib'), { recursive: true });
    await pipeline(createReadStream(join(source, 'bin', 'chromium.br')), createBrotliDecompress(), createWriteStream(join(temp, 'chromium'), { mode: 0o755 }));
    const libraries = [...tarFiles(brotliDecompressSync(readFileSync(join(source, 'bin', 'al2023.tar.br'))))].filter((file) => /^lib\/[^/]+$/.test(file.name));
    if (!libraries.some((file) => file.name === 'lib/libnss3.so')) throw new Error(`${PACKAGE}'s al2023.tar.br has no lib/libnss3.so`);
    for (const file of libraries) await writeFile(join(temp, file.name), file.data, { mode: file.mode & 0o777 });
    await rename(temp, folder).catch((error: NodeJS.ErrnoException) => {
      // Another process renamed its copy into place first: use that one.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Removes what an older version or an interrupted unpacking left in the cache; a copy still being written is kept. */
async function clearStale(cache: string, version: string): Promise<void> {
  for (const name of await readdir(cache)) {
    const unpacking = /\.(\d+)-[0-9a-f]+\.tmp$/.exec(name);
    if (name === version || (unpacking && alive(Number(unpacking[1])))) continue;
    await rm(join(cache, name), { recursive: true, force: true });
  }
}

/** The browser, unpacked on first use; throws with the reason when it cannot be. */
export async function unpackChromium(): Promise<UnpackedChromium> {
  const source = packageFolder();
  const { version } = JSON.parse(readFileSync(join(source, 'package.json'), 'utf8')) as { version: string };
  const cache = join(source, '..', '..', '.cache', 'smtpspec-chromium');
  const folder = join(cache, version);
  const executable = join(folder, 'chromium');
  if (!existsSync(folder)) {
    await mkdir(cache, { recursive: true });
    await clearStale(cache, version);
    await unpackInto(source, folder);
  }
  if (!(await isExecutableFile(executable))) {
    throw new Error(`${executable} is not an executable file: delete ${folder} and run again`);
  }
  return { executable, libraries: join(folder, 'lib') };
}

export async function launchChromium(): Promise<Browser> {
  const { executable, libraries } = await unpackChromium();
  const env = { ...process.env, LD_LIBRARY_PATH: [libraries, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
  return chromium.launch({ executablePath: executable, args: LAUNCH_ARGS, env, timeout: GENEROUS_MS });
}
