import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startEmbeddedServer, type ServerEvent } from '../../src/server/embedded.js';
import { mailboxFolderName } from '../../src/server/maildir-store.js';
import { filesUnder, newMessages, send, tempFolder } from './mail-session.js';

describe('the embedded server delivers into Maildirs', () => {
  test('each recipient gets a copy in <mailRoot>/<local part>/new, with Return-Path and Received prepended', async (t) => {
    const root = await tempFolder(t);
    const events: ServerEvent[] = [];
    const server = await startEmbeddedServer({ mailRoot: root, onEvent: (e) => events.push(e) });
    t.after(() => server.close());
    assert.equal(server.mailRoot, root);

    const data = 'Subject: hello\r\nMessage-ID: <m1@client.test>\r\n\r\nbody line\r\n';
    assert.equal(await send(server, { from: 'a@client.test', to: ['Bob@example.test', 'carol@example.test'], data }), 250);

    for (const [localPart, recipient] of [['bob', 'Bob@example.test'], ['carol', 'carol@example.test']] as const) {
      const [message, ...more] = await newMessages(join(root, localPart));
      assert.ok(message, `a message for ${localPart}`);
      assert.equal(more.length, 0);
      assert.match(message.name, /^\d+\.M\d+P\d+Q\d+R[0-9a-f]+\.[^/]+,S=(\d+)$/);
      assert.equal(Number(/,S=(\d+)$/.exec(message.name)![1]), Buffer.byteLength(message.text), 'S= is the file size');
      const [returnPath, received, ...rest] = message.text.split('\r\n');
      assert.equal(returnPath, 'Return-Path: <a@client.test>');
      assert.match(received!, /^Received: from client\.test \(\[127\.0\.0\.1\]\)$/);
      assert.match(rest[0]!, new RegExp(`^\\tby mx\\.example\\.test with ESMTP id ${server.messages[0]!.sessionId}$`));
      assert.match(rest[1]!, new RegExp(`^\\tfor <${recipient}>; \\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} \\+0000$`));
      assert.ok(message.text.endsWith(`\r\n${data}`), 'the message follows, as received');
    }
    assert.deepEqual(await filesUnder(join(root, 'bob', 'tmp')), [], 'nothing is left in tmp/');
    assert.equal(server.messages.length, 1, 'messages keeps one entry per message');
    assert.deepEqual(
      events.flatMap((e) => (e.type === 'delivery' && 'path' in e ? [e.recipient] : [])),
      ['Bob@example.test', 'carol@example.test'],
    );
  });

  test('a Subject with [spam] lands in the Maildir++ folder .Junk, not in the inbox', async (t) => {
    const root = await tempFolder(t);
    const server = await startEmbeddedServer({ mailRoot: root });
    t.after(() => server.close());
    await send(server, { from: 'a@client.test', to: ['bob@example.test'], data: 'Subject: Buy now [SPAM] cheap\r\n\r\nx\r\n' });
    assert.equal((await newMessages(join(root, 'bob'))).length, 0, 'not in the inbox');
    const junk = await newMessages(join(root, 'bob', '.Junk'));
    assert.equal(junk.length, 1);
    assert.match(junk[0]!.text, /Subject: Buy now \[SPAM\] cheap/);
    assert.deepEqual((await filesUnder(join(root, 'bob', '.Junk'))).filter((f) => !f.startsWith('new')), ['maildirfolder']);
  });

  test('a recipient cannot name a folder outside the mail root', async (t) => {
    const parent = await tempFolder(t);
    const root = join(parent, 'mail');
    const server = await startEmbeddedServer({ mailRoot: root });
    t.after(() => server.close());
    // smtp-server refuses local parts that are not dot-atoms, so `..` never arrives as a path part;
    // the ones it accepts still hold a separator, and none of them leaves the root either.
    const hostile = ['/etc/x@example.test', 'a/b\\c@example.test', 'x/./y@example.test', '%2e%2e@example.test'];
    const refused = ['../../etc/x@example.test', '"../x"@example.test'];
    assert.equal(await send(server, { from: 'a@client.test', to: hostile, refused, data: 'Subject: climb\r\n\r\nx\r\n' }), 250);
    const files = await filesUnder(parent);
    assert.equal(files.length, hostile.length, files.join('\n'));
    for (const file of files) assert.match(file, /^mail[/\\][^/\\]+[/\\]new[/\\][^/\\]+$/, 'one folder level below the root');
    assert.deepEqual(
      ['../../etc/x', '..', '.', 'a/b\\c', 'CON', ''].map(mailboxFolderName),
      ['_.._.._etc_x', '_..', '_.', 'a_b_c', '_con', '_'],
    );
  });

  test('without mailRoot nothing is written', async (t) => {
    const events: ServerEvent[] = [];
    const server = await startEmbeddedServer({ onEvent: (e) => events.push(e) });
    t.after(() => server.close());
    assert.equal(server.mailRoot, undefined);
    assert.equal(await send(server, { from: 'a@client.test', to: ['bob@example.test'], data: 'Subject: x\r\n\r\nx\r\n' }), 250);
    assert.equal(server.messages.length, 1);
    assert.deepEqual(events.map((e) => e.type).filter((type) => type !== 'close'), ['listening', 'connect', 'message'], 'no file stored');
  });
});
