import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { assertWaitedFor, PROMPTLY_MS } from '../helpers/deadlines.js';
import { fakeServer } from '../helpers/fake-server.js';
import type { TestServer } from '../helpers/test-server.js';
import { assertCause, assertWithin, at, healthyServer, oneCase, runThenHealthy, transcriptLines } from './fixtures/harness.js';

/** Servers that fail at the very start: no greeting, a greeting and a close, a greeting that never ends, a 421. */

let healthy: TestServer;
before(async () => {
  healthy = await healthyServer();
});
after(() => healthy.close());

const GREETING_THEN_EHLO = `
- expect: 220
- send: EHLO client.test
  expect: 250
- send: QUIT
  expect: 221
`;

/** The same steps, with a deadline of 300 ms for the greeting (the file's is one no step means to reach). */
const SHORT_GREETING_THEN_EHLO = GREETING_THEN_EHLO.replace('- expect: 220\n', '- expect: 220\n  timeout: 300ms\n');

describe('the greeting', () => {
  test('no greeting at all: a timeout naming the greeting, and nothing sent', async (t) => {
    const fake = await fakeServer(() => {});
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), SHORT_GREETING_THEN_EHLO), healthy);
    const [result] = run.cases;
    assertCause(result!, { status: 'error', kind: 'timeout', message: /^step 1 \(greeting\): no reply within 300 ms \(waiting for the greeting\)$/ });
    assert.equal(fake.receivedBytes().length, 0);
    assertWaitedFor(result!.steps[0]!.durationMs, 300, 'the greeting step');
    assertWithin(run.elapsedMs, PROMPTLY_MS);
  });

  test('no greeting when the first step sends: the session does not start, and the command is not sent', async (t) => {
    const fake = await fakeServer(() => {});
    t.after(() => fake.close());
    // The greeting read before a first step that sends has the file's deadline.
    const run = await runThenHealthy(oneCase(at(fake), '- send: EHLO client.test\n  expect: 250', '300ms'), healthy);
    assertCause(run.cases[0]!, {
      status: 'error',
      kind: 'timeout',
      message: /^step 1 \(send: EHLO client\.test\): cannot start the session: no reply within 300 ms \(waiting for the greeting\)$/,
    });
    assert.equal(fake.receivedBytes().length, 0);
    assertWaitedFor(run.cases[0]!.durationMs, 300, 'the case');
    assertWithin(run.elapsedMs, PROMPTLY_MS);
  });

  test('a greeting, then an immediate close: the next step names the close', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 fake.test ESMTP\r\n');
      s.end();
    });
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), GREETING_THEN_EHLO), healthy);
    const [result] = run.cases;
    assertCause(result!, { status: 'error', kind: 'closed', message: /^step 2 \(send: EHLO client\.test\): server closed the connection$/ });
    assert.deepEqual(
      result!.steps.map((s) => s.status),
      ['passed', 'error', 'skipped'],
    );
    assertWithin(run.elapsedMs, PROMPTLY_MS, 'the run (no step waited for its deadline)');
  });

  test('a close in the middle of a multiline greeting says how many lines came', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('220-fake.test ESMTP\r\n220-second line\r\n');
      s.end();
    });
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), GREETING_THEN_EHLO), healthy);
    const [result] = run.cases;
    assertCause(result!, { status: 'error', kind: 'closed', message: /^step 1 \(greeting\): server closed the connection mid-reply after 2 lines$/ });
    const lines = transcriptLines(result!);
    assert.ok(lines.includes('S: 220-second line'), 'the lines that came are in the transcript');
  });

  test('a close in the middle of a multiline EHLO reply', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 fake.test ESMTP\r\n');
      await s.nextLine();
      await s.write('250-fake.test\r\n250-PIPELINING\r\n250-SIZE 100');
      s.end();
    });
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), GREETING_THEN_EHLO), healthy);
    assertCause(run.cases[0]!, {
      status: 'error',
      kind: 'closed',
      message: /^step 2 \(send: EHLO client\.test\): server closed the connection mid-reply after 2 lines$/,
    });
  });
});

