import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCase } from '../../src/engine/run-case.js';
import { parseScenario } from '../../src/scenario/load.js';
import { DEFAULT_MAX_TRANSCRIPT_ENTRIES } from '../../src/smtp/transcript.js';
import { GENEROUS, PROMPTLY_MS } from '../helpers/deadlines.js';
import { fakeServer, type FakeScript } from '../helpers/fake-server.js';
import type { TestServer } from '../helpers/test-server.js';
import { flood, replyLines } from './fixtures/flood.js';
import { assertCause, assertWithin, at, healthyServer, oneCase, rssGuard, runThenHealthy, transcriptLines } from './fixtures/harness.js';

/** Replies that are too long, too many, not replies at all, or end their lines oddly. */

let healthy: TestServer;
before(async () => {
  healthy = await healthyServer();
});
after(() => healthy.close());

const MB = 1024 * 1024;
const EHLO_THEN_QUIT = `
- expect: 220
- send: EHLO client.test
  expect: 250
- send: QUIT
  expect: 221
`;

/** A fake server that greets, reads the EHLO, then runs `then`. */
function afterEhlo(then: FakeScript): FakeScript {
  return async (s) => {
    await s.write('220 fake.test ESMTP\r\n');
    await s.nextLine();
    await then(s);
  };
}

describe('floods', () => {
  test('a 20 MB reply line without CRLF fails at the line limit, and the rest is never read', async (t) => {
    const memory = rssGuard();
    let written: Promise<number> | undefined;
    const fake = await fakeServer(async (s) => {
      await s.write('220 ');
      written = flood(s.socket, Buffer.alloc(64 * 1024, 'a'), 20 * MB);
      await written;
    });
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), EHLO_THEN_QUIT), healthy);
    const [result] = run.cases;
    assertCause(result!, { status: 'failed', kind: 'limit', message: /^step 1 \(greeting\): reply line longer than 8192 bytes$/ });
    assertWithin(run.elapsedMs, PROMPTLY_MS, `the run (the deadline is ${GENEROUS})`);
    const sent = await written!;
    assert.ok(sent < 20 * MB, `the server could write only ${sent} bytes: the client stopped reading`);
    assert.ok(result!.transcript.length < 10 && !transcriptLines(result!).some((line) => line.includes('aaaa')), 'the transcript holds no part of the line');
    memory.check();
  });

  test('the line limit is an option of runCase', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write(`220 ${'b'.repeat(2000)}\r\n`);
      if ((await s.nextLine()) === undefined) return;
      await s.write('250 fake.test\r\n');
      await s.nextLine();
      await s.write('221 bye\r\n');
    });
    t.after(() => fake.close());
    const scenario = parseScenario(oneCase(at(fake), EHLO_THEN_QUIT), 'hostile.yaml', { env: {} });
    const result = await runCase(scenario, scenario.cases[0]!, scenario.target!, { limits: { maxLineBytes: 1024 } });
    assertCause(result, { status: 'failed', kind: 'limit', message: /^step 1 \(greeting\): reply line longer than 1024 bytes$/ });
    const defaults = await runCase(scenario, scenario.cases[0]!, scenario.target!);
    assert.equal(defaults.status, 'passed', 'the default limit, 8192 bytes, takes a 2000-byte line');
  });

  test('a 100,000-line EHLO reply fails at 1000 lines with bounded memory and a capped transcript', async (t) => {
    const memory = rssGuard();
    const fake = await fakeServer(
      afterEhlo(async (s) => {
        const lines = replyLines(100_000, 'EXTENSION-WITH-A-LONGISH-NAME');
        await flood(s.socket, lines, lines.length);
      }),
    );
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), EHLO_THEN_QUIT), healthy);
    const [result] = run.cases;
    assertCause(result!, { status: 'failed', kind: 'limit', message: /^step 2 \(send: EHLO client\.test\): reply has more than 1000 lines$/ });
    assertWithin(run.elapsedMs, PROMPTLY_MS, `the run (the deadline is ${GENEROUS})`);
    assert.ok(result!.transcript.length <= DEFAULT_MAX_TRANSCRIPT_ENTRIES + 1, `${result!.transcript.length} transcript entries`);
    assert.ok(result!.transcript.length >= 1000, 'the lines that came are in the transcript');
    memory.check();
  });

  test('an endless stream of replies nobody asked for ends the session instead of filling memory', async (t) => {
    const memory = rssGuard();
    const fake = await fakeServer(
      afterEhlo(async (s) => {
        // The answer to EHLO and the first thousands of unasked replies arrive in one chunk.
        const replies = Buffer.from('250 ok\r\n'.repeat(8192), 'latin1');
        await flood(s.socket, replies, 50 * MB);
      }),
    );
    t.after(() => fake.close());
    const steps = '- expect: 220\n- send: EHLO client.test\n  expect: 250\n- send: MAIL FROM:<a@example.test>\n  expect: 250';
    const run = await runThenHealthy(oneCase(at(fake), steps), healthy);
    const [result] = run.cases;
    assertCause(result!, {
      status: 'failed',
      kind: 'limit',
      message: /^step 3 \(send: MAIL FROM:<a@example\.test>\): server sent more than 1000 replies that nobody read$/,
    });
    assertWithin(run.elapsedMs, PROMPTLY_MS, `the run (the deadline is ${GENEROUS})`);
    assert.ok(result!.transcript.length <= DEFAULT_MAX_TRANSCRIPT_ENTRIES + 1, `${result!.transcript.length} transcript entries`);
    assert.deepEqual(fake.received, ['EHLO client.test'], 'the MAIL FROM was never sent');
    memory.check();
  });
});

