import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRawEscapes } from '../../src/smtp/raw-escapes.js';

function bytesOf(text: string): number[] {
  const decoded = decodeRawEscapes(text);
  assert.ok('bytes' in decoded, `${text}: ${'error' in decoded ? decoded.error : ''}`);
  return [...decoded.bytes];
}

describe('decodeRawEscapes', () => {
  test('plain text is UTF-8', () => {
    assert.deepEqual(bytesOf('AB'), [0x41, 0x42]);
    assert.deepEqual(bytesOf('é€'), [0xc3, 0xa9, 0xe2, 0x82, 0xac]);
    assert.deepEqual(bytesOf(''), []);
  });

  test('the simple escapes', () => {
    assert.deepEqual(bytesOf('a\\r\\n.\\n'), [0x61, 0x0d, 0x0a, 0x2e, 0x0a]);
    assert.deepEqual(bytesOf('\\t\\0\\\\'), [0x09, 0x00, 0x5c]);
  });

  test('\\xHH is one byte, either case, even above 0x7F', () => {
    assert.deepEqual(bytesOf('\\x00\\x7f\\xFF\\xa9'), [0x00, 0x7f, 0xff, 0xa9]);
    assert.deepEqual(bytesOf('\\x414'), [0x41, 0x34]);
  });

  test('a real CR LF in the text is kept as is', () => {
    assert.deepEqual(bytesOf('a\r\nb'), [0x61, 0x0d, 0x0a, 0x62]);
  });

  test('bad escapes are errors with the index of the backslash', () => {
    assert.deepEqual(decodeRawEscapes('ab\\q'), {
      error: '"\\q" is not an escape: use \\r, \\n, \\t, \\0, \\\\ or \\xHH',
      index: 2,
    });
    assert.deepEqual(decodeRawEscapes('\\r\\x4'), {
      error: '"\\x" must be followed by two hex digits, as in \\x00 or \\x7F',
      index: 2,
    });
    assert.deepEqual(decodeRawEscapes('\\xZZ'), {
      error: '"\\x" must be followed by two hex digits, as in \\x00 or \\x7F',
      index: 0,
    });
    assert.deepEqual(decodeRawEscapes('end\\'), { error: 'a lone "\\" ends the text: write "\\\\" for a backslash', index: 3 });
    assert.deepEqual(decodeRawEscapes('\\😀'), { error: '"\\😀" is not an escape: use \\r, \\n, \\t, \\0, \\\\ or \\xHH', index: 0 });
  });
});
