import type net from 'node:net';
import { fakeServer, type FakeServer, type FakeSession } from './fake-server.js';

/**
 * A scripted ESMTP (or LMTP) server with CHUNKING (RFC 3030), which smtp-server lacks:
 * `BDAT <n> [LAST]` is followed by exactly n octets, each chunk gets its own reply, and the
 * chunks of a transaction make up the message. DATA is refused, so a client that falls back
 * to it fails.
 */

export interface ChunkingOptions {
  /** Refuse this chunk (1-based, counted over the connection) with 554. */
  refuseChunk?: number;
  /** LMTP: LHLO, and one reply per accepted recipient after the LAST chunk (RFC 2033). */
  lmtp?: boolean;
}

export interface ReceivedChunk {
  size: number;
  last: boolean;
  bytes: Buffer;
}

export interface ChunkingServer {
  host: '127.0.0.1';
  port: number;
  /** Every command line received, over all connections, in order (chunk contents excluded). */
  commands: string[];
  /** Every chunk received, over all connections, in order. */
  chunks: ReceivedChunk[];
  /** Every message completed by a BDAT … LAST, as received. */
  messages: Buffer[];
  /** Waits for every session script; rethrows the first failure. */
  done(): Promise<void>;
  close(): Promise<void>;
}

export async function chunkingServer(options: ChunkingOptions = {}): Promise<ChunkingServer> {
  const received = { commands: [] as string[], chunks: [] as ReceivedChunk[], messages: [] as Buffer[] };
  const fake: FakeServer = await fakeServer((session) => serve(session, options, received));
  return { host: fake.host, port: fake.port, ...received, done: () => fake.done(), close: () => fake.close() };
}

type Received = Pick<ChunkingServer, 'commands' | 'chunks' | 'messages'>;

async function serve(session: FakeSession, options: ChunkingOptions, received: Received): Promise<void> {
  const input = new ByteReader(session.socket);
  let transaction: Buffer[] = [];
  let recipients: string[] = [];
  let chunkCount = 0;
  await session.write(`220 chunk.test ${options.lmtp ? 'LMTP' : 'ESMTP'}\r\n`);
  for (let line = await input.line(); line !== undefined; line = await input.line()) {
    received.commands.push(line);
    const [verb = '', ...args] = line.split(' ');
    switch (verb.toUpperCase()) {
      case 'EHLO':
      case 'LHLO':
        await session.write('250-chunk.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n');
        break;
      case 'MAIL':
        transaction = [];
        recipients = [];
        await session.write('250 2.1.0 ok\r\n');
        break;
      case 'RCPT':
        recipients.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
        await session.write('250 2.1.5 ok\r\n');
        break;
      case 'BDAT': {
        const size = Number(args[0]);
        const last = args[1]?.toUpperCase() === 'LAST';
        const bytes = await input.bytes(size);
        if (bytes === undefined) return;
        received.chunks.push({ size, last, bytes });
        transaction.push(bytes);
        chunkCount += 1;
        if (chunkCount === options.refuseChunk) {
          await session.write('554 5.6.0 chunk refused\r\n');
          break;
        }
        if (!last) {
          await session.write(`250 2.0.0 ${size} octets received\r\n`);
          break;
        }
        received.messages.push(Buffer.concat(transaction));
        transaction = [];
        if (options.lmtp) for (const rcpt of recipients) await session.write(`250 2.0.0 <${rcpt}> delivered\r\n`);
        else await session.write('250 2.0.0 message accepted\r\n');
        recipients = [];
        break;
      }
      case 'DATA':
        await session.write('503 5.5.1 this server takes BDAT only\r\n');
        break;
      case 'QUIT':
        await session.write('221 2.0.0 bye\r\n');
        session.end();
        return;
      default:
        await session.write('500 5.5.2 unknown command\r\n');
    }
  }
}

/** Reads CRLF lines and exact byte counts from a socket, whatever the chunking of its data. */
class ByteReader {
  private buffered = Buffer.alloc(0);
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.notify();
    });
    for (const event of ['end', 'close']) {
      socket.on(event, () => {
        this.ended = true;
        this.notify();
      });
    }
  }

  /** The next line without its CRLF; undefined once the client has gone. */
  async line(): Promise<string | undefined> {
    for (;;) {
      const end = this.buffered.indexOf('\r\n');
      if (end >= 0) return this.take(end + 2).toString('latin1', 0, end);
      if (this.ended) return undefined;
      await this.more();
    }
  }

  /** Exactly `size` bytes; undefined if the client goes first. */
  async bytes(size: number): Promise<Buffer | undefined> {
    while (this.buffered.length < size) {
      if (this.ended) return undefined;
      await this.more();
    }
    return this.take(size);
  }

  private take(size: number): Buffer {
    const taken = this.buffered.subarray(0, size);
    this.buffered = this.buffered.subarray(size);
    return taken;
  }

  private more(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
