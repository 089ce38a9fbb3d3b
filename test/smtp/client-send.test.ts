import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { Readable } from 'node:stream';
import { connect, escapeBytes, type SmtpConnection } from '../../src/smtp/client.js';
import { Transcript } from '../../src/smtp/transcript.js';
import { fakeServer, type FakeScript, type FakeServer } from '../helpers/fake-server.js';
import { startTestServer } from '../helpers/test-server.js';
import { GENEROUS_MS, PROMPTLY_MS } from '../helpers/deadlines.js';

/** The deadline of every wait the test does not mean to reach. */
const TIMEOUT_MS = GENEROUS_MS;

async function session(t: TestContext, script: FakeScript): Promise<{ fake: FakeServer; conn: SmtpConnection; transcript: Transcript }> {
  const fake = await fakeServer(script);
  t.after(() => fake.close());
  const transcript = new Transcript();
  const conn = await connect({ host: fake.host, port: fake.port, timeoutMs: TIMEOUT_MS, transcript });
  t.after(() => conn.close());
  return { fake, conn, transcript };
}

function sent(transcript: Transcript): string[] {
  return transcript.entries.filter((entry) => entry.dir === 'C').map((entry) => entry.text);
}

/** A message of about `bytes` bytes with CRLF line endings, many lines starting with a dot, in 64 KiB pieces that split lines. */
async function* generatedMessage(bytes: number): AsyncGenerator<Uint8Array> {
  let pending = '';
  let produced = 0;
  for (let i = 0; produced < bytes; i++) {
    pending += `${i % 5 === 0 ? '.' : ''}${i % 11 === 0 ? '' : 'x'.repeat(i % 97)} line ${i}\r\n`;
    if (pending.length >= 65536) {
      const piece = Buffer.from(pending.slice(0, 65536), 'latin1');
      pending = pending.slice(65536);
      produced += piece.length;
      yield piece;
    }
  }
  if (pending !== '') yield Buffer.from(pending, 'latin1');
}

/** The same bytes the generator yields, hashed, counted, with the dot-leading lines counted too. */
async function digestOf(source: AsyncIterable<Uint8Array>): Promise<{ sha256: string; bytes: number; dotLines: number; lines: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  let text = '';
  for await (const piece of source) {
    hash.update(piece);
    bytes += piece.length;
    text += Buffer.from(piece).toString('latin1');
  }
  const lines = text.split('\r\n').slice(0, -1);
  return { sha256: hash.digest('hex'), bytes, dotLines: lines.filter((line) => line.startsWith('.')).length, lines: lines.length };
}

describe('sendRaw', () => {
  test('sends the exact bytes, bare LF and NUL included, and shows them escaped', async (t) => {
    // é as UTF-8, then a byte that is not UTF-8, so that line falls back to \x escapes.
    const payload = Buffer.concat([
      Buffer.from('MAIL FROM:<a@b>\r\nbare\nnul\x00\ttab \\ ', 'latin1'),
      Buffer.from('é', 'utf8'),
      Buffer.from([0xff]),
      Buffer.from('\n.\n', 'latin1'),
    ]);
    const { fake, conn, transcript } = await session(t, async (s) => {
      await s.write('220 hi\r\n');
    });
    await conn.readReply(TIMEOUT_MS);
    await conn.sendRaw(payload);
    await conn.close();
    await fake.done();
    await fake.allClosed();
    assert.deepEqual(fake.receivedBytes(), payload);
    assert.deepEqual(sent(transcript), ['MAIL FROM:<a@b>\\r\\n', 'bare\\n', 'nul\\x00\\ttab \\\\ \\xc3\\xa9\\xff\\n', '.\\n']);
  });

  test('escapeBytes keeps valid UTF-8 as text', () => {
    assert.equal(escapeBytes(Buffer.from('Grüße\r\n', 'utf8')), 'Grüße\\r\\n');
    assert.equal(escapeBytes(Buffer.from([0x41, 0x7f, 0x1b])), 'A\\x7f\\x1b');
  });

  test('a long raw payload is summarised in the transcript', async (t) => {
    const { conn, transcript } = await session(t, async (s) => {
      await s.write('220 hi\r\n');
    });
    await conn.readReply(TIMEOUT_MS);
    await conn.sendRaw(Buffer.from(Array.from({ length: 60 }, (_, i) => `l${i}\n`).join('')));
    const lines = sent(transcript);
    assert.equal(lines.length, 51);
    assert.equal(lines[49], 'l49\\n');
    assert.equal(lines[50], '… 10 more lines');
  });
});

