import net from 'node:net';
import tls from 'node:tls';
import type { MailboxDeadline, NetworkMailbox } from './types.js';
import { MailboxError } from './types.js';
import { ErrorMaker, bounded, socketErrorOf, tlsOptionsOf } from './network.js';

/**
 * The wire side of POP3 (RFC 1939, STLS from RFC 2595): one command at a time, its reply read line by
 * line, multi-line replies ended by a lone `.` and dot-unstuffed. Each round trip is bounded by the
 * deadline; a status line over MAX_LINE_BYTES is a protocol error, a multi-line reply over its limit
 * is read to its end and reported as over (so the session stays in step).
 */

/** The longest status line (and greeting) accepted, line ending included. */
export const MAX_LINE_BYTES = 8 * 1024;

export interface Pop3Reply {
  ok: boolean;
  /** The status line after `+OK ` / `-ERR `. */
  text: string;
}

export interface Pop3MultiReply extends Pop3Reply {
  /** The lines, dot-unstuffed, each ending CRLF, at most `limit` bytes. */
  body: Buffer;
  /** The body was longer than `limit`: what is kept is its start. */
  over: boolean;
}

interface Request {
  what: string;
  /** Multi-line body limit in bytes; undefined for a single-line reply. */
  limit: number | undefined;
  status: Pop3Reply | undefined;
  kept: Buffer[];
  keptBytes: number;
  over: boolean;
  /** Inside a body line whose start was dropped (over the limit): the rest of it is dropped too. */
  dropping: boolean;
  resolve: (reply: Pop3MultiReply) => void;
  reject: (error: MailboxError) => void;
}

const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);

export class Pop3Connection {
  private socket: net.Socket;
  private pending: Buffer = EMPTY;
  private request: Request | undefined;
  private gone: MailboxError | undefined;

  private constructor(
    socket: net.Socket,
    private readonly settings: NetworkMailbox,
    private readonly deadline: MailboxDeadline,
    readonly errors: ErrorMaker,
  ) {
    this.socket = socket;
    this.attach(socket);
  }

  /** Connects (with TLS from the first byte for 'implicit') and reads the greeting. */
  static async open(settings: NetworkMailbox, deadline: MailboxDeadline, errors: ErrorMaker): Promise<Pop3Connection> {
    const plain = net.connect({ host: settings.host, port: settings.port });
    const socket = settings.tls === 'implicit' ? tls.connect({ socket: plain, host: settings.host, ...tlsOptionsOf(settings) }) : plain;
    const connection = new Pop3Connection(socket, settings, deadline, errors);
    const greeting = await connection.exchange(undefined, undefined, 'the greeting');
    if (!greeting.ok) {
      connection.destroy();
      throw errors.make('protocol', `the server refused the session: -ERR ${greeting.text}`);
    }
    return connection;
  }

  /** Sends `line` and reads a single-line reply. */
  command(line: string, what: string): Promise<Pop3Reply> {
    return this.exchange(line, undefined, what);
  }

  /** Sends `line` and reads a multi-line reply (only a +OK has a body), keeping at most `limit` bytes of it. */
  multi(line: string, limit: number, what: string): Promise<Pop3MultiReply> {
    return this.exchange(line, limit, what);
  }

