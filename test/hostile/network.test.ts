import { after, before, describe, test } from 'node:test';
import { assertWaitedFor, GENEROUS, PROMPTLY_MS } from '../helpers/deadlines.js';
import { fakeServer } from '../helpers/fake-server.js';
import { freePort } from '../helpers/free-port.js';
import type { TestServer } from '../helpers/test-server.js';
import { blackhole } from './fixtures/blackhole.js';
import { assertCause, assertWithin, at, healthyServer, oneCase, runThenHealthy } from './fixtures/harness.js';

/** Servers that cannot be reached, or that drop the connection. */

let healthy: TestServer;
before(async () => {
  healthy = await healthyServer();
});
after(() => healthy.close());

const STEPS = `
- expect: 220
- send: EHLO client.test
  expect: 250
- send: QUIT
  expect: 221
`;

describe('reaching the server', () => {
  test('connection refused', async () => {
    const port = await freePort();
    const run = await runThenHealthy(oneCase(`127.0.0.1:${port}`, STEPS), healthy);
    assertCause(run.cases[0]!, {
      status: 'error',
      kind: 'refused',
      message: new RegExp(`^step 1 \\(greeting\\): cannot start the session: connection refused by 127\\.0\\.0\\.1:${port}$`),
    });
    assertWithin(run.elapsedMs, PROMPTLY_MS, `the run (the deadline to connect is ${GENEROUS})`);
  });

  test('a name that does not resolve', async () => {
    const run = await runThenHealthy(oneCase('smtpspec-test.invalid:25', STEPS), healthy);
    assertCause(run.cases[0]!, {
      status: 'error',
      kind: 'dns',
      message: /^step 1 \(greeting\): cannot start the session: cannot resolve host "smtpspec-test\.invalid"$/,
    });
  });

  test('a connect that is never answered ends at the connect deadline', async (t) => {
    const hole = await blackhole();
    t.after(() => hole.close());
    const run = await runThenHealthy(oneCase(at(hole), STEPS, '300ms'), healthy);
    const [result] = run.cases;
    assertCause(result!, {
      status: 'error',
      kind: 'connect-timeout',
      message: new RegExp(`^step 1 \\(greeting\\): cannot start the session: no answer from 127\\.0\\.0\\.1:${hole.port} within 300 ms$`),
    });
    assertWaitedFor(result!.durationMs, 300, 'the case');
  });
});

describe('losing the connection', () => {
  test('a reset in the middle of the session', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 fake.test ESMTP\r\n');
      await s.nextLine();
      s.reset();
    });
    t.after(() => fake.close());
    const run = await runThenHealthy(oneCase(at(fake), STEPS), healthy);
    assertCause(run.cases[0]!, {
      status: 'error',
      kind: 'reset',
      message: /^step 2 \(send: EHLO client\.test\): connection reset by the server$/,
    });
    assertWithin(run.elapsedMs, PROMPTLY_MS, 'the run (no step waited for its deadline)');
  });
});
