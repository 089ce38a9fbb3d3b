import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SMTPServerDataResult } from 'smtp-server';
import { startTestServer, type ReceivedMessage } from '../helpers/test-server.js';
import { assertAllPassed, example, runExample } from './fixtures/examples.js';
import { unixSocketRelay } from './fixtures/relays.js';

const SENDER = 'tester@example.com';
const ROOMY = 'user@example.com';
const FULL = 'full@example.com';

/**
 * An LMTP server reached through a UNIX socket, answering each recipient on its own after the
 * message: every mailbox gets a delivery, except that the full one gets `fullCode`.
 */
async function mailboxServer(t: TestContext, fullCode: number) {
  const messages: ReceivedMessage[] = [];
  const server = await startTestServer({
    lmtp: true,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const to = session.envelope.rcptTo.map((rcpt) => rcpt.address);
        messages.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to, body: Buffer.concat(chunks).toString('utf8') });
        callback(null, to.map((address): SMTPServerDataResult => (address === FULL ? fullMailboxReply(fullCode) : `delivered to ${address}`)));
      });
    },
  });
  t.after(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), 'smtpspec-lmtp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, 'lmtp.sock');
  const relay = await unixSocketRelay(socket, server);
  t.after(() => relay.close());
  return { socket, messages };
}

/** A quota refusal, or a delivery after all for a 2xx code. */
function fullMailboxReply(code: number): SMTPServerDataResult {
  return code < 300 ? `delivered to ${FULL}` : Object.assign(new Error('Quota exceeded (mailbox for user is full)'), { responseCode: code });
}

describe('examples/lmtp.yaml', () => {
  for (const code of [552, 452]) {
    test(`passes against an LMTP server on a UNIX socket that refuses the full mailbox with ${code}`, async (t) => {
      const { socket, messages } = await mailboxServer(t, code);
      const result = await runExample(example('lmtp.yaml'), { vars: { socket } });
      assertAllPassed(result);
      assert.equal(result.cases[0]?.target.kind, 'unix');
      assert.equal(messages.length, 1);
      assert.deepEqual({ from: messages[0]!.from, to: messages[0]!.to }, { from: SENDER, to: [ROOMY, FULL] });
      assert.match(messages[0]!.body, /^Subject: LMTP delivery test\r\n\r\nOne message, two mailboxes, two replies\.\r\n$/m);
      const data = result.cases[0]!.steps.find((step) => step.label.startsWith('data'))!;
      assert.deepEqual(data.replies?.map((reply) => reply.code), [250, code], 'one reply per recipient, in RCPT order');
    });
  }

  test('fails at the message when the full mailbox takes the message after all', async (t) => {
    const { socket } = await mailboxServer(t, 250);
    const result = await runExample(example('lmtp.yaml'), { vars: { socket } });
    const kase = result.cases[0]!;
    assert.equal(kase.status, 'failed');
    assert.match(kase.failure?.message ?? '', /recipient 2 of 2: expected 452 4\.2\.2 or 552 5\.2\.2, got 250/);
  });
});
