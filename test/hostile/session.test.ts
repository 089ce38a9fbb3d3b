import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertWaitedFor, GENEROUS, PROMPTLY_MS } from '../helpers/deadlines.js';
import { fakeServer, type FakeSession } from '../helpers/fake-server.js';
import type { TestServer } from '../helpers/test-server.js';
import { assertCause, assertWithin, at, healthyServer, oneCase, rssGuard, runThenHealthy } from './fixtures/harness.js';

/** Servers that break the session after it started: 421s, replies nobody asked for, silence after the dot, a stalled reader. */

let healthy: TestServer;
before(async () => {
  healthy = await healthyServer();
});
after(() => healthy.close());

/** Answers each command with the next reply of `replies` (taken in order), then stays silent. */
async function answer(s: FakeSession, greeting: string, replies: string[]): Promise<void> {
  await s.write(greeting);
  for (const reply of replies) {
    if ((await s.nextLine()) === undefined) return;
    await s.write(reply);
  }
}

const ENVELOPE = `
- expect: 220
- send: EHLO client.test
  expect: 250
- send: MAIL FROM:<a@example.test>
  expect: 250
`;

describe('421 in the middle of a session', () => {
  test('as the answer to a command, then a close: the step shows the 421, and no QUIT follows', async (t) => {
    const fake = await fakeServer(async (s) => {
      await answer(s, '220 fake.test ESMTP\r\n', ['250 fake.test\r\n', '421 4.3.2 fake.test shutting down\r\n']);
      s.end();
    });
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), `${ENVELOPE}\n- send: QUIT\n  expect: 221`), healthy);
    assertCause(run.cases[0]!, {
      status: 'failed',
      kind: 'expectation',
      message: /^step 3 \(send: MAIL FROM:<a@example\.test>\): expected 250, got 421 4\.3\.2 fake\.test shutting down$/,
    });
    assert.deepEqual(fake.received, ['EHLO client.test', 'MAIL FROM:<a@example.test>']);
  });

  test('unasked, before the next command, then a close: reported as a reply nobody asked for', async (t) => {
    const fake = await fakeServer(async (s) => {
      await answer(s, '220 fake.test ESMTP\r\n', ['250 fake.test\r\n421 4.4.2 fake.test idle for too long\r\n']);
      s.end();
    });
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), ENVELOPE), healthy);
    assertCause(run.cases[0]!, {
      status: 'failed',
      kind: 'protocol',
      message: /^step 3 \(send: MAIL FROM:<a@example\.test>\): the server sent a reply nobody asked for before "MAIL FROM:<a@example\.test>": 421 4\.4\.2 fake\.test idle for too long$/,
    });
    assert.deepEqual(fake.received, ['EHLO client.test'], 'the MAIL FROM was never sent');
  });
});

