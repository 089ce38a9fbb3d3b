import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { openImap } from '../../src/mailbox/imap.js';
import type { MailboxSession, NetworkMailbox } from '../../src/mailbox/types.js';
import { testCertificates } from '../helpers/certs.js';
import { fakeServer, type FakeScript } from '../helpers/fake-server.js';
import { mailboxFailure, subjects } from './fixtures/assertions.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';
import { imapMessage, imapServer, type ImapServerOptions } from '../helpers/imap-fake.js';

const PASSWORD = 'imap-Pa55-7c1e9b2f';
const day = (n: number): Date => new Date(Date.UTC(2026, 0, n, 12));

async function server(t: TestContext, options: Partial<ImapServerOptions> = {}): Promise<{ port: number; ca: string }> {
  const certs = await testCertificates();
  const imap = await imapServer({
    users: { alice: PASSWORD },
    tls: 'starttls',
    credentials: { key: certs.server.key, cert: certs.server.cert },
    folders: {
      INBOX: [imapMessage('<one@example.test>', 'one', day(1)), imapMessage('<three@example.test>', 'three', day(3))],
      Junk: [imapMessage('<two@example.test>', 'two', day(2))],
    },
    ...options,
  });
  t.after(() => imap.close());
  return { port: imap.port, ca: certs.ca.cert };
}

function settings(port: number, ca: string, more: Partial<NetworkMailbox> = {}): NetworkMailbox {
  return { kind: 'imap', host: '127.0.0.1', port, tls: 'starttls', verify: true, ca: [ca], user: 'alice', password: PASSWORD, ...more };
}

async function open(t: TestContext, mailbox: NetworkMailbox, timeoutMs = GENEROUS_MS): Promise<MailboxSession> {
  const session = await openImap(mailbox, { timeoutMs });
  t.after(() => session.close());
  return session;
}



