import type { TestContext } from 'node:test';
import { connect, type ConnectOptions, type SmtpConnection } from '../../src/smtp/client.js';
import { GENEROUS_MS } from './deadlines.js';

/** A connection to a TCP server that the test closes when it ends; waits it does not mean to reach get a generous deadline. */
export async function openFor(t: TestContext, target: { host: string; port: number }, options: Partial<ConnectOptions> = {}): Promise<SmtpConnection> {
  const conn = await connect({ host: target.host, port: target.port, timeoutMs: GENEROUS_MS, ...options });
  t.after(() => conn.close());
  return conn;
}
