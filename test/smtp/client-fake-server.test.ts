import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { connect, describeSocketError, type ConnectOptions, type SmtpConnection } from '../../src/smtp/client.js';
import { Transcript } from '../../src/smtp/transcript.js';
import { fakeServer, type FakeScript, type FakeServer } from '../helpers/fake-server.js';
import { assertWaitedFor, GENEROUS_MS, PROMPTLY_MS } from '../helpers/deadlines.js';
import { freePort } from '../helpers/free-port.js';

/** The deadline of every wait the test does not mean to reach. */
const TIMEOUT_MS = GENEROUS_MS;

async function session(
  t: TestContext,
  script: FakeScript,
  options: Partial<ConnectOptions> = {},
): Promise<{ fake: FakeServer; connection: SmtpConnection; transcript: Transcript }> {
  const fake = await fakeServer(script);
  t.after(() => fake.close());
  const transcript = options.transcript ?? new Transcript();
  const connection = await connect({ host: fake.host, port: fake.port, timeoutMs: TIMEOUT_MS, ...options, transcript });
  t.after(() => connection.close());
  return { fake, connection, transcript };
}

function texts(transcript: Transcript): string[] {
  return transcript.entries.map((entry) => `${entry.dir}: ${entry.text}`);
}

describe('SmtpConnection against scripted servers', () => {
  test('reads a multiline greeting and records each line', async (t) => {
    const { fake, connection, transcript } = await session(t, async (s) => {
      await s.write('220-mx.fake first\r\n220-second\r\n220 third\r\n');
    });
    assert.deepEqual(await connection.readReply(TIMEOUT_MS), { code: 220, lines: ['mx.fake first', 'second', 'third'] });
    assert.deepEqual(texts(transcript), [
      `*: connected to 127.0.0.1:${fake.port}`,
      'S: 220-mx.fake first',
      'S: 220-second',
      'S: 220 third',
    ]);
  });

  test('the client sends nothing on its own', async (t) => {
    const { fake, connection } = await session(t, async (s) => {
      await s.write('220 hi\r\n');
    });
    await connection.readReply(TIMEOUT_MS);
    await connection.close();
    await fake.done();
    assert.deepEqual(fake.received, []);
    assert.equal(fake.receivedBytes().length, 0);
  });

  test('sends command lines with CRLF and reads each reply', async (t) => {
    const { fake, connection } = await session(t, async (s) => {
      await s.write('220 hi\r\n');
      assert.equal(await s.nextLine(), 'EHLO me');
      await s.write('250-fake\r\n250 PIPELINING\r\n');
    });
    await connection.readReply(TIMEOUT_MS);
    await connection.sendLine('EHLO me');
    assert.deepEqual(await connection.readReply(TIMEOUT_MS), { code: 250, lines: ['fake', 'PIPELINING'] });
    await fake.done();
    assert.equal(fake.receivedBytes().toString('latin1'), 'EHLO me\r\n');
  });

  test('a multiline reply with disagreeing codes is a protocol error, and the next reply still reads', async (t) => {
    const { connection, transcript } = await session(t, async (s) => {
      await s.write('220-mx.fake\r\n550-oops\r\n220 ready\r\n250 next\r\n');
    });
    await assert.rejects(connection.readReply(TIMEOUT_MS), {
      kind: 'protocol',
      message: 'multiline reply mixes codes 220 and 550',
      partialLines: ['220-mx.fake', '550-oops', '220 ready'],
    });
    assert.equal(connection.isOpen, true);
    assert.deepEqual(await connection.readReply(TIMEOUT_MS), { code: 250, lines: ['next'] });
    assert.ok(texts(transcript).includes('*: multiline reply mixes codes 220 and 550'));
  });

  test('a line that is not a reply ends the session', async (t) => {
    const { fake, connection } = await session(t, async (s) => {
      await s.write('SSH-2.0-OpenSSH_9.6\r\n');
      await s.closed;
    });
    await assert.rejects(connection.readReply(TIMEOUT_MS), {
      kind: 'protocol',
      message: 'server sent a line that is not an SMTP reply: "SSH-2.0-OpenSSH_9.6"',
    });
    assert.equal(connection.isOpen, false);
    await fake.done();
    await assert.rejects(connection.sendLine('QUIT'), { kind: 'protocol' });
  });

  test('a line that is not a reply is masked before it is cut for the message: a secret across the cut leaves nothing', async (t) => {
    const secret = 'Qx7Zk9Wv3Jm2Rt';
    const { connection, transcript } = await session(
      t,
      async (s) => {
        await s.write(`${'x'.repeat(75)}${secret} and more\r\n`);
        await s.closed;
      },
      { transcript: new Transcript({ secrets: [secret] }) },
    );
    const error = await connection.readReply(TIMEOUT_MS).then(
      () => assert.fail('expected an error'),
      (err: unknown) => err as Error,
    );
    assert.equal(error.message, `server sent a line that is not an SMTP reply: "${'x'.repeat(75)}****…"`);
    assert.ok(!JSON.stringify(transcript.entries).includes(secret.slice(0, 5)));
  });

  test('a reply line over the limit ends the session before its line ending arrives', async (t) => {
    const { connection } = await session(
      t,
      async (s) => {
        await s.write(`250 ${'x'.repeat(100)}`);
      },
      { limits: { maxLineBytes: 64 } },
    );
    await assert.rejects(connection.readReply(TIMEOUT_MS), { kind: 'limit', message: 'reply line longer than 64 bytes' });
    assert.equal(connection.isOpen, false);
  });

  test('the server closing without a word is "closed"', async (t) => {
    const { connection, transcript } = await session(t, (s) => s.end());
    await assert.rejects(connection.readReply(TIMEOUT_MS), { kind: 'closed', message: 'server closed the connection' });
    assert.equal(connection.isOpen, false);
    assert.equal(texts(transcript).at(-1), '*: connection closed by server');
  });

  test('the server closing mid-reply says how many lines came', async (t) => {
    const { connection } = await session(t, async (s) => {
      await s.write('220-first\r\n220-second\r\n');
      s.end();
    });
    await assert.rejects(connection.readReply(TIMEOUT_MS), {
      kind: 'closed',
      message: 'server closed the connection mid-reply after 2 lines',
      partialLines: ['220-first', '220-second'],
    });
  });

  test('a reply that came before the close is still returned, then the close', async (t) => {
    const { connection } = await session(t, async (s) => {
      await s.write('421 mx.fake shutting down\r\n');
      s.end();
    });
    assert.deepEqual(await connection.readReply(TIMEOUT_MS), { code: 421, lines: ['mx.fake shutting down'] });
    await assert.rejects(connection.readReply(TIMEOUT_MS), { kind: 'closed' });
  });

  test('a reset is "reset"', async (t) => {
    const { connection } = await session(t, async (s) => {
      await s.write('220 hi\r\n');
      assert.equal(await s.nextLine(), 'NOOP');
      s.reset();
    });
    await connection.readReply(TIMEOUT_MS);
    await connection.sendLine('NOOP');
    await assert.rejects(connection.readReply(TIMEOUT_MS), { kind: 'reset', phase: 'reply', message: 'connection reset by the server' });
    await assert.rejects(connection.sendLine('NOOP'), { kind: 'reset' });
  });

  test('a server that never answers times out at the deadline, in the reply phase', async (t) => {
    const { connection, transcript } = await session(t, () => {});
    const startedMs = performance.now();
    await assert.rejects(connection.readReply(300), { name: 'SmtpError', kind: 'timeout', phase: 'reply', message: 'no reply within 300 ms' });
    const elapsedMs = performance.now() - startedMs;
    assertWaitedFor(elapsedMs, 300, 'the read');
    assert.ok(elapsedMs < PROMPTLY_MS, `took ${elapsedMs} ms: the read waited for the connection's deadline, not its own`);
    assert.equal(texts(transcript).at(-1), '*: no reply within 300 ms');
  });

  test('the deadline covers the whole reply: bytes trickling in do not extend it', async (t) => {
    // A byte every 20 ms: the whole greeting takes at least 4 s, and no gap comes near the deadline.
    const { connection } = await session(t, async (s) => {
      await s.writeSlowly(`220 this greeting arrives one byte every 20 ms${'.'.repeat(150)}\r\n`, 20);
    });
    const startedMs = performance.now();
    // Were each byte to start the deadline again, the read would end with the whole greeting.
    await assert.rejects(connection.readReply(300), {
      kind: 'timeout',
      message: 'no complete reply within 300 ms (got part of a line so far)',
    });
    assertWaitedFor(performance.now() - startedMs, 300, 'the read');
  });

  test('after a timeout the session goes on: the late reply goes to the next read', async (t) => {
    const { connection } = await session(t, async (s) => {
      await s.write('250-one\r\n250-two\r\n');
      assert.equal(await s.nextLine(), 'NOOP');
      await s.write('250 three\r\n');
    });
    await assert.rejects(connection.readReply(300), {
      kind: 'timeout',
      message: 'no complete reply within 300 ms (got 2 lines so far)',
      partialLines: ['250-one', '250-two'],
    });
    assert.equal(connection.isOpen, true);
    await connection.sendLine('NOOP');
    assert.deepEqual(await connection.readReply(TIMEOUT_MS), { code: 250, lines: ['one', 'two', 'three'] });
  });

  test('replies that arrive before anyone asks are queued in order', async (t) => {
    const { connection } = await session(t, async (s) => {
      await s.write('220 hi\r\n250 unasked\r\n');
    });
    assert.equal((await connection.readReply(TIMEOUT_MS)).code, 220);
    // The second reply came in the same chunk, so it was queued before this call.
    assert.deepEqual(await connection.readReply(0), { code: 250, lines: ['unasked'] });
  });

  test('a second readReply while one waits is refused', async (t) => {
    const { connection } = await session(t, async (s) => {
      assert.equal(await s.nextLine(), 'NOOP');
      await s.write('250 ok\r\n');
    });
    const first = connection.readReply(TIMEOUT_MS);
    await assert.rejects(connection.readReply(TIMEOUT_MS), /another readReply is waiting/);
    await connection.sendLine('NOOP');
    assert.equal((await first).code, 250);
  });

  test('sendLine refuses CR or LF and sends nothing', async (t) => {
    const { fake, connection, transcript } = await session(t, async (s) => {
      await s.write('220 hi\r\n');
      assert.equal(await s.nextLine(), 'QUIT');
      await s.write('221 bye\r\n');
    });
    await connection.readReply(TIMEOUT_MS);
    await assert.rejects(connection.sendLine('MAIL FROM:<a@b>\r\nRCPT TO:<c@d>'), { name: 'SmtpError', kind: 'protocol' });
    await assert.rejects(connection.sendLine('NOOP\n'), { kind: 'protocol' });
    await assert.rejects(connection.sendLine('NO\rOP'), { kind: 'protocol' });
    await connection.sendLine('QUIT');
    assert.equal((await connection.readReply(TIMEOUT_MS)).code, 221);
    await fake.done();
    assert.deepEqual(fake.received, ['QUIT']);
    assert.ok(!texts(transcript).some((line) => line.includes('MAIL FROM')));
  });

  test('sendData sends the stuffed body and summarises long bodies in the transcript', async (t) => {
    const { fake, connection, transcript } = await session(t, async (s) => {
      for (let line = await s.nextLine(); line !== undefined && line !== '.'; line = await s.nextLine());
      await s.write('250 queued\r\n');
    });
    const body = Array.from({ length: 60 }, (_, i) => (i === 0 ? '.first' : `line ${i}`)).join('\n');
    await connection.sendData(body);
    assert.equal((await connection.readReply(TIMEOUT_MS)).code, 250);
    await fake.done();
    assert.equal(fake.receivedBytes().toString('latin1'), `..first\r\n${body.split('\n').slice(1).join('\r\n')}\r\n.\r\n`);
    const sent = transcript.entries.filter((entry) => entry.dir === 'C').map((entry) => entry.text);
    assert.equal(sent.length, 52);
    assert.equal(sent[0], '..first');
    assert.equal(sent[49], 'line 49');
    assert.deepEqual(sent.slice(50), ['… 10 more lines', '.']);
  });

  test('sendData writes a large body completely', async (t) => {
    const { fake, connection } = await session(t, async (s) => {
      for (let line = await s.nextLine(); line !== undefined && line !== '.'; line = await s.nextLine());
      await s.write('250 queued\r\n');
    });
    const body = `${'y'.repeat(998)}\n`.repeat(2000);
    await connection.sendData(body);
    assert.equal((await connection.readReply(TIMEOUT_MS)).code, 250);
    await fake.done();
    assert.equal(fake.received.length, 2001);
    assert.equal(fake.receivedBytes().length, 2000 * 1000 + 3);
  });

  test('secrets are masked in the transcript', async (t) => {
    const transcript = new Transcript({ secrets: ['s3cret'] });
    const { connection } = await session(
      t,
      async (s) => {
        assert.equal(await s.nextLine(), 'AUTH PLAIN s3cret');
        await s.write('535 5.7.8 s3cret is wrong\r\n');
      },
      { transcript },
    );
    await connection.sendLine('AUTH PLAIN s3cret');
    await connection.readReply(TIMEOUT_MS);
    assert.deepEqual(texts(transcript).slice(1), ['C: AUTH PLAIN ****', 'S: 535 5.7.8 **** is wrong']);
  });

  test('close() is idempotent, never rejects, and fails a waiting read', async (t) => {
    const { fake, connection, transcript } = await session(t, async (s) => {
      await s.closed;
    });
    const waiting = connection.readReply(TIMEOUT_MS);
    const closing = connection.close(200);
    assert.equal(connection.close(), closing);
    await assert.rejects(waiting, { kind: 'closed', phase: 'close', message: 'connection closed by the client' });
    await closing;
    assert.equal(connection.isOpen, false);
    await fake.done();
    await assert.rejects(connection.sendLine('NOOP'), { kind: 'closed' });
    assert.equal(texts(transcript).at(-1), '*: client closed the connection');
  });

  // A server that never closes its side: were close() to wait for it, it would wait the whole minute and the test time out.
  test('close() ends a plain socket at once; the server still reads everything sent, then the end', { timeout: 10_000 }, async (t) => {
    let received = '';
    let sawEnd!: () => void;
    const ended = new Promise<void>((resolve) => (sawEnd = resolve));
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      t.after(() => socket.destroy());
      socket.setEncoding('latin1');
      socket.on('data', (text: string) => (received += text));
      socket.on('end', () => sawEnd());
      socket.write('220 hi\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => server.close());
    const connection = await connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, timeoutMs: TIMEOUT_MS });
    await connection.readReply(TIMEOUT_MS);
    await connection.sendLine('QUIT');
    await connection.close(60_000);
    await ended;
    assert.equal(received, 'QUIT\r\n');
  });
});

