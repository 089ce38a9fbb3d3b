import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMailCommand, buildRcptCommand, xtext } from '../../src/smtp/mail-params.js';

describe('buildMailCommand', () => {
  test('the sender alone, and the null sender', () => {
    assert.equal(buildMailCommand({ from: 'a@example.test' }), 'MAIL FROM:<a@example.test>');
    assert.equal(buildMailCommand({ from: '' }), 'MAIL FROM:<>');
  });

  test('every parameter, in a fixed order, ENVID as xtext', () => {
    assert.equal(
      buildMailCommand({ from: 'a@example.test', envid: 'QQ314159', ret: 'HDRS', smtputf8: true, body: '8BITMIME', size: 1000 }),
      'MAIL FROM:<a@example.test> SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ314159',
    );
    assert.equal(buildMailCommand({ from: 'a@x', envid: 'a+b=c d' }), 'MAIL FROM:<a@x> ENVID=a+2Bb+3Dc+20d');
  });

  test('smtputf8: false and SIZE=0 are written as meant', () => {
    assert.equal(buildMailCommand({ from: 'a@x', smtputf8: false, size: 0 }), 'MAIL FROM:<a@x> SIZE=0');
  });
});

describe('buildRcptCommand', () => {
  test('the recipient alone', () => {
    assert.equal(buildRcptCommand({ to: 'b@example.test' }), 'RCPT TO:<b@example.test>');
  });

  test('NOTIFY as a comma list and ORCPT with its address type', () => {
    assert.equal(
      buildRcptCommand({ to: 'b@example.test', notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;b@example.test' }),
      'RCPT TO:<b@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.test',
    );
    assert.equal(buildRcptCommand({ to: 'b@x', notify: ['NEVER'] }), 'RCPT TO:<b@x> NOTIFY=NEVER');
  });

  test('ORCPT without an address type is rfc822; its address is xtext-encoded', () => {
    assert.equal(buildRcptCommand({ to: 'b@x', orcpt: 'b+tag@x' }), 'RCPT TO:<b@x> ORCPT=rfc822;b+2Btag@x');
    assert.equal(buildRcptCommand({ to: 'b@x', orcpt: 'utf-8;b=c;d@x' }), 'RCPT TO:<b@x> ORCPT=utf-8;b+3Dc;d@x');
  });
});

describe('xtext', () => {
  test('printable ASCII other than + and = stays', () => {
    assert.equal(xtext('!azAZ09~@.;'), '!azAZ09~@.;');
  });

  test('+, =, space, controls and non-ASCII bytes become +HH in upper case', () => {
    assert.equal(xtext('+= \t\x7f'), '+2B+3D+20+09+7F');
    assert.equal(xtext('é'), '+C3+A9');
    assert.equal(xtext(''), '');
  });
});
