import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMaildir } from '../../src/mailbox/maildir.js';
import { MailboxError, type MailboxSession } from '../../src/mailbox/types.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';

const deadline = { timeoutMs: GENEROUS_MS };

function makeMaildir(path: string): string {
  for (const sub of ['new', 'cur', 'tmp']) mkdirSync(join(path, sub), { recursive: true });
  return path;
}

/** Writes a message file with a given modification time (seconds since the epoch). */
function deliver(path: string, text: string | Buffer, mtime: number): string {
  writeFileSync(path, text);
  utimesSync(path, mtime, mtime);
  return path;
}

const message = (id: string, body = 'Hello.\r\n') => `Message-ID: <${id}@test>\r\nSubject: ${id}\r\n\r\n${body}`;

describe('maildir mailbox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smtpspec-maildir-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const open = (path: string): Promise<MailboxSession> => openMaildir({ kind: 'maildir', path }, deadline);

  test('lists new/ and cur/ newest first with the header section, size from S= or stat, and limit', async () => {
    const box = makeMaildir(join(dir, 'one'));
    deliver(join(box, 'new', '1000.a.host'), message('old'), 1000);
    deliver(join(box, 'cur', '3000.c.host,S=4242:2,S'), message('newest'), 3000);
    deliver(join(box, 'new', '2000.b.host'), message('middle', 'x'.repeat(100)), 2000);
    const session = await open(box);
    const all = await session.list(['INBOX'], { limit: 10 });
    assert.deepEqual(
      all.map((entry) => entry.id),
      ['cur/3000.c.host,S=4242:2,S', 'new/2000.b.host', 'new/1000.a.host'],
    );
    assert.equal(all[0]!.size, 4242, 'the size from the name');
    assert.equal(all[1]!.size, Buffer.byteLength(message('middle', 'x'.repeat(100))), 'the size from stat');
    assert.equal(all[1]!.header.toString(), 'Message-ID: <middle@test>\r\nSubject: middle\r\n\r\n');
    assert.equal(all[0]!.folder, 'INBOX');
    assert.equal(all[2]!.receivedAt?.getTime(), 1000 * 1000);
    const two = await session.list(['INBOX'], { limit: 2 });
    assert.deepEqual(
      two.map((entry) => entry.id),
      ['cur/3000.c.host,S=4242:2,S', 'new/2000.b.host'],
    );
    await session.close();
  });

  test('ties in time are ordered by name, newest name first', async () => {
    const box = makeMaildir(join(dir, 'ties'));
    deliver(join(box, 'new', '5.a'), message('a'), 5000);
    deliver(join(box, 'new', '5.b'), message('b'), 5000);
    const session = await open(box);
    assert.deepEqual(
      (await session.list(['INBOX'], { limit: 5 })).map((entry) => entry.id),
      ['new/5.b', 'new/5.a'],
    );
  });

  test('names Maildir++ subfolders without their dot, nested ones with a slash, and lists them apart', async () => {
    const box = makeMaildir(join(dir, 'folders'));
    makeMaildir(join(box, '.Junk'));
    makeMaildir(join(box, '.Archive.2026'));
    mkdirSync(join(box, '.NotAMaildir'));
    deliver(join(box, '.Junk', 'new', '10.spam'), message('spam'), 10);
    deliver(join(box, '.Archive.2026', 'cur', '20.kept:2,S'), message('kept'), 20);
    deliver(join(box, 'new', '30.ham'), message('ham'), 30);
    const session = await open(box);
    assert.deepEqual(await session.folders(), ['INBOX', 'Archive/2026', 'Junk']);
    const junk = await session.list(['Junk'], { limit: 10 });
    assert.deepEqual(
      junk.map((entry) => [entry.folder, entry.id]),
      [['Junk', 'new/10.spam']],
    );
    const both = await session.list(['INBOX', 'Junk', 'Archive/2026'], { limit: 10 });
    assert.deepEqual(
      both.map((entry) => entry.folder),
      ['INBOX', 'Archive/2026', 'Junk'],
    );
    const read = await session.read(both[1]!, 1024);
    assert.equal(read.toString(), message('kept'));
    await assert.rejects(session.list(['Trash'], { limit: 1 }), (error: unknown) => error instanceof MailboxError && error.kind === 'not-found' && /Trash/.test(error.message));
  });

  test('skips what is not a regular file: a symlink, a FIFO, a folder', async () => {
    const box = makeMaildir(join(dir, 'odd'));
    const real = deliver(join(dir, 'outside.eml'), message('outside'), 100);
    symlinkSync(real, join(box, 'new', '200.link'));
    mkdirSync(join(box, 'new', '300.folder'));
    execFileSync('mkfifo', [join(box, 'cur', '400.fifo')]);
    deliver(join(box, 'new', '50.real'), message('real'), 50);
    const session = await open(box);
    assert.deepEqual(
      (await session.list(['INBOX'], { limit: 10 })).map((entry) => entry.id),
      ['new/50.real'],
    );
  });

  test('cuts a header section at 256 KiB, and ends it at the first empty line', async () => {
    const box = makeMaildir(join(dir, 'long'));
    deliver(join(box, 'new', '1.long'), `X-Long: ${'y'.repeat(300 * 1024)}\r\n\r\nbody`, 1);
    deliver(join(box, 'new', '2.lf'), 'Subject: lf\n\nbody\n\nmore\n', 2);
    const [lf, long] = await (await open(box)).list(['INBOX'], { limit: 10 });
    assert.equal(lf!.header.toString(), 'Subject: lf\n\n');
    assert.equal(long!.header.length, 256 * 1024);
  });

  test('reads a message within maxBytes; a bigger one is too-big', async () => {
    const box = makeMaildir(join(dir, 'read'));
    const text = message('read', 'z'.repeat(5000));
    deliver(join(box, 'new', '1.read'), text, 1);
    const session = await open(box);
    const [entry] = await session.list(['INBOX'], { limit: 1 });
    assert.equal((await session.read(entry!, 10_000)).toString(), text);
    await assert.rejects(session.read(entry!, 100), (error: unknown) => error instanceof MailboxError && error.kind === 'too-big');
  });

  test('finds a message a mail reader moved from new/ to cur/, and removes it', async () => {
    const box = makeMaildir(join(dir, 'moved'));
    deliver(join(box, 'new', '7.moved.host'), message('moved'), 7);
    const session = await open(box);
    const [entry] = await session.list(['INBOX'], { limit: 1 });
    renameSync(join(box, 'new', '7.moved.host'), join(box, 'cur', '7.moved.host:2,S'));
    assert.equal((await session.read(entry!, 10_000)).toString(), message('moved'));
    await session.remove(entry!);
    assert.equal(existsSync(join(box, 'cur', '7.moved.host:2,S')), false);
    assert.deepEqual(await session.list(['INBOX'], { limit: 5 }), []);
    await assert.rejects(session.read(entry!, 10_000), (error: unknown) => error instanceof MailboxError && error.kind === 'not-found');
  });

  test('an id that climbs out of the Maildir is not found, never read', async () => {
    const box = makeMaildir(join(dir, 'escape'));
    deliver(join(dir, 'secret.txt'), 'secret', 1);
    const session = await open(box);
    for (const id of ['../../secret.txt', 'new/../../secret.txt', 'tmp/x']) {
      await assert.rejects(session.read({ folder: 'INBOX', id, header: Buffer.alloc(0), size: 0 }, 100), (error: unknown) => error instanceof MailboxError && error.kind === 'not-found');
    }
    await assert.rejects(session.read({ folder: '../escape', id: 'new/x', header: Buffer.alloc(0), size: 0 }, 100), (error: unknown) => error instanceof MailboxError && error.kind === 'not-found');
  });

  test('a path that does not exist, or is not a Maildir, is not-found naming the path', async () => {
    const missing = join(dir, 'nowhere');
    const plain = join(dir, 'plain-folder');
    mkdirSync(plain);
    const file = deliver(join(dir, 'a-file'), 'x', 1);
    for (const path of [missing, plain, file]) {
      await assert.rejects(open(path), (error: unknown) => {
        assert.ok(error instanceof MailboxError);
        assert.equal(error.kind, 'not-found');
        assert.ok(error.message.includes(path), error.message);
        assert.equal(error.message.split('\n').length, 1);
        return true;
      });
    }
  });

  test('an aborted signal stops a listing with kind aborted', async () => {
    const box = makeMaildir(join(dir, 'abort'));
    const controller = new AbortController();
    const session = await openMaildir({ kind: 'maildir', path: box }, { timeoutMs: GENEROUS_MS, signal: controller.signal });
    controller.abort();
    await assert.rejects(session.list(['INBOX'], { limit: 1 }), (error: unknown) => error instanceof MailboxError && error.kind === 'aborted');
  });
});
