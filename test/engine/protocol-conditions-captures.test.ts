import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { fakeServer } from '../helpers/fake-server.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { runAll, runInline, statuses, tcp, why } from './fixtures/inline.js';
import { GENEROUS } from '../helpers/deadlines.js';

let server: TestServer;
const mailFrom: string[] = [];
let queueIds = 0;
before(async () => {
  server = await startTestServer({
    name: 'mx.test',
    onMailFrom(address, _session, callback) {
      mailFrom.push(address.address);
      callback();
    },
    onData(stream, _session, callback) {
      stream.on('data', () => {});
      stream.on('end', () => callback(null, `Queued as Q${++queueIds}X`));
    },
  });
});
after(() => server.close());

const sentLines = (result: { transcript: { dir: string; text: string }[] }): string[] =>
  result.transcript.filter((e) => e.dir === 'C').map((e) => e.text);

describe('conditions', () => {
  test('a case whose var condition is false is skipped without connecting', async (t) => {
    const fake = await fakeServer(() => {});
    t.after(() => fake.close());
    const results = await runAll(
      `vars: { run_slow: "no", mode: relaxed }
cases:
  - name: slow
    when: { var: run_slow }
    steps:
      - expect: 220
      - send: QUIT
  - name: strict only
    when: { var: mode, equals: strict }
    steps:
      - expect: 220
`,
      tcp(fake),
    );
    for (const result of results) {
      assert.equal(result.status, 'skipped');
      assert.equal(result.failure, undefined);
      assert.ok(result.steps.every((step) => step.status === 'skipped' && step.message === result.skipReason));
    }
    assert.equal(results[0]!.skipReason, 'condition not met: var run_slow');
    assert.equal(results[1]!.skipReason, 'condition not met: var mode = strict');
    assert.equal(fake.connectionCount, 0);
  });

  test('a variable from the command line decides a case and a step', async () => {
    const yaml = `vars: { mode: relaxed }
timeout: ${GENEROUS}
cases:
  - name: strict only
    when: { var: mode, equals: strict }
    steps:
      - send: EHLO client.test
        expect: 250
      - send: NOOP
        when: { not: { var: mode, equals: strict } }
      - send: QUIT
        expect: 221
`;
    const [skipped] = await runAll(yaml, tcp(server));
    assert.equal(skipped!.status, 'skipped');
    const [ran] = await runAll(yaml, tcp(server), { vars: { mode: 'strict' } });
    assert.equal(ran!.status, 'passed', why(ran!));
    assert.deepEqual(statuses(ran!), ['passed', 'skipped', 'passed']);
    assert.equal(ran!.steps[1]!.message, 'condition not met: not var mode = strict');
  });

  test('step conditions on capabilities: "not" runs a step only when the keyword is absent', async () => {
    const result = await runInline(
      `timeout: ${GENEROUS}
cases:
  - name: capabilities
    steps:
      - send: NOOP
        when: { capability: PIPELINING }
      - send: EHLO client.test
        expect: 250
      - send: NOOP
        name: without SMTPUTF8
        when: { not: { capability: SMTPUTF8 } }
      - send: RSET
        name: without CHUNKING
        when: { not: { capability: CHUNKING } }
        expect: 250
      - send: QUIT
        expect: 221
`,
      tcp(server),
    );
    assert.equal(result.status, 'passed', why(result));
    assert.deepEqual(statuses(result), ['skipped', 'passed', 'skipped', 'passed', 'passed']);
    assert.equal(result.steps[0]!.message, 'condition not met: capability PIPELINING', 'nothing is known before EHLO');
    assert.equal(result.steps[2]!.message, 'condition not met: not capability SMTPUTF8');
    assert.deepEqual(sentLines(result), ['EHLO client.test', 'RSET', 'QUIT']);
  });

  test('a greeting step skipped by its condition still waits for the greeting before sending', async () => {
    const result = await runInline(
      `timeout: ${GENEROUS}
cases:
  - name: no banner check
    steps:
      - expect: 220
        text: /never/
        when: { var: check_banner }
      - send: EHLO client.test
        expect: 250
      - send: QUIT
        expect: 221
`,
      tcp(server),
    );
    assert.equal(result.status, 'passed', why(result));
    assert.deepEqual(statuses(result), ['skipped', 'passed', 'passed']);
    assert.ok(result.transcript.some((e) => e.dir === '*' && e.text === 'greeting 220 read before the first step'));
  });

  test('a skipped message step leaves the server reading data: no QUIT is sent into it after a failure', async () => {
    const result = await runInline(
      `timeout: ${GENEROUS}
cases:
  - name: body left out
    steps:
      - send: EHLO client.test
      - send: MAIL FROM:<a@example.test>
      - send: RCPT TO:<b@example.test>
      - send: DATA
        expect: 354
      - data: "Subject: x\\n\\nbody\\n"
        when: { var: with_body }
      - send: NOOP
        expect: 250
        timeout: 300ms
      - send: QUIT
        expect: 221
`,
      tcp(server),
    );
    assert.equal(result.status, 'error');
    assert.equal(result.failure?.kind, 'timeout');
    assert.deepEqual(statuses(result), ['passed', 'passed', 'passed', 'passed', 'skipped', 'error', 'skipped']);
    assert.equal(sentLines(result).at(-1), 'NOOP', 'NOOP went into the message; QUIT would have too');
  });
});

