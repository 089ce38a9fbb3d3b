import type { Writable } from 'node:stream';
import { writeFileAtomically } from '../atomic-file.js';

/** Where a reporter writes its text. `close` leaves the output complete. */
export interface Sink {
  write(text: string): void;
  close(): Promise<void>;
}

/**
 * Writes straight through to a stream. `close` only waits for pending data to drain;
 * the stream stays open, so stdout can be shared and is never ended. A stream that fails
 * (stdout piped into `head -n 1` or sent to a full disk) takes nothing more: the rest is
 * dropped quietly, and the run goes on to its report files and its exit code.
 */
export function streamSink(stream: NodeJS.WritableStream): Sink {
  let needsDrain = false;
  let broken = false;
  stream.on('error', () => {
    broken = true;
  });
  return {
    write(text) {
      if (broken) return;
      if (!stream.write(text)) needsDrain = true;
    },
    async close() {
      if (needsDrain && !broken) await drained(stream);
      needsDrain = false;
    },
  };
}

function drained(stream: NodeJS.WritableStream): Promise<void> {
  const state = stream as Partial<Pick<Writable, 'destroyed' | 'writableNeedDrain'>>;
  // Already drained, or broken: a 'drain' event will never come.
  if (state.destroyed === true || state.writableNeedDrain === false) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    // A stream that errors or closes will never drain; waiting would hang the run.
    stream.on('drain', done);
    stream.on('error', done);
    stream.on('close', done);
  });
}

/** What a file sink is told. */
export interface FileSinkOptions {
  /** Called as soon as the file is in place, before anything else can run (a signal's handler among them). */
  onWritten?: () => void;
}

/**
 * Keeps everything in memory and writes the file on `close`, whole (see atomic-file.ts):
 * a reader sees either the old file or the complete new one. Missing parent folders are created.
 */
export function fileSink(path: string, options: FileSinkOptions = {}): Sink {
  const chunks: string[] = [];
  let closing: Promise<void> | undefined;
  return {
    write(text) {
      if (closing) throw new Error(`report sink for ${path} is already closed`);
      chunks.push(text);
    },
    close() {
      closing ??= (async () => {
        writeFileAtomically(path, chunks, { replace: true, createFolder: true });
        options.onWritten?.();
      })();
      return closing;
    },
  };
}

/** Collects the text in memory; for embedding and tests. */
export interface MemorySink extends Sink {
  readonly text: string;
  readonly closed: boolean;
}

export function memorySink(): MemorySink {
  let text = '';
  let closed = false;
  return {
    get text() {
      return text;
    },
    get closed() {
      return closed;
    },
    write(chunk) {
      text += chunk;
    },
    async close() {
      closed = true;
    },
  };
}