describe('connect', () => {
  test('names a refused connection', async () => {
    const port = await freePort();
    const transcript = new Transcript();
    await assert.rejects(connect({ host: '127.0.0.1', port, timeoutMs: TIMEOUT_MS, transcript }), {
      name: 'SmtpError',
      kind: 'refused',
      phase: 'connect',
      message: `connection refused by 127.0.0.1:${port}`,
    });
    assert.deepEqual(texts(transcript), [`*: connection refused by 127.0.0.1:${port}`]);
  });

  test('does not read the greeting', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 hi\r\n');
    });
    t.after(() => fake.close());
    const connection = await connect({ host: fake.host, port: fake.port, timeoutMs: TIMEOUT_MS });
    t.after(() => connection.close());
    assert.equal((await connection.readReply(TIMEOUT_MS)).code, 220);
  });
});

describe('describeSocketError', () => {
  const error = (code: string): Error => Object.assign(new Error(`boom ${code}`), { code });
  const cases: [string, string, string][] = [
    ['ECONNREFUSED', 'refused', 'connection refused by mx.test:25'],
    ['ENOTFOUND', 'dns', 'cannot resolve host "mx.test"'],
    ['EAI_AGAIN', 'dns', 'cannot resolve host "mx.test"'],
    ['ECONNRESET', 'reset', 'connection reset by the server'],
    ['EPIPE', 'closed', 'server closed the connection'],
    ['EHOSTUNREACH', 'network', 'network error with mx.test:25: EHOSTUNREACH'],
  ];
  for (const [code, kind, message] of cases) {
    test(`${code} → ${kind}`, () => {
      const mapped = describeSocketError(error(code), 'mx.test', 'mx.test:25', 'connect');
      assert.equal(mapped.kind, kind);
      assert.equal(mapped.message, message);
      assert.equal(mapped.stack?.includes('boom'), false);
    });
  }
});
