import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMbox } from '../../src/mailbox/mbox.js';
import { MailboxError } from '../../src/mailbox/types.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';

const deadline = { timeoutMs: GENEROUS_MS };

const isKind = (kind: string) => (error: unknown) => error instanceof MailboxError && error.kind === kind;

/** An mbox as a local delivery agent writes it: a From line, the message quoted, an empty line after. */
function entry(from: string, message: string): string {
  return `From ${from} Thu Nov  5 12:00:00 2026\n${message.replace(/^(>*From )/gm, '>$1')}\n`;
}

const FIRST = 'Message-ID: <first@test>\nSubject: first\n\nFrom the start.\n>From quoted already.\n';
const SECOND = 'Message-ID: <second@test>\nSubject: second\n\nHello.\n';
const THIRD = 'Message-ID: <third@test>\nSubject: third\n\nFrom here on\nFrom there.\n';

describe('mbox mailbox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smtpspec-mbox-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const make = (name: string, text: string | Buffer): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  test('lists the last message first, ids are the byte offsets of the From lines, limit keeps the newest', async () => {
    const text = entry('a@test', FIRST) + entry('b@test', SECOND) + entry('c@test', THIRD);
    const path = make('three', text);
    const session = await openMbox({ kind: 'mbox', path }, deadline);
    assert.deepEqual(await session.folders(), ['INBOX']);
    const all = await session.list(['INBOX'], { limit: 10 });
    assert.deepEqual(
      all.map((message) => message.header.toString().split('\n')[1]),
      ['Subject: third', 'Subject: second', 'Subject: first'],
    );
    const offsets = all.map((message) => Number(message.id));
    for (const offset of offsets) assert.equal(text.slice(offset, offset + 5), 'From ');
    assert.equal(all[2]!.id, '0');
    assert.equal(all[0]!.header.toString(), 'Message-ID: <third@test>\nSubject: third\n\n');
    assert.equal(all[0]!.size, Buffer.byteLength(THIRD));
    assert.equal(all[0]!.folder, 'INBOX');
    assert.ok(all[0]!.receivedAt instanceof Date);
    const newest = await session.list(['INBOX'], { limit: 2 });
    assert.deepEqual(
      newest.map((message) => message.id),
      [all[0]!.id, all[1]!.id],
    );
  });

  test('reads a message with its From quoting undone, within maxBytes', async () => {
    const path = make('quoted', entry('a@test', FIRST) + entry('c@test', THIRD));
    const session = await openMbox({ kind: 'mbox', path }, deadline);
    const [third, first] = await session.list(['INBOX'], { limit: 10 });
    assert.equal((await session.read(third!, 10_000)).toString(), THIRD);
    assert.equal((await session.read(first!, 10_000)).toString(), FIRST);
    await assert.rejects(session.read(first!, 10), isKind('too-big'));
  });

  test('a From line inside a message that follows no empty line does not start a message', async () => {
    const path = make('mboxo', 'From a@test Thu Nov  5 12:00:00 2026\nSubject: one\n\nline\nFrom unquoted in the body\n\nFrom b@test Thu Nov  5 12:01:00 2026\nSubject: two\n\nbody\n');
    const session = await openMbox({ kind: 'mbox', path }, deadline);
    const list = await session.list(['INBOX'], { limit: 10 });
    assert.equal(list.length, 2);
    assert.equal((await session.read(list[1]!, 1000)).toString(), 'Subject: one\n\nline\nFrom unquoted in the body\n');
  });

  test('messages with CRLF line endings lose only the separating empty line', async () => {
    const path = make('crlf', 'From a@test Thu Nov  5 12:00:00 2026\r\nSubject: one\r\n\r\nbody\r\n\r\nFrom b@test Thu Nov  5 12:01:00 2026\r\nSubject: two\r\n\r\nbody\r\n\r\n');
    const session = await openMbox({ kind: 'mbox', path }, deadline);
    const [two, one] = await session.list(['INBOX'], { limit: 10 });
    assert.equal((await session.read(one!, 1000)).toString(), 'Subject: one\r\n\r\nbody\r\n');
    assert.equal((await session.read(two!, 1000)).toString(), 'Subject: two\r\n\r\nbody\r\n');
    assert.equal(one!.header.toString(), 'Subject: one\r\n\r\n');
  });

  test('removes a message by rewriting the file whole, keeping its permissions and its other bytes', async () => {
    const latin1 = Buffer.from('Subject: caf\xe9\n\n\xe9t\xe9\n', 'latin1');
    const path = make('remove', Buffer.concat([Buffer.from(entry('a@test', FIRST)), Buffer.from('From b@test Thu Nov  5 12:00:00 2026\n'), latin1, Buffer.from('\n'), Buffer.from(entry('c@test', THIRD))]));
    chmodSync(path, 0o600);
    const session = await openMbox({ kind: 'mbox', path }, deadline);
    const [third, latin, first] = await session.list(['INBOX'], { limit: 10 });
    await session.remove(third!);
    assert.deepEqual(readFileSync(path), Buffer.concat([Buffer.from(entry('a@test', FIRST)), Buffer.from('From b@test Thu Nov  5 12:00:00 2026\n'), latin1, Buffer.from('\n')]));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(
      readdirSync(dir).filter((name) => name.includes('remove') && name !== 'remove'),
      [],
      'no lock or temporary file left',
    );
    const after = await session.list(['INBOX'], { limit: 10 });
    assert.deepEqual(
      after.map((message) => message.id),
      [latin!.id, first!.id],
    );
    assert.deepEqual(await session.read(after[0]!, 1000), latin1);
  });

  test('refuses to remove from a file that changed since it was listed, and leaves it as it is', async () => {
    const path = make('changed', entry('a@test', FIRST) + entry('b@test', SECOND));
    const session = await openMbox({ kind: 'mbox', path }, deadline);
    const [second] = await session.list(['INBOX'], { limit: 10 });
    appendFileSync(path, entry('c@test', THIRD));
    const before = readFileSync(path);
    await assert.rejects(session.remove(second!), (error: unknown) => isKind('io')(error) && /changed since it was listed/.test((error as Error).message));
    assert.deepEqual(readFileSync(path), before);
  });

  test('refuses to remove while another program holds the dot-lock', async () => {
    const path = make('locked', entry('a@test', FIRST));
    writeFileSync(`${path}.lock`, '');
    const session = await openMbox({ kind: 'mbox', path }, deadline);
    const [first] = await session.list(['INBOX'], { limit: 10 });
    await assert.rejects(session.remove(first!), isKind('io'));
    assert.equal(readFileSync(path, 'utf8'), entry('a@test', FIRST));
  });

  test('an id that is not the start of a message is not found', async () => {
    const path = make('ids', entry('a@test', FIRST));
    const session = await openMbox({ kind: 'mbox', path }, deadline);
    await session.list(['INBOX'], { limit: 1 });
    await assert.rejects(session.read({ folder: 'INBOX', id: '3', header: Buffer.alloc(0), size: 0 }, 1000), isKind('not-found'));
    await assert.rejects(session.list(['Junk'], { limit: 1 }), isKind('not-found'));
  });

  test('an empty file has no messages; a missing path, a folder or a file that is no mbox is not-found naming the path', async () => {
    const empty = make('empty', '');
    assert.deepEqual(await (await openMbox({ kind: 'mbox', path: empty }, deadline)).list(['INBOX'], { limit: 5 }), []);
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    const notMbox = make('not-mbox', 'Subject: hello\n\nbody\n');
    for (const path of [join(dir, 'nowhere'), folder, notMbox]) {
      await assert.rejects(openMbox({ kind: 'mbox', path }, deadline), (error: unknown) => isKind('not-found')(error) && (error as Error).message.includes(path));
    }
  });
});