function rejectAfter(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}

/** Counts the writes clients make to `port` until the test ends, by watching every socket's write. */
function countClientWrites(t: TestContext, port: number): { readonly count: number } {
  const original = net.Socket.prototype.write;
  let count = 0;
  net.Socket.prototype.write = function (this: net.Socket, ...args: Parameters<net.Socket['write']>) {
    if (this.remotePort === port) count++;
    return original.apply(this, args);
  } as net.Socket['write'];
  t.after(() => {
    net.Socket.prototype.write = original;
  });
  return {
    get count() {
      return count;
    },
  };
}

describe('writes', () => {
  test('a short message goes out with its terminator in one write', async (t) => {
    const { fake, conn } = await session(t, async (s) => {
      await s.write('220 hi\r\n');
    });
    await conn.readReply(TIMEOUT_MS);
    const writes = countClientWrites(t, fake.port);
    await conn.sendData('Subject: x\n\n.dot\nbody');
    assert.equal(writes.count, 1);
    await conn.sendDataStream(Readable.from([Buffer.from('Subject: y\r\n\r\n'), Buffer.from('body\r\n')]));
    // The first chunk once the second is read; the second with the terminator.
    assert.equal(writes.count, 3);
    await conn.close();
    await fake.done();
    await fake.allClosed();
    assert.equal(fake.receivedBytes().toString('latin1'), 'Subject: x\r\n\r\n..dot\r\nbody\r\n.\r\nSubject: y\r\n\r\nbody\r\n.\r\n');
  });

  test('a large chunk is written at once, not held for the next', async (t) => {
    let firstData: (() => void) | undefined;
    const arrived = new Promise<void>((resolve) => (firstData = resolve));
    const { fake, conn } = await session(t, async (s) => {
      s.socket.once('data', () => firstData?.());
      await s.write('220 hi\r\n');
    });
    await conn.readReply(TIMEOUT_MS);
    const big = Buffer.alloc(128 * 1024, 'x');
    async function* slowSource(): AsyncGenerator<Uint8Array> {
      yield big;
      // The server has bytes before the source says what comes next (a held chunk would never get there).
      await Promise.race([arrived, rejectAfter(PROMPTLY_MS, 'the first chunk was held back')]);
      yield Buffer.from('\r\n');
    }
    const sent = await conn.sendDataStream(slowSource());
    await conn.close();
    await fake.done();
    await fake.allClosed();
    assert.equal(sent, big.length + 5);
    assert.equal(fake.receivedBytes().length, big.length + 5);
  });

  test('after the client closes, every read and write fails with one and the same error', async (t) => {
    const { fake, conn } = await session(t, async (s) => {
      await s.write('220 hi\r\n');
    });
    await conn.readReply(TIMEOUT_MS);
    await conn.close();
    const first = await conn.readReply(TIMEOUT_MS).catch((error: unknown) => error);
    const second = await conn.sendLine('NOOP').catch((error: unknown) => error);
    assert.ok(first instanceof Error);
    assert.equal(second, first);
    assert.deepEqual({ kind: (first as { kind?: string }).kind, message: first.message }, { kind: 'closed', message: 'connection closed by the client' });
    await fake.done();
  });
});

