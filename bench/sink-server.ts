import net, { type AddressInfo } from 'node:net';

/**
 * The server both sides of a benchmark talk to: a minimal SMTP sink on a loopback port that
 * greets at once, accepts every envelope and throws message bytes away, so the client is what
 * gets measured (smtp-server holds every greeting back 100 ms to catch early talkers, which
 * would hide the client's own cost).
 */

export interface SinkOptions {
  /** Hold every greeting until this many connections are open (or holdMs passes). */
  holdUntil?: number;
  /** The longest a greeting is held. Default 60 s. */
  holdMs?: number;
  /** Greet the held sessions anyway once no new connection has come for this long. Default 2 s. */
  holdIdleMs?: number;
}

export interface SinkWindow {
  connections: number;
  messages: number;
  /** The most connections open at once. */
  peakOpen: number;
  firstConnectAt?: number;
  lastCloseAt?: number;
}

export interface Sink {
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Messages received in full so far. */
  readonly messages: number;
  /** Connections open now. */
  readonly open: number;
  /**
   * What happened since the last call (or the start), then starts a new window: the first connection and
   * the last close as Date.now() times, so another process can line them up with its own clock.
   */
  window(): SinkWindow;
  close(): Promise<void>;
}

const END_OF_DATA = Buffer.from('\r\n.\r\n');
/** Sessions are dropped after this long idle, so a client that hangs never keeps the sink open. */
const IDLE_MS = 120_000;

export async function startSink(options: SinkOptions = {}): Promise<Sink> {
  const sockets = new Set<net.Socket>();
  const held: net.Socket[] = [];
  let connections = 0;
  let messages = 0;
  let current: SinkWindow = { connections: 0, messages: 0, peakOpen: 0 };
  const greet = (socket: net.Socket): void => void socket.write('220 sink.test ESMTP\r\n');
  const releaseAll = (): void => held.splice(0).forEach(greet);
  const holdTimer = setTimeout(releaseAll, options.holdMs ?? 60_000);
  holdTimer.unref();
  // A client that gave up on some connections must not keep the others waiting for the full holdMs.
  let idleTimer: NodeJS.Timeout | undefined;

  const server = net.createServer({ noDelay: true }, (socket) => {
    connections++;
    sockets.add(socket);
    current.connections++;
    current.firstConnectAt ??= Date.now();
    current.peakOpen = Math.max(current.peakOpen, sockets.size);
    socket.on('close', () => {
      sockets.delete(socket);
      current.lastCloseAt = Date.now();
    });
    socket.on('error', () => {});
    socket.setTimeout(IDLE_MS, () => socket.destroy());
    serve(socket, () => {
      messages++;
      current.messages++;
    });
    if (!options.holdUntil) return greet(socket);
    held.push(socket);
    clearTimeout(idleTimer);
    if (connections >= options.holdUntil) return releaseAll();
    idleTimer = setTimeout(releaseAll, options.holdIdleMs ?? 2_000).unref();
  });
  // A deep accept queue: thousands of clients connect at once (the kernel caps it at somaxconn).
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 8192 }, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return connections;
    },
    get messages() {
      return messages;
    },
    get open() {
      return sockets.size;
    },
    window: () => {
      const ended = current;
      current = { connections: 0, messages: 0, peakOpen: sockets.size };
      return ended;
    },
    close: () => {
      clearTimeout(holdTimer);
      clearTimeout(idleTimer);
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Replies to commands line by line; after DATA, skips bytes up to the end-of-data line. */
function serve(socket: net.Socket, onMessage: () => void): void {
  let pending: Buffer = Buffer.alloc(0);
  let inData = false;
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length > 0) {
      if (inData) {
        // The message starts right after a line end, so "\r\n" before it counts for a leading ".\r\n".
        const end = pending.indexOf(END_OF_DATA);
        if (end === -1) {
          pending = pending.subarray(Math.max(0, pending.length - END_OF_DATA.length + 1));
          return;
        }
        pending = pending.subarray(end + END_OF_DATA.length);
        inData = false;
        onMessage();
        socket.write('250 2.0.0 queued\r\n');
        continue;
      }
      const newline = pending.indexOf(0x0a);
      if (newline === -1) return;
      const line = pending.subarray(0, newline).toString('latin1').replace(/\r$/, '');
      pending = pending.subarray(newline + 1);
      const verb = line.slice(0, 4).toUpperCase();
      if (verb === 'DATA') {
        inData = true;
        pending = Buffer.concat([Buffer.from('\r\n'), pending]);
      }
      socket.write(reply(verb));
      if (verb === 'QUIT') socket.end();
    }
  });
}

function reply(verb: string): string {
  switch (verb) {
    case 'EHLO':
      return '250-sink.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n';
    case 'DATA':
      return '354 go ahead\r\n';
    case 'QUIT':
      return '221 2.0.0 bye\r\n';
    default:
      return '250 2.0.0 ok\r\n';
  }
}
