import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTarget } from '../../src/scenario/target.js';

describe('parseTarget', () => {
  test('a host alone gets the default port', () => {
    assert.deepEqual(parseTarget('mx.example.test'), { host: 'mx.example.test', port: 25 });
    assert.deepEqual(parseTarget('127.0.0.1', 2525), { host: '127.0.0.1', port: 2525 });
  });

  test('host:port', () => {
    assert.deepEqual(parseTarget('127.0.0.1:2525'), { host: '127.0.0.1', port: 2525 });
    assert.deepEqual(parseTarget('mail_1.example.test:587'), { host: 'mail_1.example.test', port: 587 });
  });

  test('IPv6 in brackets, with or without a port, and bare', () => {
    assert.deepEqual(parseTarget('[::1]:2525'), { host: '::1', port: 2525 });
    assert.deepEqual(parseTarget('[2001:db8::1]'), { host: '2001:db8::1', port: 25 });
    assert.deepEqual(parseTarget('::1'), { host: '::1', port: 25 });
  });

  test('ports outside 1..65535 and malformed text are rejected', () => {
    for (const text of ['', ':25', 'host:', 'host:0', 'host:65536', 'host:25x', 'host:-1', 'a b', '[nope]:25', '[::1]:', 'a:b:c', 'x/y']) {
      assert.equal(parseTarget(text), undefined, text);
    }
    assert.deepEqual(parseTarget('host:65535'), { host: 'host', port: 65535 });
  });
});
