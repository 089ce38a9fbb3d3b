import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { openPop3 } from '../../src/mailbox/pop3.js';
import type { MailboxSession, NetworkMailbox } from '../../src/mailbox/types.js';
import { testCertificates } from '../helpers/certs.js';
import { fakeServer, type FakeScript, type FakeSession } from '../helpers/fake-server.js';
import { mailboxFailure, subjects } from './fixtures/assertions.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';
import { pop3Fake, type Pop3Fake, type Pop3FakeOptions } from '../helpers/pop3-fake.js';

const PASSWORD = 'pop3-Pa55-e41b07d3';

const message = (id: string, subject: string, body = `Body of ${subject}.\r\n`): string =>
  `From: sender@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${id}@example.test>\r\n\r\n${body}`;

async function server(t: TestContext, options: Partial<Pop3FakeOptions> = {}): Promise<{ fake: Pop3Fake; ca: string }> {
  const certs = await testCertificates();
  const fake = await pop3Fake({
    user: 'alice',
    password: PASSWORD,
    tls: 'starttls',
    credentials: { key: certs.server.key, cert: certs.server.cert },
    messages: [message('one', 'one'), message('two', 'two', '.starts with a dot\r\n..two dots\r\n'), message('three', 'three')],
    ...options,
  });
  t.after(() => fake.close());
  return { fake, ca: certs.ca.cert };
}

function settings(port: number, ca: string, more: Partial<NetworkMailbox> = {}): NetworkMailbox {
  return { kind: 'pop3', host: '127.0.0.1', port, tls: 'starttls', verify: true, ca: [ca], user: 'alice', password: PASSWORD, ...more };
}

async function open(t: TestContext, mailbox: NetworkMailbox, timeoutMs = GENEROUS_MS): Promise<MailboxSession> {
  const session = await openPop3(mailbox, { timeoutMs });
  t.after(() => session.close().catch(() => {}));
  return session;
}



/** A server that greets and logs in, then runs `rest` for the commands after PASS. */
async function hostile(t: TestContext, rest: (s: FakeSession) => Promise<void>): Promise<number> {
  const script: FakeScript = async (s) => {
    await s.write('+OK ready\r\n');
    for (const reply of ['+OK\r\n', '+OK\r\n']) {
      await s.nextLine();
      await s.write(reply);
    }
    await rest(s);
  };
  const fake = await fakeServer(script);
  t.after(() => fake.close());
  return fake.port;
}

