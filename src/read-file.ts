import { closeSync, constants, fstat, fstatSync, openSync, readSync, close, type Stats } from 'node:fs';
import { promisify } from 'node:util';

/**
 * Reading a file a user names, of any kind: it must be a regular file (or, where the kind allows,
 * a pipe read once to its end), and no more than the kind's limit is ever read. The file is opened
 * without blocking, so a FIFO without a writer or a device is refused, never waited on.
 */

/** What a kind of file allows. */
export interface ReadLimit {
  /** The most bytes a file of this kind may hold. */
  maxBytes: number;
  /** A pipe (`--ca <(cat ca.pem)`) is read to its end within this many milliseconds; without it, a pipe is refused. */
  pipeDeadlineMs?: number;
}

/** Why a file could not be read, as data: callers word it for their kind and say where it was named. */
export type ReadProblem =
  | { reason: 'missing' }
  | { reason: 'denied' }
  | { reason: 'folder' }
  | { reason: 'name-too-long' }
  | { reason: 'not-regular'; type: string }
  | { reason: 'too-big'; maxBytes: number; bytes?: number }
  | { reason: 'pipe-timeout'; ms: number }
  | { reason: 'empty-pipe' }
  | { reason: 'other'; code: string };

export class FileReadError extends Error {
  override name = 'FileReadError';
  constructor(
    readonly path: string,
    readonly problem: ReadProblem,
  ) {
    super(`${shortPath(path)}: ${problemText(problem)}`);
  }
}

/** The problem in words, without the path: "not a regular file (a character device)". */
export function problemText(problem: ReadProblem): string {
  switch (problem.reason) {
    case 'missing':
      return 'no such file';
    case 'denied':
      return 'permission denied';
    case 'folder':
      return 'it is a folder';
    case 'name-too-long':
      return 'the name is too long';
    case 'not-regular':
      return `not a regular file (${problem.type})`;
    case 'too-big':
      return `the file is ${problem.bytes === undefined ? 'more than ' + sizeText(problem.maxBytes) : sizeText(problem.bytes)}; at most ${sizeText(problem.maxBytes)} is read`;
    case 'pipe-timeout':
      return `the pipe did not end within ${problem.ms / 1000} s`;
    case 'empty-pipe':
      return 'the pipe is empty: nothing was written to it';
    case 'other':
      return problem.code;
  }
}

/** Bytes as a reader says them: "1 MiB", "5 MiB", "12.5 KiB". */
export function sizeText(bytes: number): string {
  const units: [number, string][] = [
    [1024 ** 3, 'GiB'],
    [1024 ** 2, 'MiB'],
    [1024, 'KiB'],
  ];
  for (const [size, unit] of units) {
    if (bytes >= size) {
      const tenths = Math.ceil((bytes * 10) / size);
      return `${tenths % 10 === 0 ? tenths / 10 : (tenths / 10).toFixed(1)} ${unit}`;
    }
  }
  return `${bytes} bytes`;
}

/** A long path cut in the middle for messages: its first 40 and last 30 characters. */
export function shortPath(path: string): string {
  return path.length <= 80 ? path : `${path.slice(0, 40)}…${path.slice(-30)}`;
}

/** The problem of a failed system call on `path`. */
export function problemOf(error: unknown): ReadProblem {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return { reason: 'missing' };
    case 'EACCES':
    case 'EPERM':
      return { reason: 'denied' };
    case 'EISDIR':
      return { reason: 'folder' };
    case 'ENAMETOOLONG':
      return { reason: 'name-too-long' };
    default:
      return { reason: 'other', code: code ?? 'unknown error' };
  }
}

/** What a file that is not regular is, for "not a regular file (a FIFO)". */
export function fileType(info: Stats): string {
  if (info.isFIFO()) return 'a FIFO';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a file';
}

/** The problem of a file with these facts, or undefined when it may be read. */
export function typeProblem(info: Stats, limit: ReadLimit): ReadProblem | undefined {
  if (info.isDirectory()) return { reason: 'folder' };
  if (info.isFile()) return info.size > limit.maxBytes ? { reason: 'too-big', maxBytes: limit.maxBytes, bytes: info.size } : undefined;
  if (isPipe(info) && limit.pipeDeadlineMs !== undefined) return undefined;
  return { reason: 'not-regular', type: fileType(info) };
}

function isPipe(info: Stats): boolean {
  return info.isFIFO() || info.isSocket();
}

/** Opening never waits: O_NONBLOCK makes a FIFO without a writer open at once, to be refused by its type. */
export const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/** Opens `path` without blocking; throws FileReadError. */
function openFd(path: string): number {
  try {
    return openSync(path, OPEN_FLAGS);
  } catch (error) {
    throw new FileReadError(path, problemOf(error));
  }
}

