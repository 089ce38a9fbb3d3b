import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { withTargets } from '../../src/engine/plan.js';
import { runWork } from '../../src/engine/run.js';
import type { RunResult } from '../../src/engine/results.js';
import { ConsoleReporter } from '../../src/report/console.js';
import { JUnitReporter } from '../../src/report/junit.js';
import { JsonReporter } from '../../src/report/json.js';
import { ReporterMux } from '../../src/report/multiplex.js';
import { memorySink, type MemorySink } from '../../src/report/sink.js';
import { TapReporter } from '../../src/report/tap.js';
import { parseScenario } from '../../src/scenario/load.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { GENEROUS } from '../helpers/deadlines.js';

/**
 * Secrets through a whole run: credentials and secret environment values are sent to a real server,
 * and no report (console, TAP, JUnit) shows them or their base64 forms. The user name is not secret.
 */

const USER = 'alice.secret-user';
const ENV_PASSWORD = 'env-Pa55word!';
const LITERAL_PASSWORD = 'literal-Pa55word?';
const TOKEN = 'tok-0123456789-abcdef';

const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** Every form a secret could leak in: as is, and each base64 form sent on the wire. */
const FORBIDDEN = [
  ENV_PASSWORD,
  LITERAL_PASSWORD,
  TOKEN,
  base64(ENV_PASSWORD),
  base64(LITERAL_PASSWORD),
  base64(TOKEN),
  base64(`\0${USER}\0${ENV_PASSWORD}`),
  base64(`user=${USER}\x01auth=Bearer ${TOKEN}\x01\x01`),
];

const SCENARIO = `name: secrets
timeout: ${GENEROUS}
vars:
  user: ${USER}
cases:
  - name: plain with a password from the environment
    steps:
      - send: EHLO client.test
        expect: 250
      - auth: { mechanism: PLAIN, username: "\${user}", password: "\${env:SMTP_PASSWORD}" }
        expect: 235
      - send: XTOKEN \${env:SMTP_TOKEN}
        expect: 250
        text: \${env:SMTP_TOKEN}
      - send: QUIT
        expect: 221
  - name: login with a literal password
    steps:
      - send: EHLO client.test
      - auth: { mechanism: LOGIN, username: "\${user}", password: "${LITERAL_PASSWORD}" }
        expect: 235
      - send: MAIL FROM:<a@example.test>
      - send: NOOP \${env:SMTP_TOKEN}
        expect: 500
  - name: xoauth2 refused for \${env:SMTP_TOKEN}
    steps:
      - send: EHLO client.test
      - auth: { mechanism: XOAUTH2, username: "\${user}", token: "\${env:SMTP_TOKEN}" }
        expect: 235
`;

describe('secrets never reach a report', () => {
  let server: TestServer;
  let run: RunResult;
  const sinks: Record<'console' | 'tap' | 'junit' | 'json', MemorySink> = {
    console: memorySink(),
    tap: memorySink(),
    junit: memorySink(),
    json: memorySink(),
  };
  const seen: string[] = [];

  before(async () => {
    server = await startTestServer({
      name: 'mx.test',
      authMethods: ['PLAIN', 'LOGIN', 'XOAUTH2'],
      allowInsecureAuth: true,
      onAuth(auth, _session, callback) {
        seen.push(`${auth.method} ${auth.username} ${auth.password ?? auth.accessToken}`);
        if (auth.method === 'XOAUTH2') return callback(null, { data: { status: '401', schemes: 'bearer', scope: 'mail' } });
        return callback(null, { user: auth.username });
      },
    });
    const scenario = parseScenario(SCENARIO, 'scenarios/secrets.yaml', { env: { SMTP_PASSWORD: ENV_PASSWORD, SMTP_TOKEN: TOKEN } });
    const reporter = new ReporterMux([
      new ConsoleReporter(sinks.console, { color: false, transcriptLines: 100 }),
      new TapReporter(sinks.tap),
      new JUnitReporter(sinks.junit),
      new JsonReporter(sinks.json),
    ]);
    run = await runWork(withTargets([scenario], { host: server.host, port: server.port }), { reporter });
    assert.deepEqual(reporter.failures, []);
  });
  after(() => server.close());

  test('the credentials really were sent', () => {
    assert.deepEqual(seen, [`PLAIN ${USER} ${ENV_PASSWORD}`, `LOGIN ${USER} ${LITERAL_PASSWORD}`, `XOAUTH2 ${USER} ${TOKEN}`]);
    assert.deepEqual(
      run.cases.map((c) => c.status),
      ['failed', 'failed', 'failed'],
      'every case fails, so every report shows its details and transcript',
    );
    assert.equal(run.cases[0]!.failure?.stepIndex, 2);
    assert.equal(run.cases[1]!.failure?.stepIndex, 3);
  });

  for (const name of ['console', 'tap', 'junit', 'json'] as const) {
    test(`${name}: no secret in any form, and the mask is shown`, () => {
      const text = sinks[name].text;
      assert.ok(sinks[name].closed);
      for (const secret of FORBIDDEN) assert.ok(!text.includes(secret), `${name} shows ${JSON.stringify(secret)}:\n${text}`);
      assert.ok(text.includes('****'), text);
      assert.ok(text.includes('XTOKEN ****'), `the masked command is shown:\n${text}`);
      assert.ok(text.includes(`as ${USER}`), `the user name is not secret, and shows:\n${text}`);
    });
  }

  test('the results themselves hold no secret either', () => {
    const text = JSON.stringify(run);
    for (const secret of FORBIDDEN) assert.ok(!text.includes(secret), `the results hold ${JSON.stringify(secret)}`);
  });
});
