import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleReporter, JUnitReporter, memorySink, planAndRun, ReporterMux, TapReporter } from '../../src/index.js';
import type { RunResult } from '../../src/engine/results.js';
import { GENEROUS } from '../helpers/deadlines.js';
import { fakeServer, type FakeServer, type FakeSession } from '../helpers/fake-server.js';

/** Every report of a pipelined group that fails shows the failing command, its expectation and its reply. */

const GROUP = `
      - pipeline:
          - send: MAIL FROM:<a@example.test>
            expect: 250
          - send: RCPT TO:<b@example.test>
            expect: 250
          - send: DATA
            expect: 354
      - send: QUIT
        expect: 221
`;

async function greetAndEhlo(s: FakeSession): Promise<void> {
  await s.write('220 fake.example.test ESMTP\r\n');
  await s.nextLine();
  await s.write('250-fake.example.test\r\n250 PIPELINING\r\n');
  for (let i = 0; i < 3; i++) await s.nextLine();
}

interface Reports {
  result: RunResult;
  console: string;
  tap: string;
  junit: string;
}

describe('reports of a pipelined group that fails', () => {
  let dir = '';
  const servers: FakeServer[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-pipeline-'));
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await rm(dir, { recursive: true, force: true });
  });

  async function run(script: (s: FakeSession) => Promise<void>): Promise<Reports> {
    const fake = await fakeServer(script);
    servers.push(fake);
    const file = join(dir, `pipeline-${servers.length}.yaml`);
    const steps = `      - expect: 220\n      - send: EHLO client.test\n        expect: 250\n${GROUP.replace(/^\n/, '')}`;
    await writeFile(file, `name: pipelining\ntimeout: ${GENEROUS}\ntarget: 127.0.0.1:${fake.port}\ncases:\n  - name: a pipelined transaction\n    steps:\n${steps}`);
    const sinks = { console: memorySink(), tap: memorySink(), junit: memorySink() };
    const reporter = new ReporterMux([new ConsoleReporter(sinks.console, { color: false }), new TapReporter(sinks.tap), new JUnitReporter(sinks.junit, {})]);
    const result = await planAndRun({ paths: [file], env: {} }, { reporter });
    return { result, console: sinks.console.text, tap: sinks.tap.text, junit: sinks.junit.text };
  }

  test('a refused first command and a close: the refusal is the verdict, with the replies counted', async () => {
    // As OpenSMTPD answers a client that pipelines without its leave.
    const reports = await run(async (s) => {
      await greetAndEhlo(s);
      await s.write('500 5.5.1 Invalid command: Pipelining not supported\r\n');
      s.end();
    });
    const kase = reports.result.cases[0]!;
    assert.equal(kase.status, 'failed');
    assert.equal(kase.failure?.kind, 'expectation');
    assert.equal(
      kase.failure?.message,
      'step 3 (pipeline: MAIL FROM:<a@example.test> | RCPT TO:<b@example.test> | DATA): command 1 of 3 (MAIL FROM:<a@example.test>): ' +
        'expected 250, got 500 5.5.1 Invalid command: Pipelining not supported; then server closed the connection (got 1 of 3 replies to the pipelined group)',
    );
    assert.match(reports.console, /\n +expected: 250\n +got: +500 5\.5\.1 Invalid command: Pipelining not supported\n/);
    assert.doesNotMatch(reports.console, /any reply|no reply/);
    assert.match(reports.tap, /\n +expected: "250"\n +got:\n +- "500 5\.5\.1 Invalid command: Pipelining not supported"\n/);
    assert.match(reports.junit, /<failure message="[^"]*" type="ExpectationFailed">/);
    assert.doesNotMatch(reports.junit, /ConnectionError/);
    assert.match(reports.junit, /expected: 250\ngot: 500 5\.5\.1 Invalid command: Pipelining not supported/);
  });

  test('a refused middle command: its expectation and reply, not the last command\'s', async () => {
    const reports = await run(async (s) => {
      await greetAndEhlo(s);
      await s.write('250 2.1.0 Ok\r\n550 5.1.1 No such user\r\n554 5.5.1 No valid recipients\r\n');
      if ((await s.nextLine()) === 'QUIT') await s.write('221 2.0.0 Bye\r\n');
      s.end();
    });
    const kase = reports.result.cases[0]!;
    assert.equal(kase.status, 'failed');
    assert.match(kase.failure?.message ?? '', /: command 2 of 3 \(RCPT TO:<b@example\.test>\): expected 250, got 550 5\.1\.1 No such user$/);
    assert.deepEqual(kase.steps[2]?.replies?.map((reply) => reply.code), [250, 550, 554]);
    assert.match(reports.console, /\n +expected: 250\n +got: +550 5\.1\.1 No such user\n/);
    assert.match(reports.tap, /\n +expected: "250"\n +got:\n +- "550 5\.1\.1 No such user"\n +replies:\n +- "250 2\.1\.0 Ok"\n +- "550 5\.1\.1 No such user"\n +- "554 5\.5\.1 No valid recipients"\n/);
    assert.match(reports.junit, /expected: 250\ngot: 550 5\.1\.1 No such user/);
  });
});
