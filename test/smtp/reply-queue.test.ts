import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyParser } from '../../src/smtp/reply-parser.js';
import { ReplyQueue, isReplyTimeout } from '../../src/smtp/reply-queue.js';
import { Transcript } from '../../src/smtp/transcript.js';
import { SmtpError, type Reply } from '../../src/smtp/types.js';

function setUp(): { queue: ReplyQueue; parser: ReplyParser; transcript: Transcript; floods: () => number } {
  const parser = new ReplyParser();
  const transcript = new Transcript();
  let floods = 0;
  const queue = new ReplyQueue(parser, transcript, () => floods++);
  return { queue, parser, transcript, floods: () => floods };
}

const ok = (text: string): Reply => ({ code: 250, lines: [text] });
const notes = (transcript: Transcript): string[] => transcript.entries.filter((entry) => entry.dir === '*').map((entry) => entry.text);

describe('ReplyQueue', () => {
  test('keeps replies and broken replies in order for later reads, then fails reads with the ending', async () => {
    const { queue } = setUp();
    queue.deliverReply(ok('first'), ['250 first']);
    queue.deliverError(new SmtpError('protocol', 'reply', 'broken'));
    queue.end({ kind: 'closed', phase: 'reply', message: 'server closed the connection' });
    assert.equal(queue.isOpen, false);
    assert.deepEqual(await queue.read(1000), ok('first'));
    await assert.rejects(queue.read(1000), { kind: 'protocol', message: 'broken' });
    const ended = queue.ended;
    assert.ok(ended instanceof SmtpError && ended.message === 'server closed the connection');
    await assert.rejects(queue.read(1000), (error) => error === ended);
  });

  test('hands a reply to the read waiting for it', async () => {
    const { queue } = setUp();
    const read = queue.read(1000);
    queue.deliverReply(ok('now'), ['250 now']);
    assert.deepEqual(await read, ok('now'));
    assert.equal(queue.hasUnread, false);
  });

  test('ending the session fails the read waiting, once, with the first ending', async () => {
    const { queue, transcript } = setUp();
    const read = queue.read(1000);
    queue.end(new SmtpError('closed', 'reply', 'reset by peer'), 'connection reset');
    queue.end(new SmtpError('closed', 'reply', 'second'));
    await assert.rejects(read, { kind: 'closed', message: 'reset by peer' });
    assert.deepEqual(notes(transcript), ['connection reset']);
  });

  test('a read deadline names the lines received so far, and a late reply goes to the next read', async () => {
    const { queue, parser, transcript } = setUp();
    parser.push(Buffer.from('250-first\r\n'));
    const error = await queue.read(20).then(() => undefined, (caught: unknown) => caught);
    assert.ok(error instanceof SmtpError && isReplyTimeout(error));
    assert.equal(error.message, 'no complete reply within 20 ms (got 1 line so far)');
    assert.deepEqual(error.partialLines, ['250-first']);
    assert.deepEqual(notes(transcript), ['no complete reply within 20 ms (got 1 line so far)']);
    queue.deliverReply(ok('late'), ['250 late']);
    assert.deepEqual(await queue.read(1000), ok('late'));
  });

  test('every read gets its whole deadline, counted from its own start, also when an earlier read was answered in time', async () => {
    const { queue } = setUp();
    const first = queue.read(60);
    await new Promise((resolve) => setTimeout(resolve, 40));
    queue.deliverReply(ok('in time'), ['250 in time']);
    assert.deepEqual(await first, ok('in time'));
    // A deadline left over from the first read would fire 20 ms into this one.
    const started = performance.now();
    const second = queue.read(60);
    await new Promise((resolve) => setTimeout(resolve, 40));
    queue.deliverReply(ok('also in time'), ['250 also in time']);
    assert.deepEqual(await second, ok('also in time'));
    const third = await queue.read(30).then(() => undefined, (caught: unknown) => caught);
    assert.ok(third instanceof SmtpError && isReplyTimeout(third), 'a read with nothing coming still times out');
    assert.equal(third.message, 'no reply within 30 ms');
    assert.ok(performance.now() - started >= 40 + 30 - 2);
    queue.end({ kind: 'closed', phase: 'close', message: 'done' });
  });

  test('takes everything unread at once, with the start of a reply still arriving', () => {
    const { queue, parser } = setUp();
    queue.deliverReply(ok('a'), ['250 a']);
    queue.deliverError(new SmtpError('protocol', 'reply', 'b'));
    parser.push(Buffer.from('421 going'));
    assert.equal(queue.hasUnread, true);
    const unread = queue.takeUnsolicited();
    assert.equal(unread.length, 3);
    assert.deepEqual(unread[0], { reply: ok('a') });
    assert.ok('error' in unread[1]! && unread[1].error.message === 'b');
    assert.deepEqual(unread[2], { partial: '421 going' });
  });

  test('more than 1000 unread replies end the session and drop them', async () => {
    const { queue, floods } = setUp();
    for (let i = 0; i <= 1000; i++) queue.deliverReply(ok(String(i)), [`250 ${i}`]);
    assert.equal(floods(), 1);
    assert.equal(queue.isOpen, false);
    assert.equal(queue.hasUnread, false);
    await assert.rejects(queue.read(1000), { kind: 'limit', message: 'server sent more than 1000 replies that nobody read' });
  });

  test('more than 16 MiB of unread replies end the session', async () => {
    const { queue, floods } = setUp();
    const line = `250 ${'x'.repeat(9 * 1024 * 1024)}`;
    queue.deliverReply(ok('big'), [line]);
    assert.equal(floods(), 0);
    queue.deliverReply(ok('big'), [line]);
    assert.equal(floods(), 1);
    await assert.rejects(queue.read(1000), { kind: 'limit', message: 'server sent more than 16 MiB of replies that nobody read' });
  });

  test('a second read while one waits is refused', async () => {
    const { queue } = setUp();
    const first = queue.read(1000);
    await assert.rejects(queue.read(1000), /another readReply is waiting/);
    queue.deliverReply(ok('one'), ['250 one']);
    assert.deepEqual(await first, ok('one'));
  });

  test('a reply deadline is told by its kind and phase, not by its words', () => {
    assert.equal(isReplyTimeout(new SmtpError('timeout', 'reply', 'no reply within 20 ms: got 1 of 2 replies to the pipelined group')), true);
    assert.equal(isReplyTimeout(new SmtpError('timeout', 'reply', 'any words at all')), true);
    // The same words from the handshake or a stalled write are other deadlines.
    assert.equal(isReplyTimeout(new SmtpError('timeout', 'tls', 'no reply within 20 ms')), false);
    assert.equal(isReplyTimeout(new SmtpError('timeout', 'send', 'no reply within 20 ms')), false);
    assert.equal(isReplyTimeout(new SmtpError('closed', 'reply', 'no reply within 20 ms')), false);
  });
});
