import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/test-server.js';
import { assertAllPassed, example, runExample } from './fixtures/examples.js';
import { proxyV2Relay } from './fixtures/relays.js';

const CLIENT = '203.0.113.7';

/**
 * smtp-server taking the client address from a PROXY header and allowing XCLIENT to the
 * addresses in `xclientHosts` (checked against the address in the header, as Postfix does),
 * behind a relay that takes the PROXY v2 header smtpspec sends.
 */
async function serverBehindLoadBalancer(t: TestContext, xclientHosts: string[]) {
  const connections: string[] = [];
  const senders: { address: string; remoteAddress: string; clientHostname: string }[] = [];
  const server = await startTestServer({
    useProxy: true,
    useXClient: xclientHosts,
    onConnect(session, callback) {
      connections.push(session.remoteAddress);
      callback();
    },
    onMailFrom(address, session, callback) {
      senders.push({ address: address.address, remoteAddress: session.remoteAddress, clientHostname: session.clientHostname });
      callback();
    },
  });
  t.after(() => server.close());
  const relay = await proxyV2Relay(server);
  t.after(() => relay.close());
  return { relay, connections, senders };
}

describe('examples/proxy-xclient.yaml', () => {
  test('passes against a server behind a load balancer that allows XCLIENT to the proxied client', async (t) => {
    const { relay, connections, senders } = await serverBehindLoadBalancer(t, [CLIENT]);
    const result = await runExample(example('proxy-xclient.yaml'), { target: { host: relay.host, port: relay.port } });
    assertAllPassed(result);
    assert.deepEqual(relay.problems, []);
    assert.deepEqual(relay.headers, [{ source: `${CLIENT}:40000`, destination: `127.0.0.1:${relay.port}` }]);
    assert.deepEqual(connections, [CLIENT], 'the server saw the client from the header');
    assert.deepEqual(senders, [{ address: 'tester@example.net', remoteAddress: CLIENT, clientHostname: 'client.example.net' }]);
  });

  test('fails at the EHLO check where the proxied client may not use XCLIENT', async (t) => {
    const { relay, senders } = await serverBehindLoadBalancer(t, ['192.0.2.1']);
    const result = await runExample(example('proxy-xclient.yaml'), { target: { host: relay.host, port: relay.port } });
    const kase = result.cases[0]!;
    assert.equal(kase.status, 'failed');
    assert.match(kase.failure?.message ?? '', /^step 2 .*XCLIENT/);
    assert.deepEqual(senders, []);
  });
});