describe('captures', () => {
  test('a queue id captured from the reply to the message is used in later commands', async () => {
    const result = await runInline(
      `timeout: ${GENEROUS}
cases:
  - name: track the queue id
    steps:
      - send: EHLO client.test
      - send: MAIL FROM:<a@example.test>
      - send: RCPT TO:<b@example.test>
      - send: DATA
        expect: 354
      - data: "Subject: first\\n\\nhello\\n"
        expect: 250
        capture:
          queue_id: /queued as (\\w+)/i
          code: /\\d\\.\\d\\.\\d/
      - send: MAIL FROM:<\${queue_id}@example.test>
        expect: 250
        when: { var: queue_id }
      - send: RSET
      - pipeline:
          - send: MAIL FROM:<again-\${queue_id}@example.test>
            expect: 250
      - send: QUIT
        expect: 221
`,
      tcp(server),
    );
    assert.equal(result.status, 'passed', why(result));
    const id = `Q${queueIds}X`;
    assert.deepEqual(result.steps[4]!.captures, { queue_id: id, code: '2.6.0' });
    assert.deepEqual(mailFrom.slice(-2), [`${id}@example.test`, `again-${id}@example.test`]);
    assert.equal(result.steps[5]!.label, `send: MAIL FROM:<${id}@example.test>`, 'labels show the value, as sent');
    assert.equal(result.steps[5]!.sent, `MAIL FROM:<${id}@example.test>`, 'sent shows the value');
    for (const step of result.steps) assert.equal(typeof step.latencyMs, 'number', `latency of ${step.label}`);
  });

  test('a capture that does not match fails its step', async () => {
    const result = await runInline(
      `timeout: ${GENEROUS}
cases:
  - name: no match
    steps:
      - expect: 220
        capture: { queue_id: "/queued as (\\\\w+)/" }
      - send: NOOP
`,
      tcp(server),
    );
    assert.equal(result.status, 'failed');
    assert.equal(result.failure?.kind, 'expectation');
    assert.equal(result.steps[0]!.message, 'capture queue_id: /queued as (\\w+)/ did not match the reply');
    assert.equal(result.steps[0]!.captures, undefined);
  });

  test('a captured value with a line break is refused before anything is sent', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 hi\r\n');
      await s.nextLine();
      await s.write('250-mx.test\r\n250 PIPELINING\r\n');
      await s.nextLine();
    });
    t.after(() => fake.close());
    const result = await runInline(
      `timeout: ${GENEROUS}
cases:
  - name: smuggled command
    steps:
      - expect: 220
      - send: EHLO client.test
        capture: { name: '/^(mx[\\s\\S]*)$/' }
      - send: HELO \${name}
`,
      tcp(fake),
    );
    assert.equal(result.status, 'failed');
    assert.equal(result.steps[1]!.captures?.name, 'mx.test\nPIPELINING');
    assert.equal(result.steps[2]!.message, 'refusing to send a command with a line break in it (from a captured variable)');
    assert.deepEqual(sentLines(result), ['EHLO client.test']);
    assert.ok(!fake.received.some((line) => line.startsWith('HELO') || line === 'PIPELINING'), fake.received.join(' | '));
  });
});

describe('captured secrets', () => {
  test('a secret the server echoes is used as captured but shown masked', async (t) => {
    const token = 'tok-echo-4242';
    const fake = await fakeServer(async (s) => {
      await s.write('220 fake ESMTP\r\n');
      const login = await s.nextLine();
      await s.write(`250 session=${login?.split(' ')[1]}-7 ready\r\n`);
      await s.nextLine();
      await s.write('250 ok\r\n');
    });
    t.after(() => fake.close());
    const result = await runInline(
      `timeout: ${GENEROUS}
cases:
  - name: echo
    steps:
      - send: XLOGIN \${env:TOKEN}
        expect: 250
        capture: { session: /session=(\\S+)/ }
      - send: XUSE \${session}
        expect: 250
`,
      tcp(fake),
      { env: { TOKEN: token } },
    );
    assert.equal(result.status, 'passed', why(result));
    assert.deepEqual(fake.received, [`XLOGIN ${token}`, `XUSE ${token}-7`], 'the server gets the real values');
    assert.deepEqual(result.steps[0]!.captures, { session: '****-7' });
    assert.equal(result.steps[1]!.sent, 'XUSE ****-7');
    assert.ok(!JSON.stringify(result).includes(token));
  });
});

describe('latency', () => {
  test('within: a reply slower than allowed fails with the time it took', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 fake ESMTP\r\n');
      await s.nextLine();
      await delay(100);
      await s.write('250 slow\r\n');
      await s.nextLine();
      await s.write('221 bye\r\n');
    });
    t.after(() => fake.close());
    const result = await runInline(
      `timeout: ${GENEROUS}
cases:
  - name: slow EHLO
    steps:
      - expect: 220
        within: ${GENEROUS}
      - send: EHLO client.test
        expect: 250
        within: 1ms
      - send: QUIT
        expect: 221
`,
      tcp(fake),
    );
    assert.equal(result.status, 'failed');
    assert.equal(result.failure?.kind, 'expectation');
    const slow = result.steps[1]!;
    assert.equal(slow.reply?.code, 250, 'the reply itself matched');
    assert.ok((slow.latencyMs ?? 0) >= 95, `latency ${slow.latencyMs}`);
    assert.equal(slow.message, `the reply took ${slow.latencyMs} ms, more than the 1 ms allowed`);
    assert.equal(result.steps[0]!.status, 'passed');
    assert.equal(typeof result.steps[0]!.latencyMs, 'number');
    assert.deepEqual(sentLines(result), ['EHLO client.test', 'QUIT'], 'the case\'s QUIT closes politely');
  });
});