describe('IMAP mailbox (imapflow against a real IMAP server)', () => {
  test('over verified STARTTLS: folders, newest first across folders, found by Message-ID, read, removed', async (t) => {
    const { port, ca } = await server(t);
    const session = await open(t, settings(port, ca));
    assert.deepEqual((await session.folders()).sort(), ['INBOX', 'Junk']);

    const all = await session.list(['INBOX', 'Junk'], { limit: 10 });
    assert.deepEqual(subjects(all), ['three', 'two', 'one']);
    assert.deepEqual(all.map((entry) => entry.folder), ['INBOX', 'Junk', 'INBOX']);
    assert.equal(all[0]?.receivedAt?.toISOString(), day(3).toISOString());
    assert.ok(all[0]?.header.toString().endsWith('\r\n\r\n'), 'the header section ends with the empty line');
    assert.deepEqual(subjects((await session.list(['INBOX', 'Junk'], { limit: 2 }))), ['three', 'two']);

    const [found, ...more] = await session.list(['INBOX', 'Junk'], { limit: 10, messageId: '<two@example.test>' });
    assert.equal(more.length, 0);
    assert.ok(found);
    assert.equal(found.folder, 'Junk');
    const source = await session.read(found, 1_000_000);
    assert.match(source.toString(), /^From: sender@example\.test\r\n[\s\S]*\r\n\r\nBody of two\.\r\n$/);
    assert.equal(found.size, source.length);

    const tooBig = await mailboxFailure(session.read(found, 10));
    assert.equal(tooBig.kind, 'too-big');

    await session.remove(found);
    assert.deepEqual(await session.list(['INBOX', 'Junk'], { limit: 10, messageId: '<two@example.test>' }), []);
    assert.deepEqual(subjects((await session.list(['INBOX', 'Junk'], { limit: 10 }))), ['three', 'one']);
  });

  test('over verified implicit TLS', async (t) => {
    const { port, ca } = await server(t, { tls: 'implicit' });
    const session = await open(t, settings(port, ca, { tls: 'implicit' }));
    const [entry] = await session.list(['INBOX'], { limit: 1 });
    assert.match(entry?.header.toString() ?? '', /^Subject: three$/m);
  });

  test('a folder that does not exist is kind not-found', async (t) => {
    const { port, ca } = await server(t);
    const session = await open(t, settings(port, ca));
    const error = await mailboxFailure(session.list(['Nowhere'], { limit: 5 }));
    assert.equal(error.kind, 'not-found');
    assert.match(error.message, /Nowhere/);
  });

  test('a certificate for another name is refused (kind tls)', async (t) => {
    const { port, ca } = await server(t, { tls: 'implicit' });
    const error = await mailboxFailure(openImap(settings(port, ca, { tls: 'implicit', servername: 'other.example.test' }), { timeoutMs: GENEROUS_MS }));
    assert.equal(error.kind, 'tls');
    assert.match(error.message, /other\.example\.test/);
  });

  test('a certificate from an unknown CA is refused over STARTTLS (kind tls)', async (t) => {
    const { port } = await server(t);
    const error = await mailboxFailure(openImap(settings(port, '', { ca: [] }), { timeoutMs: GENEROUS_MS }));
    assert.equal(error.kind, 'tls');
  });

  test('STARTTLS required from a server that does not offer it (kind tls)', async (t) => {
    const { port, ca } = await server(t, { tls: 'none' });
    const error = await mailboxFailure(openImap(settings(port, ca), { timeoutMs: GENEROUS_MS }));
    assert.equal(error.kind, 'tls');
    assert.match(error.message, /STARTTLS/);
  });

  test('a wrong password is kind auth, and no form of it shows', async (t) => {
    const { port, ca } = await server(t);
    const wrong = 'Wr0ng-imap-3f9d0c81';
    const error = await mailboxFailure(openImap(settings(port, ca, { password: wrong }), { timeoutMs: GENEROUS_MS }));
    assert.equal(error.kind, 'auth');
    assert.match(error.message, /^imap:\/\/alice@127\.0\.0\.1:\d+: /);
    for (const secret of [wrong, Buffer.from(wrong).toString('base64'), Buffer.from(`\0alice\0${wrong}`).toString('base64')]) {
      assert.ok(!error.message.includes(secret), `the message shows ${secret}: ${error.message}`);
    }
  });

  test('a server that greets, then says nothing, fails with kind timeout', async (t) => {
    const fake = await hostile(t, async (s) => {
      await s.write('* OK IMAP ready\r\n');
    });
    const error = await mailboxFailure(openImap(settings(fake, '', { tls: 'none' }), { timeoutMs: 300 }));
    assert.equal(error.kind, 'timeout');
    assert.match(error.message, /300 ms/);
  });

  test('a server that closes in the middle of a reply fails with kind connect', async (t) => {
    const fake = await hostile(t, async (s) => {
      await s.write('* OK IMAP ready\r\n');
      const line = await s.nextLine();
      await s.write(`* CAPABILITY IMAP4rev1 AUTH=PL`);
      assert.match(line ?? '', /CAPABILITY/);
      s.end();
    });
    const error = await mailboxFailure(openImap(settings(fake, '', { tls: 'none' }), { timeoutMs: GENEROUS_MS }));
    assert.equal(error.kind, 'connect');
  });

  test('a server that sends garbage fails with kind protocol', async (t) => {
    const fake = await hostile(t, async (s) => {
      await s.write('* OK IMAP ready\r\n');
      await s.nextLine();
      await s.write('))) (((\x00garbage {99999999999}\r\n');
    });
    const error = await mailboxFailure(openImap(settings(fake, '', { tls: 'none' }), { timeoutMs: GENEROUS_MS }));
    assert.equal(error.kind, 'protocol');
  });

  test('an aborted signal ends the wait at once (kind aborted)', async (t) => {
    const fake = await hostile(t, async () => {});
    const controller = new AbortController();
    const opening = openImap(settings(fake, '', { tls: 'none' }), { timeoutMs: GENEROUS_MS, signal: controller.signal });
    controller.abort();
    assert.equal((await mailboxFailure(opening)).kind, 'aborted');
  });
});

async function hostile(t: TestContext, script: FakeScript): Promise<number> {
  const fake = await fakeServer(script);
  t.after(() => fake.close());
  return fake.port;
}
