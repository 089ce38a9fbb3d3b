import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import type { SMTPServerSession } from 'smtp-server';
import { connect } from '../../src/smtp/client.js';
import { describeProxyHeader, ipv6Bytes, proxyHeader, PROXY_V2_SIGNATURE } from '../../src/smtp/proxy.js';
import { Transcript } from '../../src/smtp/transcript.js';
import { testCertificates } from '../helpers/certs.js';
import { serverTls } from '../helpers/server-tls.js';
import { fakeServer } from '../helpers/fake-server.js';
import { sourcePath } from '../helpers/paths.js';
import { startTestServer, type TestServerOptions } from '../helpers/test-server.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';

/** The deadline of every wait the test does not mean to reach. */
const TIMEOUT_MS = GENEROUS_MS;
const HERE = { host: '127.0.0.1', port: 2525 };

describe('proxyHeader', () => {
  test('version 1 over IPv4 and IPv6', () => {
    assert.equal(proxyHeader({ version: 1, source: { host: '192.0.2.1', port: 4000 } }, HERE).toString('latin1'), 'PROXY TCP4 192.0.2.1 127.0.0.1 4000 2525\r\n');
    assert.equal(
      proxyHeader({ version: 1, source: { host: '2001:db8::1', port: 4000 }, destination: { host: '[2001:db8::25]', port: 25 } }, HERE).toString('latin1'),
      'PROXY TCP6 2001:db8::1 2001:db8::25 4000 25\r\n',
    );
  });

  test('an IPv4 address beside an IPv6 one is written IPv4-mapped', () => {
    assert.equal(
      proxyHeader({ version: 1, source: { host: '192.0.2.1', port: 4000 } }, { host: '::1', port: 25 }).toString('latin1'),
      'PROXY TCP6 ::ffff:192.0.2.1 ::1 4000 25\r\n',
    );
    assert.equal(
      proxyHeader({ version: 1, source: { host: '192.0.2.1', port: 4000 } }, { host: '::ffff:127.0.0.1', port: 25 }).toString('latin1'),
      'PROXY TCP4 192.0.2.1 127.0.0.1 4000 25\r\n',
    );
  });

  test('version 2 over IPv4, byte by byte', () => {
    const header = proxyHeader({ version: 2, source: { host: '192.0.2.1', port: 4000 }, destination: { host: '198.51.100.7', port: 25 } }, HERE);
    const expected = Buffer.concat([
      PROXY_V2_SIGNATURE,
      Buffer.from([0x21, 0x11, 0x00, 0x0c]),
      Buffer.from([192, 0, 2, 1, 198, 51, 100, 7]),
      Buffer.from([0x0f, 0xa0, 0x00, 0x19]),
    ]);
    assert.deepEqual(header, expected);
  });

  test('version 2 over IPv6', () => {
    const header = proxyHeader({ version: 2, source: { host: '2001:db8::1', port: 4000 } }, { host: '::1', port: 25 });
    assert.equal(header.length, 16 + 36);
    assert.equal(header[13], 0x21);
    assert.equal(header.readUInt16BE(14), 36);
    assert.deepEqual(header.subarray(16, 32), ipv6Bytes('2001:db8::1'));
    assert.deepEqual(header.subarray(32, 48), ipv6Bytes('::1'));
    assert.equal(header.readUInt16BE(48), 4000);
    assert.equal(header.readUInt16BE(50), 25);
    assert.equal(describeProxyHeader(header), 'PROXY v2 header (52 bytes): TCP6 2001:db8::1 port 4000 to ::1 port 25');
  });

  test('IPv6 literals become their 16 bytes', () => {
    assert.equal(ipv6Bytes('::').toString('hex'), '0'.repeat(32));
    assert.equal(ipv6Bytes('::1').toString('hex'), `${'0'.repeat(31)}1`);
    assert.equal(ipv6Bytes('2001:db8::ff00:42:8329').toString('hex'), '20010db8000000000000ff0000428329');
    assert.equal(ipv6Bytes('2001:0db8:0000:0000:0000:ff00:0042:8329').toString('hex'), '20010db8000000000000ff0000428329');
    assert.equal(ipv6Bytes('::ffff:192.0.2.1').toString('hex'), '00000000000000000000ffffc0000201');
    assert.equal(ipv6Bytes('fe80::1:2').toString('hex'), 'fe800000000000000000000000010002');
  });

  test('a source that is not an IP address is refused', () => {
    assert.throws(() => proxyHeader({ version: 1, source: { host: 'client.example', port: 4000 } }, HERE), {
      name: 'RangeError',
      message: 'the PROXY source address must be an IP address, not "client.example"',
    });
    assert.throws(() => proxyHeader({ version: 2, source: { host: '192.0.2.1', port: 70000 } }, HERE), { name: 'RangeError' });
  });
});