describe('sendDataStream', () => {
  test('a multi-megabyte stream arrives un-stuffed and intact at smtp-server', async (t) => {
    const received: { sha256: string; bytes: number }[] = [];
    const server = await startTestServer({
      onData(stream, _session, callback) {
        const hash = createHash('sha256');
        let bytes = 0;
        stream.on('data', (chunk: Buffer) => {
          hash.update(chunk);
          bytes += chunk.length;
        });
        stream.on('end', () => {
          received.push({ sha256: hash.digest('hex'), bytes });
          callback(null, 'stored');
        });
      },
    });
    t.after(() => server.close());
    const transcript = new Transcript();
    const conn = await connect({ host: server.host, port: server.port, timeoutMs: TIMEOUT_MS, transcript });
    t.after(() => conn.close());
    await conn.readReply(TIMEOUT_MS);
    for (const line of ['EHLO client.test', 'MAIL FROM:<a@example.test>', 'RCPT TO:<b@example.test>', 'DATA']) {
      await conn.sendLine(line);
      assert.ok((await conn.readReply(TIMEOUT_MS)).code < 400, line);
    }
    const size = 4 * 1024 * 1024;
    const expected = await digestOf(generatedMessage(size));
    const count = await conn.sendDataStream(generatedMessage(size));
    const reply = await conn.readReply(TIMEOUT_MS);
    assert.equal(reply.code, 250);
    assert.deepEqual(received, [{ sha256: expected.sha256, bytes: expected.bytes }]);
    assert.equal(count, expected.bytes + expected.dotLines + 3);
    const body = sent(transcript).slice(4);
    assert.equal(body.length, 52);
    // The transcript shows the lines as sent, dot-stuffed.
    assert.equal(body[0], '.. line 0');
    assert.equal(body[1], 'x line 1');
    assert.equal(body[5], `..${'x'.repeat(5)} line 5`);
    assert.equal(body[50], `… ${expected.lines - 50} more lines`);
    assert.equal(body[51], '.');
  });

  test('takes a Node stream, normalises line endings, stuffs dots and ends the last line', async (t) => {
    const { fake, conn, transcript } = await session(t, async (s) => {
      await s.write('220 hi\r\n');
    });
    await conn.readReply(TIMEOUT_MS);
    const count = await conn.sendDataStream(Readable.from([Buffer.from('Subject: x\n\n.dot\r'), Buffer.from('\nlast')]));
    await conn.close();
    await fake.done();
    await fake.allClosed();
    const wire = 'Subject: x\r\n\r\n..dot\r\nlast\r\n.\r\n';
    assert.equal(fake.receivedBytes().toString('latin1'), wire);
    assert.equal(count, wire.length);
    assert.deepEqual(sent(transcript), ['Subject: x', '', '..dot', 'last', '.']);
  });

  test('a source that reuses one buffer for every chunk: the server gets every byte, the transcript every line as sent', async (t) => {
    const { fake, conn, transcript } = await session(t, async (s) => {
      await s.write('220 hi\r\n');
    });
    await conn.readReply(TIMEOUT_MS);
    const lines = Array.from({ length: 60 }, (_, i) => `${i % 3 === 0 ? '.' : ''}line ${i} ${'abcdefghij'.repeat(i % 7)}`);
    const message = Buffer.from(lines.map((line) => `${line}\r\n`).join(''));
    // Chunks of 7 bytes cut every line, CRLF pairs and dots included; each overwrites the one before.
    async function* reusing(): AsyncGenerator<Uint8Array> {
      const scratch = Buffer.alloc(7);
      for (let at = 0; at < message.length; at += 7) {
        const length = message.copy(scratch, 0, at, at + 7);
        yield scratch.subarray(0, length);
      }
    }
    await conn.sendDataStream(reusing());
    await conn.close();
    await fake.done();
    await fake.allClosed();
    const stuffed = lines.map((line) => (line.startsWith('.') ? `.${line}` : line));
    assert.equal(fake.receivedBytes().toString('latin1'), `${stuffed.join('\r\n')}\r\n.\r\n`);
    assert.deepEqual(sent(transcript), [...stuffed.slice(0, 50), '… 10 more lines', '.']);
  });

  test('a failing source stops the message and says how far it got', async (t) => {
    const { conn, transcript } = await session(t, async (s) => {
      await s.write('220 hi\r\n');
    });
    await conn.readReply(TIMEOUT_MS);
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('line one\r\n');
      throw new Error('disk gone');
    }
    await assert.rejects(conn.sendDataStream(failing()), { message: 'disk gone' });
    assert.equal(transcript.entries.at(-1)?.text, 'message stopped after 10 bytes: disk gone');
    assert.deepEqual(sent(transcript), ['line one']);
  });
});

