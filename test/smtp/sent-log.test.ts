import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage } from '../../src/smtp/dot-stuff.js';
import { DataLog } from '../../src/smtp/sent-log.js';
import { Transcript } from '../../src/smtp/transcript.js';

/** The payload as sendData logs it: encoded, without the terminating `.` CRLF. */
function payloadOf(body: string): Buffer {
  const payload = encodeMessage(body);
  return payload.subarray(0, payload.length - 3);
}

/** What DataLog writes to the transcript for `bytes` pushed in chunks of `size` (all at once when 0). */
function logged(bytes: Buffer, size = 0, terminated = true): string[] {
  const transcript = new Transcript();
  const log = new DataLog(transcript);
  const step = size === 0 ? Math.max(bytes.length, 1) : size;
  for (let at = 0; at < bytes.length; at += step) log.push(bytes.subarray(at, at + step));
  log.finish(terminated);
  return transcript.entries.map((entry) => `${entry.dir}: ${entry.text}`);
}

function numberedLines(count: number): string {
  return Array.from({ length: count }, (_, i) => `line ${i + 1}\n`).join('');
}

describe('DataLog', () => {
  test('shows the first 50 lines as sent, then the number of the others, then the dot', () => {
    const entries = logged(payloadOf(`.dot first\n${numberedLines(99)}`));
    assert.equal(entries.length, 52);
    assert.equal(entries[0], 'C: ..dot first');
    assert.equal(entries[49], 'C: line 49');
    assert.equal(entries[50], 'C: … 50 more lines');
    assert.equal(entries[51], 'C: .');
  });

  test('exactly 50 lines need no summary, 51 say one more line', () => {
    assert.deepEqual(logged(payloadOf(numberedLines(50))).slice(-2), ['C: line 50', 'C: .']);
    assert.deepEqual(logged(payloadOf(numberedLines(51))).slice(-2), ['C: … 1 more line', 'C: .']);
  });

  test('an unterminated last line past the first 50 is counted once, and no dot is logged for a stopped message', () => {
    const bytes = Buffer.from(`${numberedLines(55).replace(/\n/g, '\r\n')}partial line`);
    for (const size of [0, 1, 5, 13]) {
      assert.deepEqual(logged(bytes, size, false).slice(-2), ['C: line 50', 'C: … 6 more lines'], `chunks of ${size}`);
    }
  });

  test('a line longer than 1000 bytes is cut with an ellipsis, also when it comes in pieces', () => {
    const long = `${'é'.repeat(300)}${'x'.repeat(800)}`;
    const bytes = payloadOf(`short\n${long}\nafter\n`);
    const expected = ['C: short', `C: ${Buffer.from(long).subarray(0, 1000).toString('utf8')}…`, 'C: after', 'C: .'];
    for (const size of [0, 1, 7, 999, 1000, 1001]) assert.deepEqual(logged(bytes, size), expected, `chunks of ${size}`);
  });

  test('a CRLF split between two pushes is one line end, even right after 1000 bytes', () => {
    const line = 'z'.repeat(1000);
    const bytes = Buffer.from(`a\r\n\r\n${line}\r\nb\r\n`);
    const expected = ['C: a', 'C: ', `C: ${line}`, 'C: b', 'C: .'];
    for (const cut of [2, 5, 1006]) {
      const transcript = new Transcript();
      const log = new DataLog(transcript);
      log.push(bytes.subarray(0, cut));
      log.push(bytes.subarray(cut));
      log.finish();
      assert.deepEqual(transcript.entries.map((entry) => `${entry.dir}: ${entry.text}`), expected, `cut at ${cut}`);
    }
  });

  test('every chunk size gives the transcript of one push', () => {
    const body = `Subject: x\n\n${numberedLines(80)}.\n\nGrüße\n${'y'.repeat(1200)}\n${numberedLines(30)}no end`;
    const bytes = payloadOf(body);
    const whole = logged(bytes);
    assert.equal(whole.at(-2), 'C: … 67 more lines');
    for (let size = 1; size <= 64; size++) assert.deepEqual(logged(bytes, size), whole, `chunks of ${size}`);
  });
});
