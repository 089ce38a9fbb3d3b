import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeExpectation, describeReply, matchReply } from '../../src/engine/match.js';
import type { ReplyExpectation } from '../../src/scenario/types.js';
import type { Reply } from '../../src/smtp/types.js';

const reply = (code: number, lines: string[] = ['ok'], enhanced?: string): Reply => ({
  code,
  lines,
  ...(enhanced ? { enhanced } : {}),
});
const codes = (...anyOf: ReplyExpectation['anyOf']): ReplyExpectation => ({ anyOf });
const text = (source: string, flags = ''): ReplyExpectation['text'] => ({ source, flags, written: `/${source}/${flags}` });

describe('matchReply', () => {
  test('exact code', () => {
    assert.equal(matchReply(codes({ code: '250' }), reply(250)).ok, true);
    assert.equal(matchReply(codes({ code: '250' }), reply(251)).ok, false);
  });

  test('digit wildcards', () => {
    assert.equal(matchReply(codes({ code: '2xx' }), reply(221)).ok, true);
    assert.equal(matchReply(codes({ code: '25x' }), reply(251)).ok, true);
    assert.equal(matchReply(codes({ code: '25x' }), reply(221)).ok, false);
    assert.equal(matchReply(codes({ code: '5xx' }), reply(450)).ok, false);
  });

  test('any of a list', () => {
    const expect = codes({ code: '250' }, { code: '251' });
    assert.equal(matchReply(expect, reply(251)).ok, true);
    assert.equal(matchReply(expect, reply(252)).ok, false);
  });

  test('enhanced status codes, exact and with wildcards', () => {
    assert.equal(matchReply(codes({ code: '550', enhanced: '5.1.1' }), reply(550, ['5.1.1 no'], '5.1.1')).ok, true);
    assert.equal(matchReply(codes({ code: '550', enhanced: '5.1.1' }), reply(550, ['5.7.1 no'], '5.7.1')).ok, false);
    assert.equal(matchReply(codes({ enhanced: '5.1.x' }), reply(553, ['5.1.3 bad'], '5.1.3')).ok, true);
    assert.equal(matchReply(codes({ enhanced: '5.1.x' }), reply(550, ['5.7.1 relay'], '5.7.1')).ok, false);
    assert.equal(matchReply(codes({ enhanced: '5.x.x' }), reply(550, ['5.1.10 x'], '5.1.10')).ok, true);
  });

  test('an enhanced pattern fails when the reply carries no enhanced code', () => {
    const result = matchReply(codes({ code: '550', enhanced: '5.1.1' }), reply(550, ['no such user']));
    assert.deepEqual(result, { ok: false, reason: 'expected 550 5.1.1, got 550 no such user' });
  });

  test('text regex over every line, with flags', () => {
    const ehlo = reply(250, ['mx.test greets you', 'PIPELINING', 'DSN']);
    assert.equal(matchReply({ anyOf: [], text: text('^DSN$', 'm') }, ehlo).ok, true);
    assert.equal(matchReply({ anyOf: [], text: text('^dsn$', 'm') }, ehlo).ok, false);
    assert.equal(matchReply({ anyOf: [], text: text('^dsn$', 'mi') }, ehlo).ok, true);
  });

  test('code and text must both hold', () => {
    const expect: ReplyExpectation = { anyOf: [{ code: '220' }], text: text('ESMTP') };
    assert.equal(matchReply(expect, reply(220, ['mx ESMTP ready'])).ok, true);
    assert.equal(matchReply(expect, reply(220, ['mx ready'])).ok, false);
    assert.equal(matchReply(expect, reply(554, ['mx ESMTP no'])).ok, false);
  });

  test('no expectation accepts any reply', () => {
    assert.equal(matchReply(undefined, reply(554)).ok, true);
    assert.equal(matchReply(codes(), reply(421)).ok, true);
  });
});

describe('describing expectations and replies', () => {
  test('expectations in words', () => {
    assert.equal(describeExpectation(codes({ code: '250' })), '250');
    assert.equal(describeExpectation(codes({ code: '250' }, { code: '251' })), '250 or 251');
    assert.equal(describeExpectation(codes({ code: '500' }, { code: '501' }, { code: '502' })), '500, 501 or 502');
    assert.equal(describeExpectation(codes({ code: '550', enhanced: '5.1.1' })), '550 5.1.1');
    assert.equal(describeExpectation({ anyOf: [{ code: '220' }], text: text('ESMTP', 'i') }), '220 with text /ESMTP/i');
    assert.equal(describeExpectation({ anyOf: [], text: text('x') }), 'a reply with text /x/');
    assert.equal(describeExpectation(undefined), 'any reply');
  });

  test('replies in one line', () => {
    assert.equal(describeReply(reply(250, ['ok'])), '250 ok');
    assert.equal(describeReply(reply(250, [''])), '250');
    assert.equal(describeReply(reply(250, ['mx', 'PIPELINING', 'DSN'])), '250 mx (+2 more lines)');
    assert.equal(describeReply(reply(250, ['mx', 'DSN'])), '250 mx (+1 more line)');
  });
});
