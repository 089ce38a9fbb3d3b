import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { fakeServer } from '../helpers/fake-server.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { runInline, statuses, tcp, why } from './fixtures/inline.js';
import { GENEROUS } from '../helpers/deadlines.js';

/** A case on its own: the steps are written after the greeting and EHLO (or LHLO). */
function withHello(steps: string, options: { lmtp?: boolean; timeout?: string } = {}): string {
  const hello = options.lmtp ? 'LHLO' : 'EHLO';
  return `timeout: ${options.timeout ?? GENEROUS}
${options.lmtp ? 'protocol: lmtp\n' : ''}cases:
  - name: session
    steps:
      - expect: 220
      - send: ${hello} client.test
        expect: 250
${steps.replace(/^\n/, '')}`;
}

describe('pipelining against smtp-server', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      name: 'mx.test',
      onRcpt: (address) => (address.startsWith('nobody@') ? { code: 550, message: 'No such user' } : undefined),
    });
  });
  after(() => server.close());

  test('a group where every reply matches passes; each reply is recorded in order', async () => {
    const result = await runInline(
      withHello(`
      - pipeline:
          - send: MAIL FROM:<a@example.test>
            expect: 250
          - send: RCPT TO:<b@example.test>
            expect: 250
          - send: RCPT TO:<c@example.test>
            expect: [250, 251]
            text: /accepted/i
          - send: DATA
            expect: 354
        when: { capability: PIPELINING }
      - data: "Subject: piped\\n\\nhello\\n"
        expect: 250
`),
      tcp(server),
    );
    assert.equal(result.status, 'passed', why(result));
    const group = result.steps[2]!;
    assert.deepEqual(group.replies?.map((r) => r.code), [250, 250, 250, 354]);
    assert.equal(group.reply?.code, 354, 'the main reply is the last one');
    assert.equal(group.sent, 'MAIL FROM:<a@example.test> | RCPT TO:<b@example.test> | RCPT TO:<c@example.test> | DATA');
    assert.equal(typeof group.latencyMs, 'number');
    assert.deepEqual(server.messages.at(-1)?.to, ['b@example.test', 'c@example.test']);
    assert.equal(server.messages.at(-1)?.body, 'Subject: piped\r\n\r\nhello\r\n');
  });

  test('one reply that does not match fails the step naming the command; every reply is still read', async () => {
    const result = await runInline(
      withHello(`
      - pipeline:
          - send: MAIL FROM:<a@example.test>
            expect: 250
          - send: RCPT TO:<nobody@example.test>
            expect: 250
          - send: RSET
            expect: 250
      - send: NOOP
        expect: 250
`),
      tcp(server),
    );
    assert.equal(result.status, 'failed');
    assert.equal(result.failure?.kind, 'expectation');
    assert.deepEqual(statuses(result), ['passed', 'passed', 'failed', 'skipped']);
    const group = result.steps[2]!;
    assert.equal(group.message, 'command 2 of 3 (RCPT TO:<nobody@example.test>): expected 250, got 550 5.1.1 No such user');
    assert.deepEqual(group.replies?.map((r) => r.code), [250, 550, 250]);
  });
});

