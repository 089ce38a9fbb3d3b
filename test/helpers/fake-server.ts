import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { listenOnLoopback } from './loopback-listener.js';

/**
 * A scripted TCP server for exact or hostile replies. Each accepted connection runs the script:
 *
 *   const fake = await fakeServer(async (s) => {
 *     await s.write('220 hi\r\n');
 *     assert.equal(await s.nextLine(), 'EHLO me');
 *     await s.write('250 ok\r\n');
 *   });
 *
 * The socket stays open after the script returns; close() destroys every socket.
 * Assertion failures inside a script surface through done().
 */

export interface FakeSession {
  readonly socket: net.Socket;
  /** Writes and resolves once the bytes are handed to the kernel (or the socket is gone). */
  write(data: string | Buffer): Promise<void>;
  /** Writes one byte at a time with a pause after each; stops early if the socket goes away. */
  writeSlowly(data: string | Buffer, delayMs: number): Promise<void>;
  /** The next line the client sent, without its line ending; undefined once the client has closed. */
  nextLine(): Promise<string | undefined>;
  /** Half-closes: the client sees the end of the stream. */
  end(): void;
  /** Aborts with a TCP reset: the client sees ECONNRESET. */
  reset(): void;
  /** Resolves when the connection has closed, from either side. */
  readonly closed: Promise<void>;
}

export interface FakeServer {
  host: '127.0.0.1';
  port: number;
  /** Every line clients sent, over all connections, in order (a final unterminated line included). */
  received: string[];
  /** Every byte clients sent, over all connections. */
  receivedBytes(): Buffer;
  /** Connections accepted so far. */
  readonly connectionCount: number;
  /** Waits for the script of every connection accepted so far; rethrows the first failure. */
  done(): Promise<void>;
  /** Waits until every connection accepted so far has closed, so everything its client sent has been read. */
  allClosed(): Promise<void>;
  /** Destroys every open socket and stops listening. */
  close(): Promise<void>;
}

export type FakeScript = (session: FakeSession) => Promise<void> | void;

export async function fakeServer(script: FakeScript): Promise<FakeServer> {
  const received: string[] = [];
  const chunks: Buffer[] = [];
  const scripts: Promise<void>[] = [];
  const closings: Promise<void>[] = [];
  const server = net.createServer((socket) => {
    closings.push(new Promise((resolve) => socket.once('close', () => resolve())));
    const session = createSession(socket, received, chunks);
    scripts.push(Promise.resolve().then(() => script(session)));
  });
  const listener = await listenOnLoopback(server);
  return {
    host: '127.0.0.1',
    port: listener.port,
    received,
    receivedBytes: () => Buffer.concat(chunks),
    get connectionCount() {
      return scripts.length;
    },
    done: async () => {
      const results = await Promise.allSettled(scripts);
      const failure = results.find((result) => result.status === 'rejected');
      if (failure) throw failure.reason;
    },
    allClosed: async () => {
      await Promise.all(closings);
    },
    close: listener.close,
  };
}

function createSession(socket: net.Socket, received: string[], chunks: Buffer[]): FakeSession {
  const lines: string[] = [];
  const waiting: ((line: string | undefined) => void)[] = [];
  let partial = Buffer.alloc(0);
  let finished = false;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));

  const deliver = (line: string): void => {
    received.push(line);
    const waiter = waiting.shift();
    if (waiter) waiter(line);
    else lines.push(line);
  };
  const finish = (): void => {
    if (finished) return;
    finished = true;
    if (partial.length > 0) deliver(partial.toString('utf8'));
    partial = Buffer.alloc(0);
    for (const waiter of waiting.splice(0)) waiter(undefined);
  };

  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    partial = Buffer.concat([partial, chunk]);
    for (let lf = partial.indexOf(0x0a); lf !== -1; lf = partial.indexOf(0x0a)) {
      const end = lf > 0 && partial[lf - 1] === 0x0d ? lf - 1 : lf;
      deliver(partial.toString('utf8', 0, end));
      partial = partial.subarray(lf + 1);
    }
  });
  socket.on('end', finish);
  socket.on('close', finish);

  const writable = (): boolean => !socket.destroyed && socket.writable;
  const write = (data: string | Buffer): Promise<void> =>
    new Promise((resolve) => {
      if (!writable()) return resolve();
      socket.write(data, () => resolve());
    });

  return {
    socket,
    closed,
    write,
    async writeSlowly(data, delayMs) {
      const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      for (let i = 0; i < bytes.length && writable(); i++) {
        await write(bytes.subarray(i, i + 1));
        await delay(delayMs);
      }
    },
    nextLine() {
      const line = lines.shift();
      if (line !== undefined || finished) return Promise.resolve(line);
      return new Promise((resolve) => waiting.push(resolve));
    },
    end() {
      socket.end();
    },
    reset() {
      socket.resetAndDestroy();
    },
  };
}