describe('replies nobody asked for', () => {
  const afterEhlo = (action: string, i: number) => `  - name: action ${i + 1}
    steps:
      - expect: 220
      - send: EHLO client.test
        expect: 250
      - ${action.split('\n').join('\n      ')}`;
  const actions: [string, string][] = [
    ['send: NOOP', '"NOOP"'],
    ['pipeline:\n  - send: MAIL FROM:<a@example.test>\n    expect: 250\n  - send: RCPT TO:<b@example.test>\n    expect: 250', '"MAIL FROM:<a@example.test>"'],
    ['auth: { mechanism: PLAIN, username: alice, password: wonderland }', '"AUTH PLAIN"'],
    ['starttls: true', '"STARTTLS"'],
    ['data: "Subject: hi\\n\\nhello\\n"\n  expect: 250', 'the message'],
    ['data: "Subject: hi\\n\\nhello\\n"\n  bdat: 4096\n  expect: 250', '"BDAT 22 LAST"'],
    ["raw: 'NOOP\\r\\n'\n  expect: 250", 'the raw bytes'],
  ];

  test('a second reply to EHLO is never taken for the answer to the next command, whatever it is', async (t) => {
    const fake = await fakeServer((s) => answer(s, '220 fake.test ESMTP\r\n', ['250 fake.test\r\n250 extra\r\n']));
    t.after(() => fake.close());
    const yaml = `target: ${at(fake)}\ntimeout: ${GENEROUS}\ncases:\n${actions.map(([action], i) => afterEhlo(action, i)).join('\n')}\n`;
    const run = await runThenHealthy(yaml, healthy);
    run.cases.forEach((result, i) => {
      const before = actions[i]![1].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      assertCause(result, {
        status: 'failed',
        kind: 'protocol',
        message: new RegExp(`^step 3 \\(.*\\): the server sent a reply nobody asked for before ${before}: 250 extra$`),
      });
    });
    assert.deepEqual(fake.received, actions.map(() => 'EHLO client.test'), 'nothing was sent after an unasked reply');
  });

  test('several unasked replies are counted; a broken one is named', async (t) => {
    const fake = await fakeServer((s) => answer(s, '220 fake.test ESMTP\r\n220 fake.test again\r\n250 and again\r\n', []));
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), '- expect: 220\n- send: EHLO client.test'), healthy);
    assertCause(run.cases[0]!, {
      status: 'failed',
      kind: 'protocol',
      message: /^step 2 \(send: EHLO client\.test\): the server sent a reply nobody asked for before "EHLO client\.test": 220 fake\.test again \(and 1 more reply\)$/,
    });
  });
});

describe('after the final dot', () => {
  // The file's deadline, 300 ms, is for the message: the wait for its reply, and for its bytes to go out.
  // The steps before it have one of their own that they do not mean to reach.
  const patient = `\n  timeout: ${GENEROUS}`;
  const transaction = `
- expect: 220${patient}
- send: EHLO client.test
  expect: 250${patient}
- send: MAIL FROM:<a@example.test>
  expect: 250${patient}
- send: RCPT TO:<b@example.test>
  expect: 250${patient}
- send: DATA
  expect: 354${patient}
- data: { file: FILE }
  expect: 250
- send: QUIT
  expect: 221`;
  const replies = ['250 fake.test\r\n', '250 ok\r\n', '250 ok\r\n', '354 go ahead\r\n'];

  test('no answer to the final dot: a timeout that says so', async (t) => {
    const fake = await fakeServer(async (s) => {
      await answer(s, '220 fake.test ESMTP\r\n', replies);
      while ((await s.nextLine()) !== '.') continue;
    });
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), transaction.replace('{ file: FILE }', '"Subject: hi\\n\\nhello\\n"'), '300ms'), healthy);
    assertCause(run.cases[0]!, {
      status: 'error',
      kind: 'timeout',
      message: /^step 6 \(data \(3 lines\)\): no reply within 300 ms \(waiting for the reply after the final dot of the message\)$/,
    });
    assertWaitedFor(run.cases[0]!.steps[5]!.durationMs, 300, 'the message step');
    // The reply deadline, then the case's QUIT with the closing deadline (no longer than the file's), then the close.
    assertWithin(run.elapsedMs, PROMPTLY_MS);
  });

  test('a server that stops reading the message: the write deadline ends the session', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-hostile-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'big.eml');
    const block = Buffer.from(`${'x'.repeat(998)}\r\n`.repeat(1024), 'latin1');
    await appendFile(file, 'Subject: big\r\n\r\n');
    for (let i = 0; i < 64; i++) await appendFile(file, block);
    const memory = rssGuard();
    const fake = await fakeServer(async (s) => {
      await answer(s, '220 fake.test ESMTP\r\n', replies);
      s.socket.pause();
    });
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), transaction.replace('FILE', JSON.stringify(file)), '300ms'), healthy);
    assertCause(run.cases[0]!, {
      status: 'error',
      kind: 'timeout',
      message: /^step 6 \(data from .*big\.eml\): the server stopped reading: no data could be sent for 300 ms$/,
    });
    assertWithin(run.elapsedMs, PROMPTLY_MS);
    memory.check();
  });
});
