import { listenOnLoopback } from './loopback-listener.js';
import net from 'node:net';
import tls from 'node:tls';

/**
 * A small POP3 server (RFC 1939, STLS from RFC 2595) for tests: one maildrop in memory, USER/PASS,
 * STAT, LIST, UIDL, TOP, RETR, DELE, RSET, NOOP, QUIT, CAPA; deletions are made at QUIT, as the RFC
 * says. For hostile servers (silent, garbage, closing) use fake-server.ts.
 */

export interface Pop3FakeOptions {
  user: string;
  password: string;
  /** The messages, oldest first (number 1), CRLF line endings. */
  messages: string[];
  /** 'starttls' offers STLS, 'implicit' speaks TLS from the first byte, 'none' offers neither. */
  tls: 'starttls' | 'implicit' | 'none';
  credentials?: { key: string; cert: string };
  /** Whether UIDL is answered (default true). */
  uidl?: boolean;
}

export interface Pop3Fake {
  host: '127.0.0.1';
  port: number;
  /** The messages left in the maildrop (those deleted by a QUIT are gone). */
  readonly messages: string[];
  /** Every command line received, over all connections (PASS as sent). */
  readonly commands: string[];
  close(): Promise<void>;
}

interface Stored {
  uid: string;
  text: string;
}

export async function pop3Fake(options: Pop3FakeOptions): Promise<Pop3Fake> {
  let maildrop: Stored[] = options.messages.map((text, index) => ({ uid: `uid-${index + 1}-${text.length}`, text }));
  const commands: string[] = [];
  const context = options.credentials ? tls.createSecureContext(options.credentials) : undefined;

  const serve = (raw: net.Socket): void => {
    raw.on('error', () => {});
    let socket: net.Socket = options.tls === 'implicit' ? new tls.TLSSocket(raw, { isServer: true, ...(context ? { secureContext: context } : {}) }) : raw;
    socket.on('error', () => {});
    let user: string | undefined;
    let authorised = false;
    const deleted = new Set<number>();
    let partial = '';
    const send = (text: string): void => {
      socket.write(text);
    };
    const multi = (lines: string): void => {
      const stuffed = lines.replace(/^\./gm, '..');
      send(`+OK\r\n${stuffed}${stuffed.endsWith('\r\n') || stuffed === '' ? '' : '\r\n'}.\r\n`);
    };
    const message = (arg: string | undefined): Stored | undefined => {
      const n = Number(arg);
      return Number.isInteger(n) && n >= 1 && n <= maildrop.length && !deleted.has(n) ? maildrop[n - 1] : undefined;
    };
    const handle = (line: string): void => {
      commands.push(line);
      const [verb = '', ...args] = line.split(' ');
      switch (verb.toUpperCase()) {
        case 'CAPA':
          return multi(`USER\r\nTOP\r\n${options.uidl === false ? '' : 'UIDL\r\n'}${options.tls === 'starttls' && !(socket instanceof tls.TLSSocket) ? 'STLS\r\n' : ''}`);
        case 'STLS':
          if (options.tls !== 'starttls' || socket instanceof tls.TLSSocket) return send('-ERR STLS not offered\r\n');
          send('+OK begin TLS\r\n');
          socket.removeAllListeners('data');
          socket = new tls.TLSSocket(raw, { isServer: true, ...(context ? { secureContext: context } : {}) });
          socket.on('error', () => {});
          listen(socket);
          return;
        case 'USER':
          user = args.join(' ');
          return send('+OK\r\n');
        case 'PASS':
          if (user === options.user && args.join(' ') === options.password) {
            authorised = true;
            return send('+OK maildrop locked\r\n');
          }
          return send('-ERR [AUTH] invalid login\r\n');
        case 'QUIT':
          if (authorised) maildrop = maildrop.filter((_, index) => !deleted.has(index + 1));
          send('+OK bye\r\n');
          socket.end();
          return;
      }
      if (!authorised) return send('-ERR log in first\r\n');
      const live = maildrop.map((stored, index) => ({ stored, n: index + 1 })).filter(({ n }) => !deleted.has(n));
      const target = message(args[0]);
      switch (verb.toUpperCase()) {
        case 'STAT':
          return send(`+OK ${live.length} ${live.reduce((sum, { stored }) => sum + stored.text.length, 0)}\r\n`);
        case 'NOOP':
          return send('+OK\r\n');
        case 'RSET':
          deleted.clear();
          return send('+OK\r\n');
        case 'LIST':
          if (args[0] !== undefined) return target ? send(`+OK ${args[0]} ${target.text.length}\r\n`) : send('-ERR no such message\r\n');
          return multi(live.map(({ stored, n }) => `${n} ${stored.text.length}\r\n`).join(''));
        case 'UIDL':
          if (options.uidl === false) return send('-ERR UIDL not supported\r\n');
          if (args[0] !== undefined) return target ? send(`+OK ${args[0]} ${target.uid}\r\n`) : send('-ERR no such message\r\n');
          return multi(live.map(({ stored, n }) => `${n} ${stored.uid}\r\n`).join(''));
        case 'TOP': {
          if (!target) return send('-ERR no such message\r\n');
          const end = target.text.indexOf('\r\n\r\n');
          return multi(end === -1 ? target.text : target.text.slice(0, end + 4));
        }
        case 'RETR':
          return target ? multi(target.text) : send('-ERR no such message\r\n');
        case 'DELE':
          if (!target) return send('-ERR no such message\r\n');
          deleted.add(Number(args[0]));
          return send('+OK marked\r\n');
        default:
          return send('-ERR unknown command\r\n');
      }
    };
    const listen = (stream: net.Socket): void => {
      stream.on('data', (chunk: Buffer) => {
        partial += chunk.toString('utf8');
        for (let lf = partial.indexOf('\n'); lf !== -1; lf = partial.indexOf('\n')) {
          const line = partial.slice(0, lf).replace(/\r$/, '');
          partial = partial.slice(lf + 1);
          handle(line);
        }
      });
    };
    listen(socket);
    send('+OK POP3 fake ready\r\n');
  };

  const listener = await listenOnLoopback(net.createServer(serve));
  return {
    host: '127.0.0.1',
    port: listener.port,
    get messages() {
      return maildrop.map((stored) => stored.text);
    },
    commands,
    close: listener.close,
  };
}