/** The whole of a regular file (not a pipe) within the limit, read synchronously; throws FileReadError. */
export function readFileWithin(path: string, limit: ReadLimit): Buffer {
  const fd = openFd(path);
  try {
    const info = fstatSync(fd);
    const problem = typeProblem(info, { maxBytes: limit.maxBytes });
    if (problem) throw new FileReadError(path, problem);
    return readRegular(fd, path, info.size, limit.maxBytes);
  } catch (error) {
    throw error instanceof FileReadError ? error : new FileReadError(path, problemOf(error));
  } finally {
    closeSync(fd);
  }
}

/** An open regular file's bytes, in one buffer sized from its size; one byte more tells a file that grew past the limit. */
function readRegular(fd: number, path: string, size: number, maxBytes: number): Buffer {
  const buffer = Buffer.alloc(Math.min(size, maxBytes) + 1);
  let total = 0;
  for (let got = -1; got !== 0 && total < buffer.length; total += got) got = readSync(fd, buffer, total, buffer.length - total, null);
  if (total > maxBytes) throw new FileReadError(path, { reason: 'too-big', maxBytes });
  return buffer.subarray(0, total);
}

const fstatAsync = promisify(fstat);
const closeAsync = promisify(close);

/** The whole of a file within the limit; a pipe, where the limit allows one, is read to its end under its deadline. Throws FileReadError. */
export async function readFileWithinAsync(path: string, limit: ReadLimit): Promise<Buffer> {
  const fd = openFd(path);
  let info: Stats;
  try {
    info = await fstatAsync(fd);
    const problem = typeProblem(info, limit);
    if (problem) throw new FileReadError(path, problem);
  } catch (error) {
    await closeAsync(fd);
    throw error instanceof FileReadError ? error : new FileReadError(path, problemOf(error));
  }
  if (isPipe(info)) return readPipe(fd, path, limit.maxBytes, limit.pipeDeadlineMs!);
  try {
    // A regular file within its limit is read at once, as readFileWithin reads it: a few megabytes at most.
    return readRegular(fd, path, info.size, limit.maxBytes);
  } catch (error) {
    throw error instanceof FileReadError ? error : new FileReadError(path, problemOf(error));
  } finally {
    await closeAsync(fd);
  }
}

/**
 * A pipe's bytes up to its end, at most maxBytes, within deadlineMs. A first read without waiting tells a
 * pipe that nothing writes to (it ends at once) from one whose writer is still at work; the socket then
 * owns and closes the descriptor.
 */
async function readPipe(fd: number, path: string, maxBytes: number, deadlineMs: number): Promise<Buffer> {
  const first = Buffer.alloc(64 * 1024);
  let got: number;
  try {
    got = readSync(fd, first, 0, first.length, null);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') {
      closeSync(fd);
      throw new FileReadError(path, problemOf(error));
    }
    got = -1;
  }
  if (got === 0) {
    closeSync(fd);
    throw new FileReadError(path, { reason: 'empty-pipe' });
  }
  const start = got > 0 ? first.subarray(0, got) : Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    // node:net is loaded only here: most commands read no pipe, and start sooner without it.
    const { Socket } = process.getBuiltinModule('node:net');
    const socket = new Socket({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [start];
    let total = start.length;
    const finish = (error: FileReadError | undefined) => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.destroy();
      if (error) reject(error);
      else resolve(Buffer.concat(chunks, total));
    };
    const timer = setTimeout(() => finish(new FileReadError(path, { reason: 'pipe-timeout', ms: deadlineMs })), deadlineMs);
    socket.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > maxBytes) finish(new FileReadError(path, { reason: 'too-big', maxBytes }));
      else chunks.push(chunk);
    });
    socket.on('end', () => finish(undefined));
    socket.on('error', (error) => finish(new FileReadError(path, problemOf(error))));
  });
}

/** Limits by kind of file. */
export const LIMITS = {
  /** Scenario files, manifests and included files. */
  scenario: { maxBytes: 5 * 1024 * 1024 },
  /** CA certificates, client certificates and keys given in files. */
  certificate: { maxBytes: 1024 * 1024 },
  /** The same given with a flag: a pipe (`--ca <(…)`) is read once, to its end, within 10 s. */
  certificateFlag: { maxBytes: 1024 * 1024, pipeDeadlineMs: 10_000 },
  /** Message files and attachments, streamed, never read whole. */
  message: { maxBytes: 1024 * 1024 * 1024 },
} as const satisfies Record<string, ReadLimit>;
