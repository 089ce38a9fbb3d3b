import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../../src/smtp/client.js';
import { EMBEDDED_USER, embeddedCaFile, startEmbeddedServer, subjectOf, type ServerEvent } from '../../src/server/embedded.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';

describe('the embedded server', () => {
  test('accepts local mail, refuses unknown users and relaying, and reports each event', async (t) => {
    const events: ServerEvent[] = [];
    const server = await startEmbeddedServer({ domain: 'Local.Test', onEvent: (e) => events.push(e) });
    t.after(() => server.close());
    const conn = await connect({ host: server.host, port: server.port, timeoutMs: GENEROUS_MS });
    t.after(() => conn.close());
    const exchange = async (line: string) => {
      await conn.sendLine(line);
      return conn.readReply(GENEROUS_MS);
    };

    assert.equal((await conn.readReply(GENEROUS_MS)).code, 220);
    const ehlo = await exchange('EHLO client.test');
    assert.ok(ehlo.lines.includes('DSN'), 'DSN is advertised');
    assert.ok(ehlo.lines.includes('SIZE 10485760'), 'SIZE is advertised');
    assert.ok(ehlo.lines.includes('STARTTLS'), 'STARTTLS is offered');
    assert.ok(!ehlo.lines.some((l) => l.startsWith('AUTH')), 'no AUTH before STARTTLS');
    assert.equal((await exchange('AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=')).code >= 500, true, 'AUTH refused before STARTTLS');
    assert.equal((await exchange('MAIL FROM:<a@client.test>')).code, 250);

    for (const localPart of ['nobody', 'no-such-user-7f3a9c2e41b8', 'No-Such-Mailbox']) {
      const unknown = await exchange(`RCPT TO:<${localPart}@local.test>`);
      assert.deepEqual([unknown.code, unknown.enhanced], [550, '5.1.1'], localPart);
    }
    const relay = await exchange('RCPT TO:<someone@elsewhere.test>');
    assert.deepEqual([relay.code, relay.enhanced], [550, '5.7.1']);
    assert.match(relay.lines[0]!, /relaying denied/);
    assert.equal((await exchange('RCPT TO:<User@LOCAL.test>')).code, 250);

    assert.equal((await exchange('DATA')).code, 354);
    await conn.sendData('Subject: hello\n  world\n\nbody\n');
    const queued = await conn.readReply(GENEROUS_MS);
    assert.equal(queued.code, 250);
    assert.equal((await exchange('QUIT')).code, 221);

    assert.equal(server.messages.length, 1);
    const message = server.messages[0]!;
    assert.deepEqual(
      { from: message.from, to: message.to, subject: message.subject, size: message.sizeBytes },
      { from: 'a@client.test', to: ['User@LOCAL.test'], subject: 'hello world', size: Buffer.byteLength(message.body) },
    );
    assert.deepEqual(
      events.map((e) => e.type),
      ['listening', 'connect', 'message'],
    );
  });

  test('after STARTTLS with its bundled certificate, AUTH is offered and the demo account works', async (t) => {
    const server = await startEmbeddedServer();
    t.after(() => server.close());
    const conn = await connect({ host: server.host, port: server.port, timeoutMs: GENEROUS_MS });
    t.after(() => conn.close());
    const exchange = async (line: string) => {
      await conn.sendLine(line);
      return conn.readReply(GENEROUS_MS);
    };
    await conn.readReply(GENEROUS_MS);
    await exchange('EHLO client.test');
    assert.equal((await exchange('STARTTLS')).code, 220);
    const facts = await conn.startTls({ verify: true, ca: [embeddedCaFile()], servername: 'localhost' }, GENEROUS_MS);
    assert.equal(facts.verified, true);
    const ehlo = await exchange('EHLO client.test');
    assert.ok(ehlo.lines.includes('AUTH PLAIN LOGIN CRAM-MD5'), ehlo.lines.join('|'));
    const token = Buffer.from(`\0${EMBEDDED_USER.username}\0wrong`).toString('base64');
    assert.equal((await exchange(`AUTH PLAIN ${token}`)).code, 535);
    const good = Buffer.from(`\0${EMBEDDED_USER.username}\0${EMBEDDED_USER.password}`).toString('base64');
    assert.equal((await exchange(`AUTH PLAIN ${good}`)).code, 235);
  });

  test('subjectOf reads only the header section and unfolds it', () => {
    assert.equal(subjectOf('From: a\r\nSubject:  Hi there \r\n\r\nSubject: not this'), 'Hi there');
    assert.equal(subjectOf('From: a\r\n\r\nSubject: in the body'), undefined);
    assert.equal(subjectOf('subject: folded\r\n\tline\r\n\r\n'), 'folded line');
  });
});
