import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EMBEDDED_USER, embeddedCaFile, startEmbeddedServer } from '../../src/server/embedded.js';
import { assertAllPassed, example, runExample } from './fixtures/examples.js';

/** examples/auth.yaml, as its header runs it: against the embedded server, with its demo account from the environment. */

describe('examples/auth.yaml', () => {
  test('passes against the embedded server with the demo account, and the credentials appear in no result', async (t) => {
    const server = await startEmbeddedServer({ port: 0 });
    t.after(() => server.close());
    const { username, password } = EMBEDDED_USER;
    const result = await runExample(example('auth.yaml'), {
      env: { SMTP_USER: username, SMTP_PASSWORD: password },
      ca: [embeddedCaFile()],
      target: { host: '127.0.0.1', port: server.port },
    });
    assertAllPassed(result);
    assert.equal(result.cases.length, 4);
    const everything = JSON.stringify(result);
    for (const secret of [password, Buffer.from(`\0${username}\0${password}`).toString('base64')]) {
      assert.ok(!everything.includes(secret), `"${secret}" is masked`);
    }
  });

  test('with an account the server does not have, the cases that log in fail at AUTH', async (t) => {
    const server = await startEmbeddedServer({ port: 0 });
    t.after(() => server.close());
    const result = await runExample(example('auth.yaml'), {
      env: { SMTP_USER: 'mallory', SMTP_PASSWORD: 'guess' },
      ca: [embeddedCaFile()],
      target: { host: '127.0.0.1', port: server.port },
    });
    const statuses = result.cases.map((c) => `${c.caseName}: ${c.status}`);
    assert.deepEqual(statuses.filter((s) => s.endsWith('failed')).length, 2, statuses.join('\n'));
    assert.match(result.cases[0]?.failure?.message ?? '', /expected 235, got 535/);
  });
});
