import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '../../src/smtp/client.js';
import { startEmbeddedServer, subjectOf, type ServerEvent } from '../../src/server/embedded.js';

describe('the embedded server', () => {
  test('accepts local mail, refuses unknown users and relaying, and reports each event', async (t) => {
    const events: ServerEvent[] = [];
    const server = await startEmbeddedServer({ domain: 'Local.Test', onEvent: (e) => events.push(e) });
    t.after(() => server.close());
    const conn = await connect({ host: server.host, port: server.port, timeoutMs: 2_000 });
    t.after(() => conn.close());
    const exchange = async (line: string) => {
      await conn.sendLine(line);
      return conn.readReply(2_000);
    };

    assert.equal((await conn.readReply(2_000)).code, 220);
    const ehlo = await exchange('EHLO client.test');
    assert.ok(ehlo.lines.includes('DSN'), 'DSN is advertised');
    assert.ok(ehlo.lines.includes('SIZE 10485760'), 'SIZE is advertised');
    assert.ok(!ehlo.lines.some((l) => /^(AUTH|STARTTLS)/.test(l)), 'no AUTH, no STARTTLS');
    assert.equal((await exchange('MAIL FROM:<a@client.test>')).code, 250);

    const unknown = await exchange('RCPT TO:<nobody@local.test>');
    assert.deepEqual([unknown.code, unknown.enhanced], [550, '5.1.1']);
    const relay = await exchange('RCPT TO:<someone@elsewhere.test>');
    assert.deepEqual([relay.code, relay.enhanced], [550, '5.7.1']);
    assert.match(relay.lines[0]!, /relaying denied/);
    assert.equal((await exchange('RCPT TO:<User@LOCAL.test>')).code, 250);

    assert.equal((await exchange('DATA')).code, 354);
    await conn.sendData('Subject: hello\n  world\n\nbody\n');
    const queued = await conn.readReply(2_000);
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

  test('subjectOf reads only the header section and unfolds it', () => {
    assert.equal(subjectOf('From: a\r\nSubject:  Hi there \r\n\r\nSubject: not this'), 'Hi there');
    assert.equal(subjectOf('From: a\r\n\r\nSubject: in the body'), undefined);
    assert.equal(subjectOf('subject: folded\r\n\tline\r\n\r\n'), 'folded line');
  });
});
