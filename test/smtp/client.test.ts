import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type SmtpConnection } from '../../src/smtp/client.js';
import { Transcript } from '../../src/smtp/transcript.js';
import type { Reply } from '../../src/smtp/types.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';

/** The deadline of every wait the test does not mean to reach. */
const TIMEOUT_MS = GENEROUS_MS;

describe('SmtpConnection against smtp-server', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      name: 'mx.test',
      onRcptTo(address, _session, callback) {
        if (address.address.startsWith('nobody@')) {
          callback(Object.assign(new Error('No such user here'), { responseCode: 550 }));
        } else {
          callback();
        }
      },
    });
  });
  after(() => server.close());

  async function open(transcript?: Transcript): Promise<SmtpConnection> {
    const connection = await connect({ host: server.host, port: server.port, timeoutMs: TIMEOUT_MS, ...(transcript ? { transcript } : {}) });
    after(() => connection.close());
    return connection;
  }

  async function command(connection: SmtpConnection, line: string): Promise<Reply> {
    await connection.sendLine(line);
    return connection.readReply(TIMEOUT_MS);
  }

  test('reads the greeting and a multiline EHLO reply', async () => {
    const connection = await open();
    const greeting = await connection.readReply(TIMEOUT_MS);
    assert.equal(greeting.code, 220);
    assert.match(greeting.lines[0] ?? '', /^mx\.test ESMTP/);
    const ehlo = await command(connection, 'EHLO client.test');
    assert.equal(ehlo.code, 250);
    assert.ok(ehlo.lines.length > 3, 'several capability lines');
    assert.ok(ehlo.lines.includes('PIPELINING'));
    assert.ok(ehlo.lines.includes('ENHANCEDSTATUSCODES'));
    assert.equal(ehlo.enhanced, undefined);
  });

  test('sends a message whose body the server receives un-stuffed, with CRLF line endings', async () => {
    const transcript = new Transcript();
    const connection = await open(transcript);
    await connection.readReply(TIMEOUT_MS);
    await command(connection, 'EHLO client.test');
    assert.deepEqual(await command(connection, 'MAIL FROM:<sender@client.test>'), { code: 250, enhanced: '2.1.0', lines: ['2.1.0 Accepted'] });
    assert.equal((await command(connection, 'RCPT TO:<rcpt@mx.test>')).code, 250);
    assert.equal((await command(connection, 'DATA')).code, 354);
    await connection.sendData('Subject: dots\n\n.leading dot\n..two dots\n.\nlast line without newline');
    const queued = await connection.readReply(TIMEOUT_MS);
    assert.equal(queued.code, 250);
    assert.equal(queued.enhanced, '2.6.0');
    assert.deepEqual(server.messages.at(-1), {
      from: 'sender@client.test',
      to: ['rcpt@mx.test'],
      body: 'Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nlast line without newline\r\n',
    });
    const sent = transcript.entries.filter((entry) => entry.dir === 'C').map((entry) => entry.text);
    assert.deepEqual(sent.slice(-8), [
      'DATA',
      'Subject: dots',
      '',
      '..leading dot',
      '...two dots',
      '..',
      'last line without newline',
      '.',
    ]);
  });

  test('returns a refused recipient as a reply with its enhanced status code', async () => {
    const connection = await open();
    await connection.readReply(TIMEOUT_MS);
    await command(connection, 'EHLO client.test');
    await command(connection, 'MAIL FROM:<sender@client.test>');
    const refused = await command(connection, 'RCPT TO:<nobody@mx.test>');
    assert.equal(refused.code, 550);
    assert.equal(refused.enhanced, '5.1.1');
    assert.match(refused.lines[0] ?? '', /No such user here/);
  });

  test('reads pipelined replies in order', async () => {
    const connection = await open();
    await connection.readReply(TIMEOUT_MS);
    await command(connection, 'EHLO client.test');
    await connection.sendLine('MAIL FROM:<sender@client.test>');
    await connection.sendLine('RCPT TO:<rcpt@mx.test>');
    await connection.sendLine('RCPT TO:<nobody@mx.test>');
    await connection.sendLine('RSET');
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await connection.readReply(TIMEOUT_MS)).code);
    assert.deepEqual(codes, [250, 250, 550, 250]);
  });

  test('QUIT gets 221, after which the session is over', async () => {
    const transcript = new Transcript();
    const connection = await open(transcript);
    await connection.readReply(TIMEOUT_MS);
    assert.equal((await command(connection, 'QUIT')).code, 221);
    await assert.rejects(connection.readReply(TIMEOUT_MS), { name: 'SmtpError', kind: 'closed', message: 'server closed the connection' });
    assert.equal(connection.isOpen, false);
    assert.equal(transcript.entries.at(-1)?.text, 'connection closed by server');
  });
});

describe('startTestServer', () => {
  test('refuses recipients through the onRcpt shorthand', async (t) => {
    const server = await startTestServer({
      onRcpt: (address) => (address === 'full@mx.test' ? { code: 452, message: 'Mailbox full' } : undefined),
    });
    t.after(() => server.close());
    const connection = await connect({ host: server.host, port: server.port, timeoutMs: TIMEOUT_MS });
    t.after(() => connection.close());
    await connection.readReply(TIMEOUT_MS);
    await connection.sendLine('HELO client.test');
    await connection.readReply(TIMEOUT_MS);
    await connection.sendLine('MAIL FROM:<>');
    await connection.readReply(TIMEOUT_MS);
    await connection.sendLine('RCPT TO:<full@mx.test>');
    assert.deepEqual(await connection.readReply(TIMEOUT_MS), { code: 452, enhanced: '4.2.2', lines: ['4.2.2 Mailbox full'] });
    await connection.sendLine('RCPT TO:<ok@mx.test>');
    assert.equal((await connection.readReply(TIMEOUT_MS)).code, 250);
  });
});