describe('POP3 mailbox against a POP3 server', () => {
  test('over verified STLS: newest first by UIDL, found by Message-ID, read dot-unstuffed, removed at QUIT', async (t) => {
    const { fake, ca } = await server(t);
    const session = await openPop3(settings(fake.port, ca), { timeoutMs: GENEROUS_MS });
    assert.deepEqual(await session.folders(), ['INBOX']);
    const all = await session.list(['INBOX'], { limit: 10 });
    assert.deepEqual(subjects(all), ['three', 'two', 'one']);
    assert.ok(all.every((entry) => entry.folder === 'INBOX' && entry.id.startsWith('uid-')), JSON.stringify(all.map((entry) => entry.id)));
    assert.ok(all[0]?.header.toString().endsWith('\r\n\r\n'));
    assert.deepEqual(subjects(await session.list(['INBOX'], { limit: 2 })), ['three', 'two']);

    const [found, ...more] = await session.list(['INBOX'], { limit: 10, messageId: '<two@example.test>' });
    assert.equal(more.length, 0);
    assert.ok(found);
    const source = await session.read(found, 100_000);
    assert.equal(source.toString(), message('two', 'two', '.starts with a dot\r\n..two dots\r\n'));
    assert.equal(found.size, source.length);
    assert.equal((await mailboxFailure(session.read(found, 20))).kind, 'too-big');

    await session.remove(found);
    assert.deepEqual(subjects(await session.list(['INBOX'], { limit: 10 })), ['three', 'one']);
    await session.close();
    assert.deepEqual(fake.messages, [message('one', 'one'), message('three', 'three')]);
    assert.ok(fake.commands.includes('STLS'));
  });

  test('over verified implicit TLS, and message numbers as ids when the server has no UIDL', async (t) => {
    const { fake, ca } = await server(t, { tls: 'implicit', uidl: false });
    const session = await open(t, settings(fake.port, ca, { tls: 'implicit' }));
    const entries = await session.list(['INBOX'], { limit: 10 });
    assert.deepEqual(entries.map((entry) => entry.id), ['3', '2', '1']);
    assert.match((await session.read(entries[2]!, 100_000)).toString(), /^Subject: one$/m);
  });

  test('a folder other than INBOX is kind not-found', async (t) => {
    const { fake, ca } = await server(t);
    const session = await open(t, settings(fake.port, ca));
    assert.equal((await mailboxFailure(session.list(['Junk'], { limit: 5 }))).kind, 'not-found');
  });

  test('a certificate for another name is refused (kind tls)', async (t) => {
    const { fake, ca } = await server(t, { tls: 'implicit' });
    const error = await mailboxFailure(openPop3(settings(fake.port, ca, { tls: 'implicit', servername: 'other.example.test' }), { timeoutMs: GENEROUS_MS }));
    assert.equal(error.kind, 'tls');
    assert.match(error.message, /other\.example\.test/);
  });

  test('a certificate from an unknown CA is refused after STLS (kind tls)', async (t) => {
    const { fake } = await server(t);
    const error = await mailboxFailure(openPop3(settings(fake.port, '', { ca: [] }), { timeoutMs: GENEROUS_MS }));
    assert.equal(error.kind, 'tls');
  });

  test('STLS required from a server that does not offer it (kind tls), and the password is not sent', async (t) => {
    const { fake, ca } = await server(t, { tls: 'none' });
    const error = await mailboxFailure(openPop3(settings(fake.port, ca), { timeoutMs: GENEROUS_MS }));
    assert.equal(error.kind, 'tls');
    assert.match(error.message, /STLS/);
    assert.ok(!fake.commands.some((line) => line.startsWith('PASS')));
  });

  test('a wrong password is kind auth, and no form of it shows', async (t) => {
    const { fake, ca } = await server(t);
    const wrong = 'Wr0ng-pop3-91c2aa57';
    const error = await mailboxFailure(openPop3(settings(fake.port, ca, { password: wrong }), { timeoutMs: GENEROUS_MS }));
    assert.equal(error.kind, 'auth');
    assert.match(error.message, /^pop3:\/\/alice@127\.0\.0\.1:\d+: /);
    for (const secret of [wrong, Buffer.from(wrong).toString('base64')]) assert.ok(!error.message.includes(secret), error.message);
  });

  test('a server that greets, then says nothing, fails with kind timeout', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('+OK ready\r\n');
    });
    t.after(() => fake.close());
    const error = await mailboxFailure(openPop3(settings(fake.port, '', { tls: 'none' }), { timeoutMs: 300 }));
    assert.equal(error.kind, 'timeout');
    assert.match(error.message, /300 ms to USER/);
  });

  test('a server that closes in the middle of a reply fails with kind connect', async (t) => {
    const port = await hostile(t, async (s) => {
      await s.nextLine();
      await s.write('+OK\r\n1 120\r\n2 1');
      s.end();
    });
    const session = await open(t, settings(port, '', { tls: 'none' }));
    const error = await mailboxFailure(session.list(['INBOX'], { limit: 5 }));
    assert.equal(error.kind, 'connect');
    assert.match(error.message, /closed the connection during LIST/);
  });

  test('a server that sends garbage fails with kind protocol', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('\x16\x03\x01 this is not POP3\r\n');
    });
    t.after(() => fake.close());
    const error = await mailboxFailure(openPop3(settings(fake.port, '', { tls: 'none' }), { timeoutMs: GENEROUS_MS }));
    assert.equal(error.kind, 'protocol');
  });

  test('a reply line over 8 KiB fails with kind protocol', async (t) => {
    const port = await hostile(t, async (s) => {
      await s.nextLine();
      await s.write(`+OK ${'x'.repeat(9000)}`);
    });
    const session = await open(t, settings(port, '', { tls: 'none' }));
    assert.equal((await mailboxFailure(session.read({ folder: 'INBOX', id: '1', header: Buffer.alloc(0), size: 1 }, 1000))).kind, 'protocol');
  });

  test('a message bigger than its LIST size said is kind too-big, and the session stays in step', async (t) => {
    const port = await hostile(t, async (s) => {
      assert.equal(await s.nextLine(), 'UIDL');
      await s.write('-ERR no UIDL\r\n');
      assert.equal(await s.nextLine(), 'LIST 1');
      await s.write('+OK 1 10\r\n');
      assert.equal(await s.nextLine(), 'RETR 1');
      await s.write(`+OK\r\n${'line of the message\r\n'.repeat(200)}${'y'.repeat(5000)}\r\n.\r\n`);
      assert.equal(await s.nextLine(), 'LIST 1');
      await s.write('-ERR no such message\r\n');
    });
    const session = await open(t, settings(port, '', { tls: 'none' }));
    const entry = { folder: 'INBOX', id: '1', header: Buffer.alloc(0), size: 10 };
    assert.equal((await mailboxFailure(session.read(entry, 1000))).kind, 'too-big');
    // The next reply is read as the reply it is: the rest of the big one was read through, not left in the way.
    const error = await mailboxFailure(session.read(entry, 1000));
    assert.equal(error.kind, 'not-found');
  });

  test('a line break in the password is refused before anything is sent (kind auth)', async (t) => {
    const { fake, ca } = await server(t);
    const error = await mailboxFailure(openPop3(settings(fake.port, ca, { password: 'x\r\nDELE 1' }), { timeoutMs: GENEROUS_MS }));
    assert.equal(error.kind, 'auth');
    assert.ok(!fake.commands.some((line) => line.startsWith('DELE')));
  });

  test('an aborted signal ends the wait at once (kind aborted)', async (t) => {
    const fake = await fakeServer(async () => {});
    t.after(() => fake.close());
    const controller = new AbortController();
    const opening = openPop3(settings(fake.port, '', { tls: 'none' }), { timeoutMs: GENEROUS_MS, signal: controller.signal });
    controller.abort();
    assert.equal((await mailboxFailure(opening)).kind, 'aborted');
  });
});
