import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScenarioError } from '../../src/errors.js';
import { CLIENT_NAME, testCertificates, type TestCertificates } from '../helpers/certs.js';
import { clientCertificateRequired } from '../helpers/server-tls.js';
import { startTestServer } from '../helpers/test-server.js';
import { assertAllPassed, copyExample, runExample } from './fixtures/examples.js';

const LOCAL_DOMAIN = 'example.com';

/**
 * A relay that requires a client certificate from the test CA in the STARTTLS handshake and
 * takes mail for other domains only from sessions that presented one.
 */
async function certificateRelay(t: TestContext, certs: TestCertificates) {
  const clients: string[] = [];
  const certified = new Set<string>();
  const accepted: string[] = [];
  const server = await startTestServer({
    ...clientCertificateRequired(certs, (client, session) => {
      clients.push(String(client.name));
      if (client.authorized) certified.add(session.id);
    }),
    onRcptTo(address, session, callback) {
      const local = address.address.endsWith(`@${LOCAL_DOMAIN}`);
      if (!local && !certified.has(session.id)) {
        return callback(Object.assign(new Error('Relay access denied'), { responseCode: 554 }));
      }
      accepted.push(address.address);
      callback();
    },
  });
  t.after(() => server.close());
  return { server, clients, accepted };
}

/**
 * The example, unchanged, in a temporary folder with the certificate files its relative
 * paths name: certs/client.pem, certs/client-key.pem and certs/ca.pem.
 */
function exampleWithCertificates(t: TestContext, certs: TestCertificates): string {
  const copy = copyExample('client-certificate.yaml');
  t.after(() => copy.cleanup());
  const dir = join(copy.dir, 'certs');
  mkdirSync(dir);
  writeFileSync(join(dir, 'client.pem'), certs.client.cert);
  writeFileSync(join(dir, 'client-key.pem'), certs.client.key);
  writeFileSync(join(dir, 'ca.pem'), certs.ca.cert);
  return copy.path;
}

describe('examples/client-certificate.yaml', () => {
  test('passes against a relay that requires a client certificate', async (t) => {
    const certs = await testCertificates();
    const { server, clients, accepted } = await certificateRelay(t, certs);
    const path = exampleWithCertificates(t, certs);
    const result = await runExample(path, { target: { host: server.host, port: server.port } });
    assertAllPassed(result);
    assert.deepEqual(clients, [CLIENT_NAME], 'the server saw the client certificate');
    assert.deepEqual(accepted, ['someone@elsewhere.example']);
    assert.equal(result.cases[0]?.tls?.verified, true, 'the server certificate was verified against certs/ca.pem');
  });

  test('without the certificate files nothing starts: the missing file is named at its line', async (t) => {
    const certs = await testCertificates();
    const path = exampleWithCertificates(t, certs);
    rmSync(join(path, '..', 'certs', 'client.pem'));
    await assert.rejects(runExample(path), (error: unknown) => {
      assert.ok(error instanceof ScenarioError, String(error));
      assert.deepEqual(
        error.issues.map((issue) => `${issue.pos.line}:${issue.pos.col}: ${issue.message}`),
        [`18:9: client certificate "certs/client.pem" does not exist (looked for ${join(path, '..', 'certs', 'client.pem')})`],
      );
      return true;
    });
  });

  test('a certificate gone by the time of the handshake fails the STARTTLS step and names the file', async (t) => {
    const certs = await testCertificates();
    const { server } = await certificateRelay(t, certs);
    const path = exampleWithCertificates(t, certs);
    const missingFiles = new Set<string>();
    rmSync(join(path, '..', 'certs', 'client.pem'));
    const result = await runExample(path, { target: { host: server.host, port: server.port }, missingFiles });
    assert.deepEqual([...missingFiles], [join(path, '..', 'certs', 'client.pem')]);
    const kase = result.cases[0]!;
    assert.equal(kase.status, 'failed');
    assert.match(kase.failure?.message ?? '', /^step 3 .*cannot read the client certificate .*certs\/client\.pem: no such file/);
  });
});