  /** STLS (RFC 2595): the same socket, now TLS, verified as the settings say. */
  async startTls(): Promise<void> {
    const reply = await this.command('STLS', 'STLS');
    if (!reply.ok) throw this.errors.make('tls', `the server refused STLS, which is required: -ERR ${reply.text}`);
    if (this.pending.length > 0) {
      this.destroy();
      throw this.errors.make('tls', 'the server sent data between its STLS reply and the TLS handshake');
    }
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('end');
    const secure = tls.connect({ socket: plain, host: this.settings.host, ...tlsOptionsOf(this.settings) });
    this.socket = secure;
    this.attach(secure);
    const handshake = new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      this.waitForFailure = reject;
    });
    try {
      await bounded(handshake, this.deadline, this.errors, 'the TLS handshake', () => this.destroy());
    } finally {
      this.waitForFailure = undefined;
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Ends the session: the socket is closed once the server has seen everything sent. */
  end(): void {
    this.socket.end();
  }

  private waitForFailure: ((error: MailboxError) => void) | undefined;

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
      this.pump();
    });
    socket.on('error', (error: Error) => {
      this.fail(socketErrorOf(error, this.errors, this.settings) ?? this.errors.make('connect', `the connection failed: ${error.message}`));
    });
    socket.on('close', () => this.fail(undefined));
  }

  private fail(error: MailboxError | undefined): void {
    const request = this.request;
    this.gone ??= error ?? this.errors.make('connect', `the server closed the connection${request ? ` during ${request.what}` : ''}`);
    this.request = undefined;
    request?.reject(this.gone);
    this.waitForFailure?.(this.gone);
  }

  private exchange(line: string | undefined, limit: number | undefined, what: string): Promise<Pop3MultiReply> {
    if (this.gone) return Promise.reject(this.gone);
    if (this.request) return Promise.reject(new Error(`a POP3 command was sent while ${this.request.what} was under way`));
    const work = new Promise<Pop3MultiReply>((resolve, reject) => {
      this.request = { what, limit, status: undefined, kept: [], keptBytes: 0, over: false, dropping: false, resolve, reject };
    });
    if (line !== undefined) this.socket.write(`${line}\r\n`);
    this.pump();
    return bounded(work, this.deadline, this.errors, what, () => {
      this.request = undefined;
      this.gone ??= this.errors.make('connect', `the connection was given up after ${what} failed`);
      this.destroy();
    });
  }

  /** Takes the complete lines of what has arrived, for the request under way. */
  private pump(): void {
    while (this.request) {
      const request = this.request;
      const lf = this.pending.indexOf(0x0a);
      if (lf === -1) {
        if (request.status === undefined && this.pending.length > MAX_LINE_BYTES) {
          this.protocolError(`a reply line longer than ${MAX_LINE_BYTES} bytes to ${request.what}`);
        } else if (request.status !== undefined && request.limit !== undefined && this.pending.length > request.limit - request.keptBytes + 2) {
          // A body line that cannot fit: dropped as it arrives, so memory stays within the limit.
          request.over = true;
          request.dropping = true;
          this.pending = EMPTY;
        }
        return;
      }
      const line = this.pending.subarray(0, lf > 0 && this.pending[lf - 1] === 0x0d ? lf - 1 : lf);
      this.pending = this.pending.subarray(lf + 1);
      if (request.status === undefined) this.statusLine(request, line);
      else this.bodyLine(request, line);
    }
  }

  private statusLine(request: Request, line: Buffer): void {
    if (line.length + 2 > MAX_LINE_BYTES) return this.protocolError(`a reply line longer than ${MAX_LINE_BYTES} bytes to ${request.what}`);
    const text = line.toString('latin1');
    const status = /^(\+OK|-ERR)(?: (.*))?$/i.exec(text);
    if (!status) return this.protocolError(`${request.what} got a reply that is not POP3: "${printable(text)}"`);
    request.status = { ok: status[1]?.toUpperCase() === '+OK', text: status[2] ?? '' };
    if (request.limit === undefined || !request.status.ok) this.settle(request);
  }

  private bodyLine(request: Request, line: Buffer): void {
    if (request.dropping) {
      request.dropping = false;
      return;
    }
    if (line.length === 1 && line[0] === 0x2e) return this.settle(request);
    const content = line[0] === 0x2e ? line.subarray(1) : line;
    const room = (request.limit ?? 0) - request.keptBytes;
    if (content.length + 2 <= room && !request.over) {
      request.kept.push(content, CRLF);
      request.keptBytes += content.length + 2;
      return;
    }
    if (!request.over && room > 0) {
      const start = Buffer.concat([content, CRLF]).subarray(0, room);
      request.kept.push(start);
      request.keptBytes += start.length;
    }
    request.over = true;
  }

  private settle(request: Request): void {
    this.request = undefined;
    const status = request.status ?? { ok: false, text: '' };
    request.resolve({ ...status, body: Buffer.concat(request.kept), over: request.over });
  }

  private protocolError(text: string): void {
    const error = this.errors.make('protocol', text);
    this.gone = error;
    const request = this.request;
    this.request = undefined;
    this.destroy();
    request?.reject(error);
  }
}

function printable(text: string): string {
  const shown = text.length > 80 ? `${text.slice(0, 80)}…` : text;
  return shown.replace(/[^\x20-\x7e]/g, '?');
}