describe('bytes that are not replies', () => {
  test('binary garbage fails at once as a protocol error, not at the deadline', async (t) => {
    const garbage = Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x00, 0xff, 0x1b, 0x5b, 0x32, 0x4a]);
    const fake = await fakeServer(async (s) => {
      await s.write(garbage);
    });
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), EHLO_THEN_QUIT), healthy);
    const [result] = run.cases;
    assertCause(result!, { status: 'failed', kind: 'protocol', message: /^step 1 \(greeting\): server sent a line that is not an SMTP reply: "\\u0016\\u0003/ });
    assertWithin(result!.durationMs, PROMPTLY_MS, `the case (the deadline is ${GENEROUS})`);
  });

  test('a complete garbage line in the middle of a session', async (t) => {
    const fake = await fakeServer(afterEhlo((s) => s.write('HTTP/1.1 400 Bad Request\r\n\r\n')));
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), EHLO_THEN_QUIT), healthy);
    assertCause(run.cases[0]!, {
      status: 'failed',
      kind: 'protocol',
      message: /^step 2 \(send: EHLO client\.test\): server sent a line that is not an SMTP reply: "HTTP\/1\.1 400 Bad Request"$/,
    });
    assert.deepEqual(fake.received, ['EHLO client.test'], 'no QUIT after the stream broke');
  });

  test('a multiline reply whose codes disagree is a protocol error', async (t) => {
    const fake = await fakeServer(afterEhlo((s) => s.write('250-fake.test\r\n550-PIPELINING\r\n250 SIZE\r\n')));
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), '- expect: 220\n- send: EHLO client.test\n  expect: 250'), healthy);
    assertCause(run.cases[0]!, {
      status: 'failed',
      kind: 'protocol',
      message: /^step 2 \(send: EHLO client\.test\): multiline reply mixes codes 250 and 550$/,
    });
  });

  test('replies ending in a bare LF are accepted, with a warning in the transcript', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 fake.test ESMTP\n');
      await s.nextLine();
      await s.write('250-fake.test\n250 PIPELINING\n');
      await s.nextLine();
      await s.write('221 bye\n');
      s.end();
    });
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), EHLO_THEN_QUIT), healthy);
    const [result] = run.cases;
    assert.equal(result!.status, 'passed', result!.failure?.message);
    const warnings = transcriptLines(result!).filter((line) => line === '*: warning: reply line ended with a bare LF');
    assert.equal(warnings.length, 3, 'one warning per reply');
  });
});