describe('PROXY header on a connection', () => {
  async function proxiedServer(t: TestContext, options: TestServerOptions = {}): Promise<{ host: string; port: number; sessions: SMTPServerSession[] }> {
    const sessions: SMTPServerSession[] = [];
    const server = await startTestServer({
      useProxy: true,
      onConnect(session, callback) {
        sessions.push(session);
        callback();
      },
      ...options,
    });
    t.after(() => server.close());
    return { host: server.host, port: server.port, sessions };
  }

  test('smtp-server sees the client address from a v1 header', async (t) => {
    const server = await proxiedServer(t);
    const transcript = new Transcript();
    const conn = await connect({ host: server.host, port: server.port, timeoutMs: TIMEOUT_MS, transcript, proxy: { version: 1, source: { host: '192.0.2.1', port: 4000 } } });
    t.after(() => conn.close());
    assert.equal((await conn.readReply(TIMEOUT_MS)).code, 220);
    assert.equal(server.sessions[0]?.remoteAddress, '192.0.2.1');
    assert.equal(server.sessions[0]?.remotePort, 4000);
    assert.equal(transcript.entries[1]?.text, `sent PROXY v1 header: PROXY TCP4 192.0.2.1 127.0.0.1 4000 ${server.port}`);
  });

  test('implicit TLS starts after the header', async (t) => {
    const certs = await testCertificates();
    const server = await proxiedServer(t, { secure: true, ...serverTls(certs.server) });
    const conn = await connect({
      host: server.host,
      port: server.port,
      timeoutMs: TIMEOUT_MS,
      proxy: { version: 1, source: { host: '2001:db8::1', port: 4000 } },
      tls: { implicit: true, verify: true, ca: [certs.ca.certPath] },
    });
    t.after(() => conn.close());
    assert.equal(conn.tls?.verified, true);
    assert.equal((await conn.readReply(TIMEOUT_MS)).code, 220);
    assert.equal(server.sessions[0]?.remoteAddress, '2001:db8::1');
  });

  test('a v2 header arrives before anything else, every field as given', async (t) => {
    const fake = await fakeServer(async (s) => {
      const header = await readBytes(s.socket, 28);
      assert.deepEqual(header.subarray(0, 12), PROXY_V2_SIGNATURE);
      assert.equal(header[12], 0x21, 'version 2, command PROXY');
      assert.equal(header[13], 0x11, 'TCP over IPv4');
      assert.equal(header.readUInt16BE(14), 12, 'address block length');
      assert.equal([...header.subarray(16, 20)].join('.'), '192.0.2.1');
      assert.equal([...header.subarray(20, 24)].join('.'), '127.0.0.1');
      assert.equal(header.readUInt16BE(24), 4000);
      assert.equal(header.readUInt16BE(26), s.socket.localPort);
      await s.write('220 behind a proxy\r\n');
    });
    t.after(() => fake.close());
    const transcript = new Transcript();
    const conn = await connect({ host: fake.host, port: fake.port, timeoutMs: TIMEOUT_MS, transcript, proxy: { version: 2, source: { host: '192.0.2.1', port: 4000 } } });
    t.after(() => conn.close());
    assert.deepEqual(await conn.readReply(TIMEOUT_MS), { code: 220, lines: ['behind a proxy'] });
    await fake.done();
    assert.equal(fake.receivedBytes().length, 28);
    assert.match(transcript.entries[1]?.text ?? '', /^sent PROXY v2 header \(28 bytes\): TCP4 192\.0\.2\.1 port 4000 to 127\.0\.0\.1 port \d+$/);
  });

  test('a PROXY header is refused for a transport other than TCP, before anything starts', async () => {
    const transcript = new Transcript();
    const child = sourcePath('test/smtp/fixtures/smtp-child.mjs');
    await assert.rejects(
      connect({ transport: { kind: 'exec', argv: [process.execPath, child] }, timeoutMs: TIMEOUT_MS, transcript, proxy: { version: 1, source: { host: '192.0.2.1', port: 4000 } } }),
      { kind: 'network', message: 'a PROXY header can only be sent over TCP, not over the exec transport' },
    );
    assert.deepEqual(transcript.entries.map((entry) => entry.text), ['a PROXY header can only be sent over TCP, not over the exec transport']);
  });
});

/** Reads exactly `count` bytes from a socket that nothing else reads in paused mode. */
function readBytes(socket: Socket, count: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= count) {
        socket.off('data', onData);
        resolve(Buffer.concat(chunks).subarray(0, count));
      }
    };
    socket.on('data', onData);
  });
}
