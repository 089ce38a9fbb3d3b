import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage } from '../../src/smtp/dot-stuff.js';
import { SecretSet, SHORT_SECRET_CHARS } from '../../src/smtp/secrets.js';
import { DataLog, logRaw } from '../../src/smtp/sent-log.js';
import { Transcript } from '../../src/smtp/transcript.js';

function secrets(...values: string[]): SecretSet {
  const set = new SecretSet();
  for (const value of values) set.add(value);
  return set;
}

describe('SecretSet', () => {
  test('a secret shorter than the short limit is masked only where it stands as a whole word', () => {
    assert.ok('e'.length < SHORT_SECRET_CHARS && 'bad'.length < SHORT_SECRET_CHARS);
    const set = secrets('e', 'bad');
    assert.equal(set.mask('expected 235, got 535 e'), 'expected 235, got 535 ****');
    assert.equal(set.mask('a bad token, badly: bad'), 'a **** token, badly: ****');
    assert.equal(set.mask('user=e;x'), 'user=****;x');
  });

  test('a longer secret is masked wherever it appears, inside words too', () => {
    assert.equal(secrets('hunter2').mask('xhunter2y and hunter2'), 'x****y and ****');
  });

  test('a cut never leaves part of a secret: one that straddles the cut is masked whole', () => {
    const set = secrets('Qx7Zk9Wv3Jm2Rt');
    assert.equal(set.maskCut(`${'a'.repeat(995)}Qx7Zk9Wv3Jm2Rt${'b'.repeat(10)}`, 1000), `${'a'.repeat(995)}****…`);
    assert.equal(set.maskCut(`${'a'.repeat(1000)}Qx7Zk9Wv3Jm2Rt`, 1000), `${'a'.repeat(1000)}…`);
  });

  test('the cut counts the text as given, so masks that shorten it never pull a partial secret into view', () => {
    const set = secrets('long-secret-value-1', 'tail-secret');
    // Masking first and cutting the masked text at 30 would show "tail-sec" from the end of the text given.
    const text = `long-secret-value-1 long-secret-value-1 ab tail-sec`;
    assert.equal(set.maskCut(text, 30, true), '**** ****…');
    assert.equal(set.maskCut(text, 42, true), '**** **** ab…');
  });
});

describe('long lines are masked before they are cut', () => {
  test('a message line: the secret at character 995 of 1,500 leaves nothing behind, pushed whole or in pieces', () => {
    const secret = 'Qx7Zk9Wv3Jm2Rt';
    const body = `${'a'.repeat(995)}${secret}${'b'.repeat(491)}\n`;
    const payload = encodeMessage(body);
    for (const size of [0, 1, 7, 998, 1003]) {
      const transcript = new Transcript({ secrets: [secret] });
      const log = new DataLog(transcript);
      const bytes = payload.subarray(0, payload.length - 3);
      const step = size === 0 ? bytes.length : size;
      for (let at = 0; at < bytes.length; at += step) log.push(bytes.subarray(at, at + step));
      log.finish();
      assert.equal(transcript.entries[0]?.text, `${'a'.repeat(995)}****…`, `pushed in pieces of ${size}`);
    }
  });

  test('a raw line the same', () => {
    const secret = 'Qx7Zk9Wv3Jm2Rt';
    const transcript = new Transcript({ secrets: [secret] });
    logRaw(transcript, Buffer.from(`${'a'.repeat(995)}${secret}${'b'.repeat(491)}\r\n`));
    assert.equal(transcript.entries[0]?.text, `${'a'.repeat(995)}****…`);
  });
});