describe('a greeting that never ends', () => {
  test('one byte per second: the deadline is for the whole reply, so the case fails near it', async (t) => {
    const fake = await fakeServer((s) => s.writeSlowly(`220 ${'x'.repeat(100)}\r\n`, 1000));
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), SHORT_GREETING_THEN_EHLO), healthy);
    const [result] = run.cases;
    assertCause(result!, {
      status: 'error',
      kind: 'timeout',
      message: /^step 1 \(greeting\): no complete reply within 300 ms \(got part of a line so far\) \(waiting for the greeting\)$/,
    });
    assertWaitedFor(result!.steps[0]!.durationMs, 300, 'the greeting step');
    assertWithin(run.elapsedMs, PROMPTLY_MS, 'the run (the greeting would take 100 s)');
  });

  test('complete lines that never end the reply do not keep it alive either', async (t) => {
    // A line every 50 ms, far more often than the 300 ms deadline; the whole reply would take 5 s.
    const LINES = 100;
    const fake = await fakeServer(async (s) => {
      for (let i = 0; i < LINES && !s.socket.destroyed; i++) {
        await s.write(`220-line ${i}\r\n`);
        await delay(50);
      }
    });
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), SHORT_GREETING_THEN_EHLO), healthy);
    const [result] = run.cases;
    assertCause(result!, {
      status: 'error',
      kind: 'timeout',
      message: /^step 1 \(greeting\): no complete reply within 300 ms \(got \d+ lines? so far\) \(waiting for the greeting\)$/,
    });
    // Were the deadline renewed by each line, the client would have read them all before giving up.
    const got = Number(/got (\d+) line/.exec(result!.failure!.message)![1]);
    assert.ok(got >= 1 && got < LINES, `the case read ${got} of the ${LINES} lines before it gave up`);
    assertWaitedFor(result!.steps[0]!.durationMs, 300, 'the greeting step');
  });
});

describe('421 at the start', () => {
  const busy = () =>
    fakeServer(async (s) => {
      await s.write('421 4.3.2 fake.test too busy, try later\r\n');
      s.end();
    });

  test('checked by the greeting step: the session did not start, an error showing the 421 as the step\'s reply', async (t) => {
    const fake = await busy();
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), GREETING_THEN_EHLO), healthy);
    assertCause(run.cases[0]!, {
      status: 'error',
      kind: 'closed',
      message: /^step 1 \(greeting\): the server greeted with 421 4\.3\.2 fake\.test too busy, try later: it is not taking sessions now$/,
    });
    const [greeting] = run.cases[0]!.steps;
    assert.equal(greeting!.status, 'error');
    assert.equal(greeting!.expected, '220');
    assert.deepEqual(greeting!.reply, { code: 421, enhanced: '4.3.2', lines: ['4.3.2 fake.test too busy, try later'] });
    assert.deepEqual(fake.received, [], 'no QUIT to a server that has closed');
  });

  test('expected by the greeting step: the step passes', async (t) => {
    const fake = await busy();
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), '- expect: 421\n  text: /too busy/'), healthy);
    assert.equal(run.cases[0]!.status, 'passed', run.cases[0]!.failure?.message);
  });

  test('read before a first step that sends: the session does not start, and nothing is sent', async (t) => {
    const fake = await busy();
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), '- send: EHLO client.test\n  expect: 250\n- send: QUIT'), healthy);
    assertCause(run.cases[0]!, {
      status: 'error',
      kind: 'closed',
      message: /^step 1 \(send: EHLO client\.test\): cannot start the session: the server greeted with 421 4\.3\.2 fake\.test too busy, try later: it is not taking sessions now$/,
    });
    assert.equal(fake.receivedBytes().length, 0);
  });
});
