import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionRecorder, isAuthWithSecret, unstuff, type RecordedStep } from '../../src/record/steps.js';
import type { Reply } from '../../src/smtp/types.js';

const reply = (code: number, text = 'ok', enhanced?: string): Reply => ({ code, lines: [text], ...(enhanced ? { enhanced } : {}) });

/** Feeds typed lines, answering each line that awaits a reply with the next of `replies`. */
function session(lines: string[], replies: Reply[]): { recorder: SessionRecorder; sent: string[]; shown: string[]; afters: string[] } {
  const recorder = new SessionRecorder();
  recorder.greeting(reply(220, 'hello'));
  const sent: string[] = [];
  const shown: string[] = [];
  const afters: string[] = [];
  for (const line of lines) {
    const typed = recorder.typed(line);
    if (typed.type !== 'send') continue;
    sent.push(typed.line);
    shown.push(typed.shown);
    if (typed.awaitReply) afters.push(recorder.replied(replies.shift() as Reply));
  }
  return { recorder, sent, shown, afters };
}

const kinds = (steps: RecordedStep[]): string[] => steps.map((step) => step.kind);

describe('SessionRecorder', () => {
  test('the greeting is the first step, and each command with its reply is one step', () => {
    const { recorder, afters } = session(['EHLO test.com', 'RCPT TO:<nobody@example.test>', 'QUIT'], [reply(250), reply(550, '5.1.1 no', '5.1.1'), reply(221)]);
    assert.deepEqual(kinds(recorder.steps), ['greeting', 'send', 'send', 'send']);
    assert.deepEqual(recorder.steps[2], { kind: 'send', line: 'RCPT TO:<nobody@example.test>', reply: reply(550, '5.1.1 no', '5.1.1') });
    assert.deepEqual(afters, ['continue', 'continue', 'quit']);
  });

  test('empty lines are ignored and recorder commands are never sent', () => {
    const recorder = new SessionRecorder();
    assert.deepEqual(recorder.typed('   '), { type: 'ignore' });
    assert.deepEqual(recorder.typed('.save'), { type: 'recorder', command: '.save' });
    assert.deepEqual(recorder.typed(' .help '), { type: 'recorder', command: '.help' });
  });

  test('after a 354 the lines up to a lone dot are one data step, un-stuffed, sent as typed', () => {
    const { recorder, sent } = session(['DATA', 'Subject: x', '', '..dot', '.', 'NOOP'], [reply(354), reply(250, '2.0.0 ok', '2.0.0'), reply(250)]);
    assert.deepEqual(sent, ['DATA', 'Subject: x', '', '..dot', '.', 'NOOP']);
    assert.deepEqual(kinds(recorder.steps), ['greeting', 'send', 'data', 'send']);
    const data = recorder.steps[2] as Extract<RecordedStep, { kind: 'data' }>;
    assert.deepEqual(data.lines, ['Subject: x', '', '.dot']);
    assert.equal(data.reply.enhanced, '2.0.0');
  });

  test('a DATA refused with 503 does not start a message', () => {
    const { recorder } = session(['DATA', 'NOOP'], [reply(503), reply(250)]);
    assert.deepEqual(kinds(recorder.steps), ['greeting', 'send', 'send']);
    assert.equal(recorder.inMessage, false);
  });

  test('STARTTLS answered 220 asks for the upgrade; 454 does not', () => {
    assert.deepEqual(session(['STARTTLS'], [reply(220)]).afters, ['starttls']);
    const refused = session(['starttls'], [reply(454)]);
    assert.deepEqual(refused.afters, ['continue']);
    assert.deepEqual(kinds(refused.recorder.steps), ['greeting', 'starttls']);
  });

  test('AUTH PLAIN with an initial response is one auth step, its secret masked', () => {
    const { recorder, shown } = session(['AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ='], [reply(235)]);
    assert.deepEqual(shown, ['AUTH PLAIN ****']);
    assert.deepEqual(recorder.steps[1], { kind: 'auth', mechanism: 'PLAIN', initialResponse: true, cancel: false, reply: reply(235) });
  });

  test('AUTH LOGIN: the lines after each 334 are secrets and the exchange is one step', () => {
    const recorder = new SessionRecorder();
    recorder.greeting(reply(220));
    recorder.typed('AUTH LOGIN');
    recorder.replied(reply(334, 'VXNlcm5hbWU6'));
    assert.equal(recorder.secretNext, true);
    const user = recorder.typed('YWxpY2U=');
    const credential = { mechanism: 'LOGIN', response: 'YWxpY2U=', index: 0 };
    assert.deepEqual(user, { type: 'send', line: 'YWxpY2U=', shown: '****', awaitReply: true, credential });
    recorder.replied(reply(334, 'UGFzc3dvcmQ6'));
    const password = recorder.typed('d29uZGVybGFuZA==');
    assert.deepEqual(password.type === 'send' ? password.credential : undefined, { mechanism: 'LOGIN', response: 'd29uZGVybGFuZA==', index: 1 });
    recorder.replied(reply(535, '5.7.8 no', '5.7.8'));
    assert.equal(recorder.secretNext, false);
    assert.deepEqual(recorder.steps[1], { kind: 'auth', mechanism: 'LOGIN', initialResponse: false, cancel: false, reply: reply(535, '5.7.8 no', '5.7.8') });
  });

  test('a "*" answering the first challenge records a cancelled exchange', () => {
    const { recorder, shown } = session(['AUTH PLAIN', '*'], [reply(334, ''), reply(501)]);
    assert.deepEqual(shown, ['AUTH PLAIN', '*']);
    assert.deepEqual(recorder.steps[1], { kind: 'auth', mechanism: 'PLAIN', initialResponse: false, cancel: true, reply: reply(501) });
  });

  test('an AUTH mechanism replay cannot do is performed with a note, and not recorded', () => {
    const recorder = new SessionRecorder();
    const typed = recorder.typed('AUTH GSSAPI');
    assert.equal(typed.type === 'send' && typed.note !== undefined, true);
    recorder.replied(reply(504));
    assert.deepEqual(kinds(recorder.steps), []);
  });

  test('input ending inside a message drops the unfinished message', () => {
    const { recorder } = session(['DATA', 'one', 'two'], [reply(354)]);
    assert.equal(recorder.dropUnfinished(), 2);
    assert.equal(recorder.inMessage, false);
    assert.deepEqual(kinds(recorder.steps), ['greeting', 'send']);
  });
});

describe('line helpers', () => {
  test('unstuff removes one leading dot', () => {
    assert.equal(unstuff('..x'), '.x');
    assert.equal(unstuff('.x'), 'x');
    assert.equal(unstuff('x.'), 'x.');
  });

  test('isAuthWithSecret spots an initial response', () => {
    assert.equal(isAuthWithSecret('auth plain AGFs'), true);
    assert.equal(isAuthWithSecret('AUTH LOGIN'), false);
    assert.equal(isAuthWithSecret('EHLO x'), false);
  });
});
