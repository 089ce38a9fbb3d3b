import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTarget, memorySink, planAndRun, ReporterMux, JsonReporter } from '../../src/index.js';
import { GENEROUS } from '../helpers/deadlines.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { inlineProblems, withSteps } from '../scenario/issues.js';

/** One scenario for a fleet whose servers refuse a recipient with different codes: the manifest gives each target its own. */
describe('expect and text take variables', () => {
  const servers: TestServer[] = [];
  let dir = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-expect-vars-'));
    // As Exim and Postfix refuse an unknown recipient.
    servers.push(await startTestServer({ onRcpt: () => ({ code: 550, message: 'Unrouteable address' }) }));
    servers.push(await startTestServer({ onRcpt: () => ({ code: 554, message: 'Relay access denied' }) }));
    const steps = [
      '{ expect: 220 }',
      '{ send: EHLO client.test, expect: 250 }',
      '{ send: "MAIL FROM:<a@client.test>", expect: 250 }',
      '{ send: "RCPT TO:<nobody@elsewhere.test>", expect: "${reject_code}", text: "${reject_text}" }',
      '{ send: QUIT, expect: 221 }',
    ];
    await writeFile(join(dir, 'relay.yaml'), `name: relay\ntimeout: ${GENEROUS}\n${withSteps(steps)}`);
    const target = (name: string, server: TestServer, code: string, text: string) =>
      `  - { name: ${name}, host: 127.0.0.1, port: ${server.port}, vars: { reject_code: "${code}", reject_text: "${text}" } }`;
    const lines = [
      target('exim', servers[0]!, '550', 'Unrouteable'),
      target('postfix', servers[1]!, '554', 'Relay access'),
      target('postfix-as-exim', servers[1]!, '550', 'Unrouteable'),
    ];
    await writeFile(join(dir, 'fleet.yaml'), `scenarios: [relay.yaml]\ntargets:\n${lines.join('\n')}\n`);
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await rm(dir, { recursive: true, force: true });
  });

  test("each target's vars say the code and text its server answers with", async () => {
    const result = await planAndRun({ paths: [join(dir, 'fleet.yaml')], env: {} }, { reporter: new ReporterMux([new JsonReporter(memorySink())]) });
    assert.deepEqual(
      result.cases.map((c) => `${formatTarget(c.target).split(' ')[0]}: ${c.status}`),
      ['exim: passed', 'postfix: passed', 'postfix-as-exim: failed'],
    );
  });

  test('a value that is no code or pattern once replaced is an error at the expect, naming the variable', () => {
    const steps = ['{ expect: "${greeting}" }', '{ send: QUIT, expect: ["${bye}", "${env:BYE}"] }'];
    assert.deepEqual(inlineProblems(withSteps(steps, 'vars: { greeting: "22O", bye: 221 }'), { env: { BYE: 'soon' } }), [
      '5:19: expect "${greeting}" is "22O" with variable "greeting", which is not a reply code (250) or a pattern ("2xx", "550 5.1.1", "5.7.1")',
      '6:42: expect "${env:BYE}" is "soon" with environment variable BYE, which is not a reply code (250) or a pattern ("2xx", "550 5.1.1", "5.7.1")',
    ]);
    assert.deepEqual(inlineProblems(withSteps(['{ expect: "${nothing}" }'])), ['4:19: undefined variable "nothing"']);
  });
});