describe('sendBdat', () => {
  test('frames each chunk as BDAT <n> [LAST] and sends it unchanged', async (t) => {
    const chunks: { command: string; data: Buffer }[] = [];
    const { fake, conn, transcript } = await session(t, async (s) => {
      await s.write('220 hi\r\n');
      const reader = bdatReader(s.socket);
      for (;;) {
        const chunk = await reader();
        chunks.push(chunk);
        await s.write(`250 2.0.0 ${chunk.data.length} octets\r\n`);
        if (chunk.command.endsWith(' LAST')) break;
      }
    });
    await conn.readReply(TIMEOUT_MS);
    const first = Buffer.from('Subject: x\r\n\r\n.not stuffed\r\n');
    const second = Buffer.from('\r\n.\r\nstill data\r\n');
    await conn.sendBdat(first, false);
    assert.equal((await conn.readReply(TIMEOUT_MS)).code, 250);
    await conn.sendBdat(second, true);
    assert.equal((await conn.readReply(TIMEOUT_MS)).code, 250);
    await fake.done();
    assert.deepEqual(chunks, [
      { command: `BDAT ${first.length}`, data: first },
      { command: `BDAT ${second.length} LAST`, data: second },
    ]);
    assert.deepEqual(sent(transcript), [`BDAT ${first.length}`, `<${first.length} bytes>`, `BDAT ${second.length} LAST`, `<${second.length} bytes>`]);
  });

  test('an empty last chunk is BDAT 0 LAST alone', async (t) => {
    const { fake, conn, transcript } = await session(t, async (s) => {
      await s.write('220 hi\r\n');
    });
    await conn.readReply(TIMEOUT_MS);
    await conn.sendBdat(new Uint8Array(0), true);
    await conn.close();
    await fake.done();
    await fake.allClosed();
    assert.equal(fake.receivedBytes().toString('latin1'), 'BDAT 0 LAST\r\n');
    assert.deepEqual(sent(transcript), ['BDAT 0 LAST']);
  });
});

describe('sendLines', () => {
  test('sends every line in one write, each logged', async (t) => {
    let firstChunk: Buffer | undefined;
    const { fake, conn, transcript } = await session(t, async (s) => {
      s.socket.once('data', (chunk: Buffer) => {
        firstChunk = chunk;
      });
      await s.write('220 hi\r\n');
      for (let i = 0; i < 3; i++) await s.nextLine();
    });
    await conn.readReply(TIMEOUT_MS);
    const lines = ['MAIL FROM:<a@example.test>', 'RCPT TO:<b@example.test>', 'DATA'];
    await conn.sendLines(lines);
    await fake.done();
    assert.deepEqual(fake.received, lines);
    assert.equal(firstChunk?.toString('latin1'), lines.map((line) => `${line}\r\n`).join(''));
    assert.deepEqual(sent(transcript), lines);
  });

  test('a line with CR or LF means nothing is sent', async (t) => {
    const { fake, conn } = await session(t, async (s) => {
      await s.write('220 hi\r\n');
    });
    await conn.readReply(TIMEOUT_MS);
    await assert.rejects(conn.sendLines(['NOOP', 'RSET\r\nQUIT']), { kind: 'protocol' });
    await conn.close();
    await fake.done();
    await fake.allClosed();
    assert.equal(fake.receivedBytes().length, 0);
  });

  test('smtp-server answers each pipelined command in order', async (t) => {
    const server = await startTestServer({
      onRcpt: (address) => (address.startsWith('nobody@') ? { code: 550, message: 'No such user' } : undefined),
    });
    t.after(() => server.close());
    const conn = await connect({ host: server.host, port: server.port, timeoutMs: TIMEOUT_MS });
    t.after(() => conn.close());
    await conn.readReply(TIMEOUT_MS);
    await conn.sendLine('EHLO client.test');
    assert.ok((await conn.readReply(TIMEOUT_MS)).lines.includes('PIPELINING'));
    await conn.sendLines(['MAIL FROM:<a@example.test>', 'RCPT TO:<b@example.test>', 'RCPT TO:<nobody@example.test>', 'DATA']);
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) codes.push((await conn.readReply(TIMEOUT_MS)).code);
    assert.deepEqual(codes, [250, 250, 550, 354]);
  });
});

/** Reads `BDAT <n> [LAST]` CRLF and then exactly n bytes, from a socket's data events. */
function bdatReader(socket: import('node:net').Socket): () => Promise<{ command: string; data: Buffer }> {
  let buffered = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    wake?.();
  });
  const more = (): Promise<void> => new Promise((resolve) => (wake = resolve));
  return async () => {
    let crlf: number;
    while ((crlf = buffered.indexOf('\r\n')) === -1) await more();
    const command = buffered.toString('latin1', 0, crlf);
    const size = Number(/^BDAT (\d+)( LAST)?$/.exec(command)?.[1] ?? NaN);
    assert.ok(Number.isInteger(size), `a BDAT command: ${JSON.stringify(command)}`);
    while (buffered.length < crlf + 2 + size) await more();
    const data = buffered.subarray(crlf + 2, crlf + 2 + size);
    buffered = buffered.subarray(crlf + 2 + size);
    return { command, data };
  };
}
