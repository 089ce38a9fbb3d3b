import { createRequire } from 'node:module';
import type { Server } from 'node:net';
import { listenOnLoopback } from './loopback-listener.js';

/**
 * A real IMAP4rev1 server in the test's process: hoodiecrow-imap (a scriptable IMAP server from the
 * nodemailer project), on 127.0.0.1 and a port of the system's choosing. Its store lives in memory
 * and starts as given; several connections share it.
 *
 *   const imap = await imapServer({ users: { alice: 'secret' }, folders: { INBOX: [message('<a@x>', 'hi')] } });
 */

export interface ImapMessage {
  /** The message as stored, CRLF line endings. */
  raw: string;
  /** When the server received it. */
  internaldate?: Date;
}

export interface ImapServerOptions {
  /** user → password */
  users: Record<string, string>;
  /** Folder name → its messages, oldest first. INBOX is always there. */
  folders?: Record<string, ImapMessage[]>;
  /** 'starttls' offers STARTTLS, 'implicit' speaks TLS from the first byte, 'none' offers neither. */
  tls: 'starttls' | 'implicit' | 'none';
  /** Certificate and key (PEM) for TLS. */
  credentials?: { key: string; cert: string };
}

export interface ImapServer {
  host: '127.0.0.1';
  port: number;
  /** Ends every connection and stops listening. */
  close(): Promise<void>;
}

interface Hoodiecrow {
  server: Server;
}

type HoodiecrowFactory = (options: Record<string, unknown>) => Hoodiecrow;

/** A message with this Message-ID and Subject, and a short body. */
export function imapMessage(messageId: string, subject: string, internaldate?: Date, body = `Body of ${subject}.`): ImapMessage {
  const raw = `From: sender@example.test\r\nTo: alice@example.test\r\nSubject: ${subject}\r\nMessage-ID: ${messageId}\r\n\r\n${body}\r\n`;
  return internaldate === undefined ? { raw } : { raw, internaldate };
}

export async function imapServer(options: ImapServerOptions): Promise<ImapServer> {
  const hoodiecrow = createRequire(import.meta.url)('hoodiecrow-imap') as HoodiecrowFactory;
  const { INBOX = [], ...others } = options.folders ?? {};
  const stored = (messages: ImapMessage[]): { messages: { raw: string; internaldate?: string; flags: string[] }[] } => ({
    messages: messages.map((message) => ({
      raw: message.raw,
      flags: [],
      ...(message.internaldate ? { internaldate: message.internaldate.toISOString() } : {}),
    })),
  });
  const folders: Record<string, unknown> = {};
  for (const [name, messages] of Object.entries(others)) folders[name] = stored(messages);
  const instance = hoodiecrow({
    plugins: options.tls === 'starttls' ? ['STARTTLS'] : [],
    secureConnection: options.tls === 'implicit',
    ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
    users: Object.fromEntries(Object.entries(options.users).map(([user, password]) => [user, { password }])),
    storage: { INBOX: stored(INBOX), '': { folders } },
  });
  const listener = await listenOnLoopback(instance.server);
  return { host: '127.0.0.1', port: listener.port, close: listener.close };
}