describe('pipelining against a server that answers too little', () => {
  test('a missing reply is a timeout that says how many replies came', async (t) => {
    // The deadline is for each reply: long enough for the two the server sends, and then it passes.
    const fake = await fakeServer(async (s) => {
      await s.write('220 fake ESMTP\r\n');
      await s.nextLine();
      await s.write('250-fake\r\n250 PIPELINING\r\n');
      for (let i = 0; i < 3; i++) await s.nextLine();
      await s.write('250 2.1.0 ok\r\n250 2.1.5 ok\r\n');
    });
    t.after(() => fake.close());
    const result = await runInline(
      withHello(
        `
      - pipeline:
          - send: MAIL FROM:<a@example.test>
          - send: RCPT TO:<b@example.test>
          - send: RCPT TO:<c@example.test>
        timeout: 1s
`,
      ),
      tcp(fake),
    );
    assert.equal(result.status, 'error');
    assert.equal(result.failure?.kind, 'timeout');
    const group = result.steps[2]!;
    assert.match(group.message ?? '', /^no reply within 1000 ms: got 2 of 3 replies to the pipelined group \(waiting for the reply to "pipeline: MAIL FROM/);
    assert.deepEqual(group.replies?.map((r) => r.code), [250, 250], 'the replies that did come are kept');
    assert.deepEqual(fake.received.slice(1), ['MAIL FROM:<a@example.test>', 'RCPT TO:<b@example.test>', 'RCPT TO:<c@example.test>']);
  });
});

interface Delivery {
  to: string[];
  body: string;
}

describe('LMTP against smtp-server', () => {
  let server: TestServer;
  const deliveries: Delivery[] = [];
  before(async () => {
    server = await startTestServer({
      name: 'lmtp.test',
      lmtp: true,
      onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const to = session.envelope.rcptTo.map((r) => r.address);
          deliveries.push({ to, body: Buffer.concat(chunks).toString('utf8') });
          // One result per recipient: mailboxes named full@ are over quota.
          const results = to.map((address) =>
            address.startsWith('full@') ? Object.assign(new Error(`${address} over quota`), { responseCode: 552 }) : `delivered to ${address}`,
          );
          callback(null, results as unknown as string);
        });
      },
    });
  });
  after(() => server.close());

  const transaction = (rcpts: string[], dataStep: string): string =>
    withHello(
      `
      - send: MAIL FROM:<a@example.test>
        expect: 250
${rcpts.map((r) => `      - send: RCPT TO:<${r}>\n        expect: 250`).join('\n')}
      - send: DATA
        expect: 354
      - data: "Subject: lmtp\\n\\nhi\\n"
${dataStep}
      - send: QUIT
        expect: 221
`,
      { lmtp: true },
    );

  test('expect_each checks one reply per accepted recipient, in order', async () => {
    const result = await runInline(
      transaction(['b@example.test', 'full@example.test'], '        expect_each: [250, "552 5.2.2"]\n        text: /example\\.test/'),
      tcp(server),
    );
    assert.equal(result.status, 'passed', why(result));
    const data = result.steps.at(-2)!;
    assert.deepEqual(data.replies?.map((r) => r.code), [250, 552]);
    assert.deepEqual(data.replies?.[0]?.lines, ['2.6.0 delivered to b@example.test']);
    assert.deepEqual(deliveries.at(-1)?.to, ['b@example.test', 'full@example.test']);
    assert.equal(deliveries.at(-1)?.body, 'Subject: lmtp\r\n\r\nhi\r\n');
  });

  test('one expectation for every recipient: the second one fails, named', async () => {
    const result = await runInline(transaction(['b@example.test', 'full@example.test'], '        expect: 250'), tcp(server));
    assert.equal(result.status, 'failed');
    assert.equal(result.failure?.kind, 'expectation');
    const data = result.steps.at(-2)!;
    assert.equal(data.status, 'failed');
    assert.equal(data.message, 'recipient 2 of 2: expected 250, got 552 5.2.2 full@example.test over quota');
    assert.equal(result.steps.at(-1)!.status, 'skipped');
  });

  test('expect_each fails on the reply that does not match', async () => {
    const result = await runInline(transaction(['full@example.test', 'b@example.test'], '        expect_each: [250, 250]'), tcp(server));
    assert.equal(result.status, 'failed');
    assert.match(result.steps.at(-2)!.message ?? '', /^recipient 1 of 2: expected 250, got 552/);
  });

  test('an expect_each longer than the accepted recipients fails clearly', async () => {
    const result = await runInline(transaction(['b@example.test', 'c@example.test'], '        expect_each: [250, 250, 250]'), tcp(server));
    assert.equal(result.status, 'failed');
    assert.equal(result.failure?.kind, 'expectation');
    assert.equal(result.steps.at(-2)!.message, 'expect_each lists 3 replies, but 2 recipients were accepted');
  });

  test('a refused recipient is not counted', async () => {
    const refusing = await startTestServer({
      lmtp: true,
      onRcpt: (address) => (address.startsWith('nobody@') ? { code: 550, message: 'No such user' } : undefined),
    });
    try {
      const steps = withHello(
        `
      - send: MAIL FROM:<a@example.test>
      - send: RCPT TO:<nobody@example.test>
        expect: 550
      - send: RCPT TO:<b@example.test>
        expect: 250
      - send: DATA
        expect: 354
      - data: "x\\n"
        expect_each: [250]
      - send: NOOP
        expect: 250
`,
        { lmtp: true },
      );
      const result = await runInline(steps, tcp(refusing));
      assert.equal(result.status, 'passed', why(result));
      assert.deepEqual(result.steps.at(-2)!.reply?.code, 250);
    } finally {
      await refusing.close();
    }
  });
});
