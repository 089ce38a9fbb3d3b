import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
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

describe('the greeting', () => {
  test('no greeting at all: a timeout naming the greeting, and nothing sent', async (t) => {
    const fake = await fakeServer(() => {});
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), GREETING_THEN_EHLO), healthy);
    const [result] = run.cases;
    assertCause(result!, { status: 'error', kind: 'timeout', message: /^step 1 \(greeting\): no reply within 300 ms \(waiting for the greeting\)$/ });
    assert.equal(fake.receivedBytes().length, 0);
    assertWithin(result!.steps[0]!.durationMs, 300 + 150, 'the greeting step');
    assertWithin(run.elapsedMs, 300 + 300 + 1000);
  });

  test('no greeting when the first step sends: the session does not start, and the command is not sent', async (t) => {
    const fake = await fakeServer(() => {});
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), '- send: EHLO client.test\n  expect: 250'), healthy);
    assertCause(run.cases[0]!, {
      status: 'error',
      kind: 'timeout',
      message: /^step 1 \(send: EHLO client\.test\): cannot start the session: no reply within 300 ms \(waiting for the greeting\)$/,
    });
    assert.equal(fake.receivedBytes().length, 0);
    assertWithin(run.elapsedMs, 300 + 1000);
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
    assertWithin(run.elapsedMs, 1000);
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
    const run = await runThenHealthy(oneCase(at(fake), GREETING_THEN_EHLO), healthy);
    const [result] = run.cases;
    assertCause(result!, {
      status: 'error',
      kind: 'timeout',
      message: /^step 1 \(greeting\): no complete reply within 300 ms \(got part of a line so far\) \(waiting for the greeting\)$/,
    });
    assertWithin(result!.steps[0]!.durationMs, 300 + 150, 'the greeting step');
    assertWithin(run.elapsedMs, 300 + 300 + 1000);
  });

  test('complete lines that never end the reply do not keep it alive either', async (t) => {
    const fake = await fakeServer(async (s) => {
      for (let i = 0; i < 100 && !s.socket.destroyed; i++) await s.writeSlowly(`220-line ${i}\r\n`, 5);
    });
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), GREETING_THEN_EHLO), healthy);
    const [result] = run.cases;
    assertCause(result!, {
      status: 'error',
      kind: 'timeout',
      message: /^step 1 \(greeting\): no complete reply within 300 ms \(got \d+ lines so far\) \(waiting for the greeting\)$/,
    });
    assertWithin(run.elapsedMs, 300 + 300 + 1000);
  });
});

describe('421 at the start', () => {
  const busy = () =>
    fakeServer(async (s) => {
      await s.write('421 4.3.2 fake.test too busy, try later\r\n');
      s.end();
    });

  test('checked by the greeting step: an expectation failure showing the 421', async (t) => {
    const fake = await busy();
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), GREETING_THEN_EHLO), healthy);
    assertCause(run.cases[0]!, {
      status: 'failed',
      kind: 'expectation',
      message: /^step 1 \(greeting\): expected 220, got 421 4\.3\.2 fake\.test too busy, try later$/,
    });
    assert.deepEqual(fake.received, [], 'no QUIT to a server that has closed');
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
