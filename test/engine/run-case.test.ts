import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCase } from '../../src/engine/run-case.js';
import { parseScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/types.js';
import { startEmbeddedServer, type EmbeddedServer } from '../../src/server/embedded.js';
import { assertWaitedFor, PROMPTLY_MS } from '../helpers/deadlines.js';
import { fakeServer } from '../helpers/fake-server.js';
import { freePort } from '../helpers/free-port.js';

/** Parses a scenario written inline; cases run against whatever target the test passes. */
function scenario(yaml: string, env: Record<string, string> = {}): Scenario {
  return parseScenario(yaml, 'inline.yaml', { env });
}

async function run(yaml: string, port: number, caseIndex = 0) {
  const s = scenario(yaml);
  return runCase(s, s.cases[caseIndex]!, { host: '127.0.0.1', port });
}

describe('runCase against the embedded server', () => {
  let server: EmbeddedServer;
  before(async () => {
    server = await startEmbeddedServer();
  });
  after(() => server.close());

  test('the classic conversation passes and the message arrives intact', async () => {
    const result = await run(
      `
cases:
  - name: classic
    steps:
      - expect: 220
        text: /ESMTP/
      - send: EHLO test.com
        expect: 250
      - send: MAIL FROM:<tester@test.com>
        expect: 250
      - send: RCPT TO:<user@example.test> NOTIFY=SUCCESS,FAILURE
        expect: [250, 251]
      - send: DATA
        expect: 354
      - data: |
          Subject: hello

          .leading dot
        expect: 250
      - send: QUIT
        expect: 221
`,
      server.port,
    );
    assert.equal(result.status, 'passed', JSON.stringify(result.failure));
    assert.deepEqual(
      result.steps.map((s) => s.status),
      ['passed', 'passed', 'passed', 'passed', 'passed', 'passed', 'passed'],
    );
    const message = server.messages.at(-1)!;
    assert.equal(message.subject, 'hello');
    assert.deepEqual(message.to, ['user@example.test']);
    assert.equal(message.body, 'Subject: hello\r\n\r\n.leading dot\r\n');
    assert.ok(result.transcript.some((e) => e.dir === 'C' && e.text === 'EHLO test.com'));
    assert.ok(result.transcript.some((e) => e.dir === 'S' && e.text.startsWith('221')));
  });

  test('a refused recipient fails its step; later steps are skipped; the written QUIT closes politely', async () => {
    const result = await run(
      `
cases:
  - name: refused
    steps:
      - expect: 220
      - send: EHLO test.com
        expect: 250
      - send: MAIL FROM:<tester@test.com>
        expect: 250
      - send: RCPT TO:<nobody@example.test>
        expect: 250
      - send: DATA
        expect: 354
      - send: QUIT
        expect: 221
`,
      server.port,
    );
    assert.equal(result.status, 'failed');
    assert.deepEqual(
      result.steps.map((s) => s.status),
      ['passed', 'passed', 'passed', 'failed', 'skipped', 'skipped'],
    );
    const failed = result.steps[3]!;
    assert.equal(failed.reply?.code, 550);
    assert.equal(failed.reply?.enhanced, '5.1.1');
    assert.equal(result.failure?.kind, 'expectation');
    assert.equal(result.failure?.stepIndex, 3);
    assert.deepEqual(result.failure?.pos, failed.pos);
    assert.match(result.failure!.message, /^step 4 \(send: RCPT TO:<nobody@example.test>\): expected 250, got 550 5\.1\.1/);
    const sent = result.transcript.filter((e) => e.dir === 'C').map((e) => e.text);
    assert.deepEqual(sent.slice(-2), ['RCPT TO:<nobody@example.test>', 'QUIT'], 'DATA is skipped, QUIT is sent');
  });

  test('an unknown command is refused and the expectation holds', async () => {
    const result = await run(
      `
cases:
  - name: unknown
    steps:
      - expect: 220
      - send: FOO
        expect: [500, 502]
`,
      server.port,
    );
    assert.equal(result.status, 'passed');
    assert.equal(result.steps[1]!.reply?.code, 500);
  });
});

describe('runCase against scripted servers', () => {
  test('a multiline greeting is one reply', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('220-mx.test first line\r\n220-second line\r\n220 ESMTP ready\r\n');
      await s.nextLine();
      await s.write('221 bye\r\n');
    });
    t.after(() => fake.close());
    const result = await run(
      `
cases:
  - name: greeting
    steps:
      - expect: 220
        text: /second line/
      - send: QUIT
        expect: 221
`,
      fake.port,
    );
    assert.equal(result.status, 'passed', JSON.stringify(result.failure));
    assert.deepEqual(result.steps[0]!.reply?.lines, ['mx.test first line', 'second line', 'ESMTP ready']);
  });

  test('a multiline reply whose codes disagree fails the step as a protocol error', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 hi\r\n');
      await s.nextLine();
      await s.write('250-mx.test\r\n550 no\r\n');
    });
    t.after(() => fake.close());
    const result = await run(
      `
cases:
  - name: mixed
    steps:
      - expect: 220
      - send: EHLO me
        expect: 250
`,
      fake.port,
    );
    assert.equal(result.status, 'failed');
    assert.equal(result.failure?.kind, 'protocol');
    assert.match(result.failure!.message, /step 2 \(send: EHLO me\): .*250 and 550/);
  });

  test('a server that closes early ends the case with the cause', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 hi\r\n');
      await s.nextLine();
      s.end();
    });
    t.after(() => fake.close());
    const result = await run(
      `
cases:
  - name: closes
    steps:
      - expect: 220
      - send: EHLO me
        expect: 250
      - send: QUIT
        expect: 221
`,
      fake.port,
    );
    assert.equal(result.status, 'error');
    assert.equal(result.failure?.kind, 'closed');
    assert.match(result.failure!.message, /closed the connection/);
    assert.deepEqual(
      result.steps.map((s) => s.status),
      ['passed', 'error', 'skipped'],
    );
  });

  test('a server that never answers times out with a message naming what was awaited', async (t) => {
    const fake = await fakeServer(() => {});
    t.after(() => fake.close());
    const started = performance.now();
    const result = await run(
      `
timeout: 200ms
cases:
  - name: silent
    steps:
      - expect: 220
      - send: QUIT
`,
      fake.port,
    );
    const elapsedMs = performance.now() - started;
    assertWaitedFor(elapsedMs, 200, 'the case');
    assert.ok(elapsedMs < PROMPTLY_MS, `gave up after ${Math.round(elapsedMs)} ms, not near the deadline`);
    assert.equal(result.status, 'error');
    assert.equal(result.failure?.kind, 'timeout');
    assert.match(result.failure!.message, /^step 1 \(greeting\): no reply within 200 ms \(waiting for the greeting\)$/);
    assert.deepEqual(fake.received, [], 'nothing was sent: QUIT is not sent before a greeting');
  });

  test('a per-step timeout overrides the file default', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 hi\r\n');
    });
    t.after(() => fake.close());
    const result = await run(
      `
timeout: 30s
cases:
  - name: slow
    steps:
      - expect: 220
      - send: NOOP
        timeout: 150ms
        expect: 250
`,
      fake.port,
    );
    assert.equal(result.status, 'error');
    assert.match(result.failure!.message, /no reply within 150 ms \(waiting for the reply to "NOOP"\)/);
  });

  test('connection refused fails the case with that cause', async () => {
    const port = await freePort();
    const result = await run(
      `
cases:
  - name: refused
    steps:
      - expect: 220
      - send: QUIT
`,
      port,
    );
    assert.equal(result.status, 'error');
    assert.equal(result.failure?.kind, 'refused');
    assert.match(result.failure!.message, /connection refused/);
    assert.deepEqual(
      result.steps.map((s) => s.status),
      ['error', 'skipped'],
    );
  });

  test('nothing is sent before the greeting, even when the first step sends', async (t) => {
    let earlyBytes = -1;
    const fake = await fakeServer(async (s) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      earlyBytes = fake.receivedBytes().length;
      await s.write('220 hi\r\n');
      await s.nextLine();
      await s.write('250 ok\r\n');
    });
    t.after(() => fake.close());
    const result = await run(
      `
cases:
  - name: eager
    steps:
      - send: NOOP
        expect: 250
`,
      fake.port,
    );
    assert.equal(result.status, 'passed', JSON.stringify(result.failure));
    assert.equal(earlyBytes, 0);
    assert.deepEqual(fake.received, ['NOOP']);
  });

  test('only what the scenario says is sent: no QUIT when the case has none', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 hi\r\n');
      await s.nextLine();
      await s.write('550 no\r\n');
      await s.closed;
    });
    t.after(() => fake.close());
    const result = await run(
      `
cases:
  - name: no quit
    steps:
      - expect: 220
      - send: MAIL FROM:<a@b>
        expect: 250
      - send: RSET
        expect: 250
`,
      fake.port,
    );
    assert.equal(result.status, 'failed');
    await fake.done();
    assert.deepEqual(fake.received, ['MAIL FROM:<a@b>']);
  });

  test('secrets from the environment are masked in the transcript and results', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 hi\r\n');
      const line = await s.nextLine();
      await s.write(`550 unknown ${line?.slice(5)}\r\n`);
    });
    t.after(() => fake.close());
    const s = scenario(
      `
cases:
  - name: secret
    steps:
      - expect: 220
      - send: USER \${env:SMTP_SECRET}
        expect: 250
`,
      { SMTP_SECRET: 's3cr3t-value' },
    );
    const result = await runCase(s, s.cases[0]!, { host: '127.0.0.1', port: fake.port });
    assert.equal(result.status, 'failed');
    assert.deepEqual(fake.received, ['USER s3cr3t-value'], 'the server gets the real value');
    assert.doesNotMatch(JSON.stringify(result), /s3cr3t-value/);
    assert.match(JSON.stringify(result), /\*\*\*\*/);
  });

  test('a fault outside the steps (a hook that throws) still ends the case as data: an internal error, every step accounted for', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 hi\r\n');
      for (let line = await s.nextLine(); line !== undefined; line = await s.nextLine()) await s.write('250 ok\r\n');
    });
    t.after(() => fake.close());
    const s = scenario('cases:\n  - name: hook\n    steps:\n      - expect: 220\n      - send: NOOP\n        expect: 250\n      - send: RSET\n        expect: 250\n');
    const faults: string[] = [];
    let ended = 0;
    const result = await runCase(s, s.cases[0]!, { host: '127.0.0.1', port: fake.port }, {
      onStepEnd: (step) => {
        if (ended++ === 1) throw new TypeError(`step ${step.index} cannot be shown`);
      },
      onInternalFault: (fault) => faults.push(fault.stack),
    });
    assert.equal(result.status, 'error');
    assert.equal(result.failure?.kind, 'internal');
    assert.equal(result.failure?.stepIndex, 2);
    assert.equal(result.failure?.message, 'step 3 (send: RSET): internal error: TypeError: step 1 cannot be shown');
    assert.deepEqual(result.steps.map((step) => step.status), ['passed', 'passed', 'error']);
    assert.equal(faults.length, 1);
    assert.match(faults[0]!, /^TypeError: step 1 cannot be shown\n {4}at /);
  });
});
