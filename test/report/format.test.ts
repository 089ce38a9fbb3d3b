import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  describeKind,
  formatDuration,
  formatTarget,
  printable,
  replyLines,
  toSeconds,
  transcriptLine,
} from '../../src/report/format.js';

describe('format helpers', () => {
  test('formatDuration switches from ms to s at one second', () => {
    assert.equal(formatDuration(0), '0 ms');
    assert.equal(formatDuration(12.4), '12 ms');
    assert.equal(formatDuration(999), '999 ms');
    assert.equal(formatDuration(1000), '1.00 s');
    assert.equal(formatDuration(1234), '1.23 s');
  });

  test('toSeconds keeps three decimals and never goes negative', () => {
    assert.equal(toSeconds(12), 0.012);
    assert.equal(toSeconds(1234.5678), 1.235);
    assert.equal(toSeconds(0), 0);
    assert.equal(toSeconds(-5), 0);
  });

  test('formatTarget brackets IPv6 literals', () => {
    assert.equal(formatTarget({ host: 'mx.example.test', port: 25 }), 'mx.example.test:25');
    assert.equal(formatTarget({ host: '::1', port: 2525 }), '[::1]:2525');
  });

  test('replyLines rebuilds the wire form of single, multiline and bare replies', () => {
    assert.deepEqual(replyLines({ code: 250, lines: ['mx.test', 'PIPELINING', 'SIZE 1000'] }), [
      '250-mx.test',
      '250-PIPELINING',
      '250 SIZE 1000',
    ]);
    assert.deepEqual(replyLines({ code: 250, lines: [''] }), ['250']);
    assert.deepEqual(replyLines({ code: 354, lines: [] }), ['354']);
  });

  test('transcriptLine shows the relative time in seconds', () => {
    assert.equal(transcriptLine({ atMs: 12, dir: 'C', text: 'EHLO test.com' }), '[+0.012s] C: EHLO test.com');
    assert.equal(transcriptLine({ atMs: 1500, dir: 'S', text: '250 ok' }, false), 'S: 250 ok');
    assert.equal(transcriptLine({ atMs: 0, dir: '*', text: 'closed' }), '[+0.000s] * closed');
  });

  test('describeKind names every cause', () => {
    assert.equal(describeKind('refused'), 'connection refused');
    assert.equal(describeKind('connect-timeout'), 'connect timed out');
    assert.equal(describeKind('expectation'), 'expectation failed');
  });

  test('printable makes controls, lone surrogates and bidi overrides visible, and keeps the rest', () => {
    assert.equal(printable('a\tb\nc\rd'), 'a\\tb\\nc\\rd');
    assert.equal(printable('\x1b[31m\x00\x7f\x9b'), '\\x1B[31m\\x00\\x7F\\x9B');
    assert.equal(printable('x\uD800y\uDC00z'), 'x\\u{D800}y\\u{DC00}z');
    assert.equal(printable('\u202Eevil\uFFFE'), '\\u{202E}evil\\u{FFFE}');
    assert.equal(printable('plain ü ✓ 😀 "#\\'), 'plain ü ✓ 😀 "#\\');
  });
});
