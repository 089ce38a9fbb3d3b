import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SharedRecords } from '../../src/smtp/shared-records.js';
import { Transcript } from '../../src/smtp/transcript.js';

function fakeClock(start = 1000): { now: () => number; advance(ms: number): void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('Transcript', () => {
  test('records C:, S: and notes with times relative to construction, rounded to ms', () => {
    const clock = fakeClock(5000.2);
    const transcript = new Transcript({ now: clock.now });
    transcript.note('connected to 127.0.0.1:25');
    clock.advance(12.4);
    transcript.server('220 mx.test ESMTP');
    clock.advance(0.7);
    transcript.client('EHLO client.test');
    assert.deepEqual(transcript.entries, [
      { atMs: 0, dir: '*', text: 'connected to 127.0.0.1:25' },
      { atMs: 12, dir: 'S', text: '220 mx.test ESMTP' },
      { atMs: 13, dir: 'C', text: 'EHLO client.test' },
    ]);
  });

  test('uses a real clock by default', () => {
    const transcript = new Transcript();
    transcript.note('x');
    assert.equal(Number.isInteger(transcript.entries[0]?.atMs), true);
    assert.ok((transcript.entries[0]?.atMs ?? -1) >= 0);
  });

  test('masks every secret in every kind of entry', () => {
    const transcript = new Transcript({ secrets: ['hunter2', ''] });
    transcript.client('AUTH PLAIN hunter2 and hunter2 again');
    transcript.server('535 hunter2 rejected');
    transcript.note('sent hunter2');
    assert.deepEqual(
      transcript.entries.map((entry) => entry.text),
      ['AUTH PLAIN **** and **** again', '535 **** rejected', 'sent ****'],
    );
    assert.equal(transcript.mask('no secret here'), 'no secret here');
  });

  test('masks the longest secret first, so a secret containing another leaves nothing behind', () => {
    const transcript = new Transcript({ secrets: ['pass', 'passphrase'] });
    assert.equal(transcript.mask('x passphrase y pass'), 'x **** y ****');
  });

  test('masks secrets added later, such as an encoded form', () => {
    const transcript = new Transcript({ secrets: ['s3cret'] });
    const encoded = Buffer.from('\0user\0s3cret').toString('base64');
    transcript.addSecret(encoded);
    transcript.client(`AUTH PLAIN ${encoded}`);
    assert.equal(transcript.entries[0]?.text, 'AUTH PLAIN ****');
  });

  test('caps the entries and counts what it did not keep', () => {
    const transcript = new Transcript({ maxEntries: 3 });
    for (let i = 1; i <= 10; i++) transcript.server(`250 line ${i}`);
    assert.equal(transcript.entries.length, 4);
    assert.deepEqual(
      transcript.entries.map((entry) => entry.text),
      ['250 line 1', '250 line 2', '250 line 3', '… 7 more lines not kept'],
    );
    assert.equal(transcript.entries[3]?.dir, '*');
  });

  test('caps at 2000 entries by default', () => {
    const transcript = new Transcript();
    for (let i = 0; i < 2001; i++) transcript.server('250-x');
    assert.equal(transcript.entries.length, 2001);
    assert.equal(transcript.entries[2000]?.text, '… 1 more line not kept');
  });

  describe('entries logged before in the same run', () => {
    test('are shared between sessions that log the same line at the same moment', () => {
      const clock = fakeClock();
      const shared = new SharedRecords();
      const first = new Transcript({ shared, now: clock.now });
      const second = new Transcript({ shared, now: clock.now });
      clock.advance(3);
      first.server('250 shared.test ok');
      second.server('250 shared.test ok');
      assert.equal(second.entries[0], first.entries[0]);
      assert.deepEqual(second.entries[0], { atMs: 3, dir: 'S', text: '250 shared.test ok' });
    });

    test('differ when the time or the direction differs', () => {
      const clock = fakeClock();
      const shared = new SharedRecords();
      const first = new Transcript({ shared, now: clock.now });
      first.client('NOOP shared.test');
      first.note('NOOP shared.test');
      clock.advance(1);
      first.client('NOOP shared.test');
      assert.deepEqual(first.entries, [
        { atMs: 0, dir: 'C', text: 'NOOP shared.test' },
        { atMs: 0, dir: '*', text: 'NOOP shared.test' },
        { atMs: 1, dir: 'C', text: 'NOOP shared.test' },
      ]);
      assert.equal(new Set(first.entries).size, 3);
    });

    test('are looked up by the masked text: an unmasked entry never serves a session with that secret', () => {
      const clock = fakeClock();
      const shared = new SharedRecords();
      const plain = new Transcript({ shared, now: clock.now });
      const secret = new Transcript({ shared, now: clock.now, secrets: ['c2VjcmV0'] });
      plain.client('AUTH PLAIN c2VjcmV0');
      secret.client('AUTH PLAIN c2VjcmV0');
      assert.equal(plain.entries[0]?.text, 'AUTH PLAIN c2VjcmV0');
      assert.equal(secret.entries[0]?.text, 'AUTH PLAIN ****');
    });

    test('are not shared late in a session, where lines seldom repeat', () => {
      const clock = fakeClock();
      const shared = new SharedRecords();
      const first = new Transcript({ shared, now: clock.now });
      const second = new Transcript({ shared, now: clock.now });
      clock.advance(5_000);
      first.server('250 late.test ok');
      second.server('250 late.test ok');
      assert.notEqual(second.entries[0], first.entries[0]);
      assert.deepEqual(second.entries[0], first.entries[0]);
    });

    test('are not shared when the clock runs backwards', () => {
      const clock = fakeClock();
      const shared = new SharedRecords();
      const first = new Transcript({ shared, now: clock.now });
      const second = new Transcript({ shared, now: clock.now });
      clock.advance(-2);
      first.server('250 backwards.test ok');
      second.server('250 backwards.test ok');
      assert.notEqual(second.entries[0], first.entries[0]);
      assert.equal(second.entries[0]?.atMs, -2);
    });

    test('are not shared between runs, nor by a transcript outside any run', () => {
      const clock = fakeClock();
      const first = new Transcript({ shared: new SharedRecords(), now: clock.now });
      const other = new Transcript({ shared: new SharedRecords(), now: clock.now });
      const alone = new Transcript({ now: clock.now });
      for (const transcript of [first, other, alone]) transcript.server('250 runs.test ok');
      assert.equal(new Set([first.entries[0], other.entries[0], alone.entries[0]]).size, 3);
      assert.deepEqual(other.entries[0], first.entries[0]);
    });
  });
});
