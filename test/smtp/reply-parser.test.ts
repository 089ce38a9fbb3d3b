import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyParser, enhancedCode, type ParseEvent } from '../../src/smtp/reply-parser.js';
import { SharedRecords } from '../../src/smtp/shared-records.js';

function parse(text: string | Buffer, parser = new ReplyParser()): ParseEvent[] {
  return parser.push(typeof text === 'string' ? Buffer.from(text, 'utf8') : text);
}

function replies(events: ParseEvent[]): unknown[] {
  return events.map((event) => {
    if (event.type === 'reply') return event.reply;
    return event.type === 'error' ? { error: event.error.message } : { beforeReply: event.line };
  });
}

const EHLO_REPLY = '250-mx.test Nice to meet you\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 1000\r\n';

describe('ReplyParser', () => {
  test('parses a single-line reply and keeps the raw line', () => {
    const events = parse('220 mx.test ESMTP\r\n');
    assert.deepEqual(events, [{ type: 'reply', reply: { code: 220, lines: ['mx.test ESMTP'] }, raw: ['220 mx.test ESMTP'] }]);
  });

  test('accepts a bare code as the last line, and an empty text after the space', () => {
    assert.deepEqual(replies(parse('250\r\n')), [{ code: 250, lines: [''] }]);
    assert.deepEqual(replies(parse('250 \r\n')), [{ code: 250, lines: [''] }]);
    assert.deepEqual(replies(parse('250-first\r\n250\r\n')), [{ code: 250, lines: ['first', ''] }]);
  });

  test('assembles a multiline reply', () => {
    const events = parse(EHLO_REPLY);
    assert.equal(events.length, 1);
    const [event] = events;
    assert.equal(event?.type, 'reply');
    if (event?.type !== 'reply') return;
    assert.deepEqual(event.reply, { code: 250, lines: ['mx.test Nice to meet you', 'PIPELINING', '8BITMIME', 'SIZE 1000'] });
    assert.deepEqual(event.raw, ['250-mx.test Nice to meet you', '250-PIPELINING', '250-8BITMIME', '250 SIZE 1000']);
  });

  test('gives the same result however the bytes are split', () => {
    const bytes = Buffer.from(`${EHLO_REPLY}354 go ahead\r\n`);
    const expected = replies(parse(bytes));
    for (let cut = 1; cut < bytes.length; cut++) {
      const parser = new ReplyParser();
      const events = [...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut))];
      assert.deepEqual(replies(events), expected, `split at byte ${cut}`);
    }
  });

  test('parses one byte at a time, and reports pending lines meanwhile', () => {
    const parser = new ReplyParser();
    const events: ParseEvent[] = [];
    const bytes = Buffer.from('250-one\r\n250 two\r\n');
    for (let i = 0; i < bytes.length; i++) {
      events.push(...parser.push(bytes.subarray(i, i + 1)));
      if (i === 10) {
        assert.deepEqual(parser.pendingLines, ['250-one']);
        assert.equal(parser.hasBufferedBytes, true);
      }
    }
    assert.deepEqual(replies(events), [{ code: 250, lines: ['one', 'two'] }]);
    assert.deepEqual(parser.pendingLines, []);
    assert.equal(parser.hasBufferedBytes, false);
  });

  test('returns several pipelined replies from one chunk, in order', () => {
    const events = parse('250 2.1.0 Accepted\r\n250 2.1.5 Accepted\r\n452 4.2.2 Mailbox full\r\n354 End data\r\n');
    assert.deepEqual(
      replies(events).map((reply) => (reply as { code: number }).code),
      [250, 250, 452, 354],
    );
  });

  test('reports a multiline reply that mixes codes once it ends, and keeps parsing', () => {
    const parser = new ReplyParser();
    const events = parse('250-first\r\n550-second\r\n250 last\r\n221 bye\r\n', parser);
    assert.equal(events.length, 2);
    const [error, next] = events;
    assert.equal(error?.type, 'error');
    if (error?.type !== 'error') return;
    assert.equal(error.error.kind, 'protocol');
    assert.equal(error.error.message, 'multiline reply mixes codes 250 and 550');
    assert.deepEqual(error.error.partialLines, ['250-first', '550-second', '250 last']);
    assert.deepEqual(next?.type === 'reply' && next.reply, { code: 221, lines: ['bye'] });
    assert.equal(parser.failed, undefined);
  });

  test('rejects a line that is not a reply, then refuses further input', () => {
    const parser = new ReplyParser();
    const events = parse('250-fine\r\nHTTP/1.1 400 Bad Request\r\n', parser);
    assert.equal(events.length, 1);
    const [event] = events;
    assert.equal(event?.type === 'error' && event.error.kind, 'protocol');
    assert.equal(event?.type === 'error' && event.error.message, 'server sent a line that is not an SMTP reply: "HTTP/1.1 400 Bad Request"');
    assert.deepEqual(event?.type === 'error' && event.error.partialLines, ['250-fine', 'HTTP/1.1 400 Bad Request']);
    assert.ok(parser.failed);
    assert.deepEqual(parse('250 ok\r\n', parser), []);
  });

  test('rejects codes outside 2xx–5xx, a missing separator and a short code', () => {
    for (const line of ['199 no', '600 no', '250x', '25 ok', '2500 ok', '']) {
      const [event] = parse(`${line}\r\n`);
      assert.equal(event?.type === 'error' && event.error.kind, 'protocol', JSON.stringify(line));
    }
  });

  test('truncates a long garbage line to 80 characters in the message', () => {
    const [event] = parse(`${'x'.repeat(200)}\r\n`);
    assert.equal(event?.type === 'error' && event.error.message, `server sent a line that is not an SMTP reply: "${'x'.repeat(80)}…"`);
  });

  test('stops a line longer than the limit before its line ending arrives', () => {
    const parser = new ReplyParser({ maxLineBytes: 100 });
    assert.deepEqual(parser.push(Buffer.from(`250 ${'a'.repeat(96)}`)), []);
    assert.deepEqual(parser.push(Buffer.from('\r')), [], 'a trailing CR may still be the line ending');
    const events = parser.push(Buffer.from('a'));
    assert.equal(events.length, 1);
    assert.equal(events[0]?.type === 'error' && events[0].error.kind, 'limit');
    assert.equal(events[0]?.type === 'error' && events[0].error.message, 'reply line longer than 100 bytes');
  });

  test('accepts a line of exactly the limit, and stops a complete line over it', () => {
    assert.equal(parse(`250 ${'a'.repeat(96)}\r\n`, new ReplyParser({ maxLineBytes: 100 }))[0]?.type, 'reply');
    const [event] = parse(`250 ${'a'.repeat(97)}\r\n`, new ReplyParser({ maxLineBytes: 100 }));
    assert.equal(event?.type === 'error' && event.error.kind, 'limit');
  });

  test('uses a default line limit of 8192 bytes', () => {
    const [event] = parse(`250 ${'a'.repeat(9000)}`);
    assert.equal(event?.type === 'error' && event.error.message, 'reply line longer than 8192 bytes');
  });

  test('when told, hands out lines before the first reply (a banner) and then reads replies strictly', () => {
    const parser = new ReplyParser({}, undefined, 5);
    const banner = '**** SMTP testing session as if from host 192.0.2.1\n**** This is not for real!\n\n';
    const events = parse(`${banner}220 mx.test ESMTP\r\nnot a reply\r\n`, parser);
    assert.deepEqual(replies(events), [
      { beforeReply: '**** SMTP testing session as if from host 192.0.2.1' },
      { beforeReply: '**** This is not for real!' },
      { beforeReply: '' },
      { code: 220, lines: ['mx.test ESMTP'] },
      { error: 'server sent a line that is not an SMTP reply: "not a reply"' },
    ]);
  });

  test('refuses one line too many before the first reply as a limit', () => {
    const parser = new ReplyParser({}, undefined, 2);
    const events = parse('one\ntwo\nthree\n220 late\r\n', parser);
    assert.deepEqual(replies(events), [{ beforeReply: 'one' }, { beforeReply: 'two' }, { error: 'more than 2 lines before the first reply' }]);
    assert.equal(parser.failed?.kind, 'limit');
  });

  test('bounds a line before the first reply by the line limit, before its end arrives', () => {
    const parser = new ReplyParser({ maxLineBytes: 100 }, undefined, 5);
    const [event] = parse('*'.repeat(101), parser);
    assert.equal(event?.type === 'error' && event.error.kind, 'limit');
  });

  test('stops a reply with too many lines', () => {
    const parser = new ReplyParser({ maxReplyLines: 3 });
    assert.equal(parse('250-1\r\n250-2\r\n250 3\r\n', parser)[0]?.type, 'reply');
    const [event] = parse('250-1\r\n250-2\r\n250-3\r\n250 4\r\n', parser);
    assert.equal(event?.type === 'error' && event.error.kind, 'limit');
    assert.equal(event?.type === 'error' && event.error.message, 'reply has more than 3 lines');
    assert.deepEqual(event?.type === 'error' && event.error.partialLines, ['250-1', '250-2', '250-3']);
  });

  test('extracts the enhanced status code from the first line', () => {
    const [event] = parse('550 5.1.1 <nobody@example.test>: no such user\r\n');
    assert.deepEqual(event?.type === 'reply' && event.reply, {
      code: 550,
      enhanced: '5.1.1',
      lines: ['5.1.1 <nobody@example.test>: no such user'],
    });
    assert.equal(replyEnhanced('250 2.0.0\r\n'), '2.0.0');
    assert.equal(replyEnhanced('452-4.2.2 Mailbox full\r\n452 4.2.2 try later\r\n'), '4.2.2');
    assert.equal(replyEnhanced('250 2.123.999 big numbers\r\n'), '2.123.999');
  });

  test('does not take an enhanced code whose class disagrees, or text that only looks like one', () => {
    assert.equal(replyEnhanced('250 5.1.1 odd\r\n'), undefined);
    assert.equal(replyEnhanced('250-8BITMIME\r\n250 2.0.0 ok\r\n'), undefined);
    assert.equal(replyEnhanced('354 3.0.0 go ahead\r\n'), undefined);
    assert.equal(replyEnhanced('250 2.01.0 leading zero\r\n'), undefined);
    assert.equal(replyEnhanced('250 2.1.0000 too long\r\n'), undefined);
    assert.equal(replyEnhanced('250 2.1.0.5 extra part\r\n'), undefined);
    assert.equal(enhancedCode(250, '2.1.0'), '2.1.0');
  });

  test('decodes invalid UTF-8 with replacement characters, also when split mid-character', () => {
    const bytes = Buffer.concat([Buffer.from('250 caf'), Buffer.from([0xc3, 0xa9, 0x20, 0xff, 0xfe]), Buffer.from('\r\n')]);
    const parser = new ReplyParser();
    const events = [...parser.push(bytes.subarray(0, 8)), ...parser.push(bytes.subarray(8))];
    assert.deepEqual(replies(events), [{ code: 250, lines: ['café \uFFFD\uFFFD'] }]);
  });

  test('accepts a bare LF as a line end, with a warning', () => {
    const events = parse('250-one\n250 two\r\n220 clean\r\n');
    assert.equal(events.length, 2);
    const [first, second] = events;
    assert.deepEqual(first?.type === 'reply' && first.reply, { code: 250, lines: ['one', 'two'] });
    assert.deepEqual(first?.type === 'reply' && first.warnings, ['reply line ended with a bare LF']);
    assert.equal(second?.type === 'reply' && second.warnings, undefined);
  });

  test('warns about a reply line longer than the 512 bytes of RFC 5321', () => {
    const [event] = parse(`250 ${'a'.repeat(600)}\r\n`);
    assert.deepEqual(event?.type === 'reply' && event.warnings, ['reply line longer than 512 bytes (RFC 5321 §4.5.3.1.5)']);
  });

  test('reset() discards buffered bytes and a failure', () => {
    const parser = new ReplyParser();
    parser.push(Buffer.from('250-one\r\n250 tw'));
    assert.equal(parser.hasBufferedBytes, true);
    parser.reset();
    assert.equal(parser.hasBufferedBytes, false);
    assert.deepEqual(replies(parse('220 ready\r\n', parser)), [{ code: 220, lines: ['ready'] }]);
  });

  describe('replies seen before in the same run', () => {
    const shared = new SharedRecords();
    const parseShared = (text: string | Buffer) => parse(text, new ReplyParser({}, shared));
    const only = (events: ParseEvent[]) => {
      assert.equal(events.length, 1);
      const [event] = events;
      assert.ok(event?.type === 'reply');
      return event;
    };

    test('the same reply in two sessions is one shared object, single-line or multiline', () => {
      const first = only(parseShared('250 2.1.0 sender ok (shared)\r\n'));
      const again = only(parseShared('250 2.1.0 sender ok (shared)\r\n'));
      assert.equal(again.reply, first.reply);
      assert.equal(again.raw, first.raw);
      const ehlo = only(parseShared('250-mx.shared\r\n250-PIPELINING\r\n250 SIZE 10\r\n'));
      const split = new ReplyParser({}, shared);
      const pieces = [...split.push(Buffer.from('250-mx.shared\r\n250-PIPE')), ...split.push(Buffer.from('LINING\r\n250 SIZE 10\r\n'))];
      assert.equal(only(pieces).reply, ehlo.reply);
      assert.deepEqual(ehlo.reply, { code: 250, lines: ['mx.shared', 'PIPELINING', 'SIZE 10'] });
    });

    test('a multiline reply ending in a line seen before as a whole reply is still its own reply', () => {
      only(parseShared('250 shared ending\r\n'));
      const multi = only(parseShared('250-first line\r\n250 shared ending\r\n'));
      assert.deepEqual(multi.reply, { code: 250, lines: ['first line', 'shared ending'] });
      assert.deepEqual(multi.raw, ['250-first line', '250 shared ending']);
    });

    test('a reply with a warning is never taken from those seen before, nor kept for later ones', () => {
      assert.equal(only(parseShared('250 warned or not\r\n')).warnings, undefined);
      assert.deepEqual(only(parseShared('250 warned or not\n')).warnings, ['reply line ended with a bare LF']);
      assert.deepEqual(only(parseShared('250 bare first\n')).warnings, ['reply line ended with a bare LF']);
      assert.equal(only(parseShared('250 bare first\r\n')).warnings, undefined);
    });

    test('the same text from more bytes than the RFC allows is still warned about', () => {
      // Invalid bytes decode to U+FFFD: 200 of them are 200 bytes, the same text sent as valid UTF-8 is 600.
      const invalid = only(parseShared(Buffer.concat([Buffer.from('250 '), Buffer.alloc(200, 0xff), Buffer.from('\r\n')])));
      assert.equal(invalid.warnings, undefined);
      const valid = only(parseShared(`250 ${'\uFFFD'.repeat(200)}\r\n`));
      assert.deepEqual(valid.reply.lines, invalid.reply.lines);
      assert.deepEqual(valid.warnings, ['reply line longer than 512 bytes (RFC 5321 §4.5.3.1.5)']);
    });

    test('are not shared between runs, nor by a parser outside any run', () => {
      const first = only(parseShared('250 2.1.0 one run only\r\n'));
      const other = only(parse('250 2.1.0 one run only\r\n', new ReplyParser({}, new SharedRecords())));
      const alone = only(parse('250 2.1.0 one run only\r\n'));
      assert.equal(new Set([first.reply, other.reply, alone.reply]).size, 3);
      assert.deepEqual(other.reply, first.reply);
    });
  });
});

function replyEnhanced(text: string): string | undefined {
  const [event] = parse(text);
  assert.equal(event?.type, 'reply');
  return event?.type === 'reply' ? event.reply.enhanced : undefined;
}
