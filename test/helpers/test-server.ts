import type { TestContext } from 'node:test';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';

/** A message as the server stored it: the body is already un-dot-stuffed. */
export interface ReceivedMessage {
  from: string;
  to: string[];
  body: string;
}

export interface RecipientRejection {
  code: number;
  message: string;
}

export interface TestServerOptions extends Partial<SMTPServerOptions> {
  /** Shorthand for onRcptTo: return a rejection to refuse the recipient, undefined to accept it. */
  onRcpt?: (address: string) => RecipientRejection | undefined;
}

export interface TestServer {
  host: '127.0.0.1';
  port: number;
  /** Every message accepted so far, in order. Not collected when the caller supplies onData. */
  messages: ReceivedMessage[];
  close(): Promise<void>;
}

/** A real smtp-server on 127.0.0.1, port 0, with quiet test-friendly defaults. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const { server, messages, close } = createServer(options);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { host: '127.0.0.1', port, messages, close };
}

/** A test server that the test closes when it ends. */
export async function startTestServerFor(t: TestContext, options: TestServerOptions = {}): Promise<TestServer> {
  const started = await startTestServer(options);
  t.after(() => started.close());
  return started;
}

export interface SocketTestServer {
  path: string;
  /** As TestServer's. */
  messages: ReceivedMessage[];
  close(): Promise<void>;
}

/** The same server on a UNIX domain socket at `path`. */
export async function startSocketTestServer(path: string, options: TestServerOptions = {}): Promise<SocketTestServer> {
  const { server, messages, close } = createServer(options);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { path, messages, close };
}

function createServer(options: TestServerOptions): { server: SMTPServer; messages: ReceivedMessage[]; close(): Promise<void> } {
  const messages: ReceivedMessage[] = [];
  const { onRcpt, ...serverOptions } = options;
  const server = new SMTPServer({
    disableReverseLookup: true,
    closeTimeout: 100,
    logger: false,
    authOptional: true,
    maxAllowedUnauthenticatedCommands: false,
    hideENHANCEDSTATUSCODES: false,
    onData: (stream, session, callback) => collect(stream, session, messages, callback),
    ...(onRcpt ? { onRcptTo: (address, _session, callback) => callback(rejection(onRcpt(address.address))) } : {}),
    ...serverOptions,
  });
  server.on('error', () => {});
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => server.close(() => resolve()));
    return closing;
  };
  return { server, messages, close };
}

function collect(
  stream: SMTPServerDataStream,
  session: SMTPServerSession,
  messages: ReceivedMessage[],
  callback: (err?: Error | null) => void,
): void {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('error', (err: Error) => callback(err));
  stream.on('end', () => {
    const { mailFrom, rcptTo } = session.envelope;
    messages.push({
      from: mailFrom ? mailFrom.address : '',
      to: rcptTo.map((recipient) => recipient.address),
      body: Buffer.concat(chunks).toString('utf8'),
    });
    callback(null);
  });
}

function rejection(refusal: RecipientRejection | undefined): Error | null {
  if (!refusal) return null;
  return Object.assign(new Error(refusal.message), { responseCode: refusal.code });
}
