import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { connect } from '../../src/smtp/client.js';
import type { EmbeddedServer } from '../../src/server/embedded.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';

/** For the Maildir and DSN tests of the embedded server: one mail transaction over a real socket, and what it wrote. */

export interface Transaction {
  /** MAIL FROM, with its parameters after the address (`RET=FULL ENVID=x`). */
  from: string;
  /** RCPT TO lines: the address and its parameters, e.g. `b@example.test NOTIFY=SUCCESS`. */
  to: string[];
  data: string;
}

/**
 * Sends one message and returns the reply code to the final dot; every RCPT must be accepted, but
 * those listed in `refused`, which must be refused (the message then goes to the others).
 */
export async function send(server: Pick<EmbeddedServer, 'host' | 'port'>, transaction: Transaction & { refused?: string[] }): Promise<number> {
  const conn = await connect({ host: server.host, port: server.port, timeoutMs: GENEROUS_MS });
  try {
    const exchange = async (line: string) => {
      await conn.sendLine(line);
      return conn.readReply(GENEROUS_MS);
    };
    assert.equal((await conn.readReply(GENEROUS_MS)).code, 220);
    assert.equal((await exchange('EHLO client.test')).code, 250);
    const [fromAddress, ...fromParams] = transaction.from.split(' ');
    assert.equal((await exchange(['MAIL FROM:<' + fromAddress + '>', ...fromParams].join(' '))).code, 250);
    for (const rcpt of [...transaction.to, ...(transaction.refused ?? [])]) {
      const [address, ...params] = rcpt.split(' ');
      const reply = await exchange([`RCPT TO:<${address}>`, ...params].join(' '));
      const accepted = transaction.to.includes(rcpt);
      assert.equal(reply.code >= 200 && reply.code < 300, accepted, `RCPT ${rcpt}: ${reply.lines.join(' ')}`);
    }
    assert.equal((await exchange('DATA')).code, 354);
    await conn.sendData(transaction.data);
    const final = (await conn.readReply(GENEROUS_MS)).code;
    await exchange('QUIT');
    return final;
  } finally {
    await conn.close();
  }
}

/** A fresh temp folder, removed after the test. */
export async function tempFolder(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'smtpspec-test-mail-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** The files in a Maildir folder's new/ (none when it does not exist), read. */
export async function newMessages(maildir: string): Promise<{ name: string; text: string }[]> {
  const names = await readdir(join(maildir, 'new')).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return Promise.all(names.sort().map(async (name) => ({ name, text: await readFile(join(maildir, 'new', name), 'utf8') })));
}

/** Every file under a folder, relative to it. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1)).sort();
}
