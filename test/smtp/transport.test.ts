import { before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectOptions, type SmtpConnection } from '../../src/smtp/client.js';
import { Transcript } from '../../src/smtp/transcript.js';
import type { TcpSpec, TransportSpec } from '../../src/smtp/transport.js';
import { testCertificates, type TestCertificates } from '../helpers/certs.js';
import { sourcePath } from '../helpers/paths.js';
import { startSocketTestServer, startTestServer } from '../helpers/test-server.js';
import { assertWaitedFor, GENEROUS_MS } from '../helpers/deadlines.js';

/** The deadline of every wait the test does not mean to reach. */
const TIMEOUT_MS = GENEROUS_MS;
const CHILD = sourcePath('test/smtp/fixtures/smtp-child.mjs');

function child(...args: string[]): TransportSpec {
  return { kind: 'exec', argv: [process.execPath, CHILD, ...args] };
}

function texts(transcript: Transcript): string[] {
  return transcript.entries.map((entry) => `${entry.dir}: ${entry.text}`);
}

async function open(t: TestContext, transport: TransportSpec, options: Partial<ConnectOptions> = {}): Promise<{ conn: SmtpConnection; transcript: Transcript }> {
  const transcript = new Transcript();
  const conn = await connect({ transport, timeoutMs: TIMEOUT_MS, transcript, ...options });
  t.after(() => conn.close());
  return { conn, transcript };
}

async function command(conn: SmtpConnection, line: string): Promise<number> {
  await conn.sendLine(line);
  return (await conn.readReply(TIMEOUT_MS)).code;
}

function pidOf(transcript: Transcript): number {
  const started = transcript.entries.find((entry) => entry.text.startsWith('started '));
  const pid = /\(pid (\d+)\)$/.exec(started?.text ?? '')?.[1];
  assert.ok(pid, 'the transcript names the pid');
  return Number(pid);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('exec transport', () => {
  test('talks SMTP over the stdin and stdout of a child process', async (t) => {
    const { conn, transcript } = await open(t, child());
    assert.equal((await conn.readReply(TIMEOUT_MS)).code, 220);
    await conn.sendLine('EHLO client.test');
    assert.deepEqual((await conn.readReply(TIMEOUT_MS)).lines, ['child.test', 'PIPELINING', 'ENHANCEDSTATUSCODES']);
    assert.equal(await command(conn, 'QUIT'), 221);
    await assert.rejects(conn.readReply(TIMEOUT_MS), { kind: 'closed', message: 'process exited with code 0' });
    const lines = texts(transcript);
    assert.equal(lines[0], `*: started ${process.execPath} ${CHILD} (pid ${pidOf(transcript)})`);
    assert.equal(lines.at(-1), '*: process exited with code 0');
  });

  test('an exit code and a signal are reported as the end of the session', async (t) => {
    const exited = await open(t, child());
    await exited.conn.readReply(TIMEOUT_MS);
    await exited.conn.sendLine('EXIT 3');
    await assert.rejects(exited.conn.readReply(TIMEOUT_MS), { kind: 'closed', message: 'process exited with code 3' });
    assert.equal(exited.conn.isOpen, false);

    const killed = await open(t, child());
    await killed.conn.readReply(TIMEOUT_MS);
    await killed.conn.sendLine('KILL');
    await assert.rejects(killed.conn.readReply(TIMEOUT_MS), { kind: 'closed', message: 'process exited on signal SIGKILL' });
  });

  test('stderr goes to the transcript, the first lines only', async (t) => {
    const { conn, transcript } = await open(t, child('--stderr-lines', '25'));
    await conn.readReply(TIMEOUT_MS);
    assert.equal(await command(conn, 'QUIT'), 221);
    await assert.rejects(conn.readReply(TIMEOUT_MS), { kind: 'closed' });
    const stderr = texts(transcript).filter((line) => line.startsWith('*: stderr: '));
    assert.deepEqual(stderr, [...Array.from({ length: 20 }, (_, i) => `*: stderr: line ${i + 1}`), '*: stderr: 5 more lines not shown']);
  });

  test('a command that does not exist is named', async () => {
    const transcript = new Transcript();
    await assert.rejects(connect({ transport: { kind: 'exec', argv: ['smtpspec-no-such-command', '-bs'] }, timeoutMs: TIMEOUT_MS, transcript }), {
      kind: 'network',
      message: 'cannot run "smtpspec-no-such-command": command not found',
    });
    assert.deepEqual(texts(transcript), ['*: cannot run "smtpspec-no-such-command": command not found']);
  });

  test('close() ends stdin, and a child that stays is killed after the deadline', async (t) => {
    const polite = await open(t, child());
    await polite.conn.readReply(TIMEOUT_MS);
    await polite.conn.close(TIMEOUT_MS);
    assert.equal(isRunning(pidOf(polite.transcript)), false);

    const stubborn = await open(t, child('--ignore-eof'));
    await stubborn.conn.readReply(TIMEOUT_MS);
    const started = performance.now();
    await stubborn.conn.close(200);
    assertWaitedFor(performance.now() - started, 200, 'close');
    assert.equal(isRunning(pidOf(stubborn.transcript)), false);
  });

  test('a child that ignores SIGTERM is killed', async (t) => {
    const { conn, transcript } = await open(t, child('--ignore-eof', '--ignore-term'));
    await conn.readReply(TIMEOUT_MS);
    await conn.close(100);
    assert.equal(isRunning(pidOf(transcript)), false);
  });

  test('writing to a child that has exited fails as closed', async (t) => {
    const { conn } = await open(t, child());
    await conn.readReply(TIMEOUT_MS);
    await conn.sendLine('EXIT 0');
    await assert.rejects(conn.readReply(TIMEOUT_MS), { kind: 'closed' });
    await assert.rejects(conn.sendLine('NOOP'), { kind: 'closed', message: 'process exited with code 0' });
  });

  describe('STARTTLS over the pipes', () => {
    let certs: TestCertificates;
    before(async () => {
      certs = await testCertificates();
    });

    test('the handshake runs over stdin/stdout and the session goes on inside TLS', async (t) => {
      const { conn } = await open(t, child('--tls-key', certs.server.keyPath, '--tls-cert', certs.server.certPath));
      await conn.readReply(TIMEOUT_MS);
      await conn.sendLine('EHLO client.test');
      assert.ok((await conn.readReply(TIMEOUT_MS)).lines.includes('STARTTLS'));
      assert.equal(await command(conn, 'STARTTLS'), 220);
      // No TCP host: the name checked is the servername, or localhost.
      const facts = await conn.startTls({ verify: true, ca: [certs.ca.certPath] }, TIMEOUT_MS);
      assert.equal(facts.verified, true);
      await conn.sendLine('EHLO client.test');
      assert.ok(!(await conn.readReply(TIMEOUT_MS)).lines.includes('STARTTLS'));
      assert.equal(await command(conn, 'QUIT'), 221);
      // The child ends TLS (close_notify) before it exits, so the exit status may not be known yet.
      await assert.rejects(conn.readReply(TIMEOUT_MS), { kind: 'closed', message: /^process (closed its output|exited with code 0)$/ });
    });
  });
});

describe('unix socket transport', () => {
  test('talks LMTP to a server on a UNIX domain socket', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'smtpspec-unix-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'lmtp.sock');
    const server = await startSocketTestServer(path, { lmtp: true, name: 'lmtp.test' });
    t.after(() => server.close());

    const { conn, transcript } = await open(t, { kind: 'unix', path });
    assert.equal((await conn.readReply(TIMEOUT_MS)).code, 220);
    assert.equal(await command(conn, 'LHLO client.test'), 250);
    assert.equal(await command(conn, 'QUIT'), 221);
    assert.equal(texts(transcript)[0], `*: connected to socket ${path}`);
  });

  test('no server at the path is named', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'smtpspec-unix-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'none.sock');
    await assert.rejects(connect({ transport: { kind: 'unix', path }, timeoutMs: TIMEOUT_MS }), {
      kind: 'refused',
      message: `no server listening on socket ${path}`,
    });
  });
});

describe('tcp transport', () => {
  test('host and port still work as a shorthand, and transport: tcp is the same', async (t) => {
    const server = await startTestServer({ name: 'tcp.test' });
    t.after(() => server.close());
    const { port } = server;
    for (const options of [{ host: '127.0.0.1', port }, { transport: { kind: 'tcp', host: '127.0.0.1', port } as const }]) {
      const transcript = new Transcript();
      const conn = await connect({ timeoutMs: TIMEOUT_MS, transcript, ...options });
      t.after(() => conn.close());
      assert.equal((await conn.readReply(TIMEOUT_MS)).code, 220);
      assert.equal(texts(transcript)[0], `*: connected to 127.0.0.1:${port}`);
    }
  });

  test('a name looked up already connects to its addresses, keeping the name; a family it lacks is named', async (t) => {
    const server = await startTestServer({ name: 'tcp.test' });
    t.after(() => server.close());
    const { port } = server;
    const named: TcpSpec = { kind: 'tcp', host: 'mx1.invalid', port, addresses: ['127.0.0.1'] };
    const { conn, transcript } = await open(t, named);
    assert.equal((await conn.readReply(TIMEOUT_MS)).code, 220);
    assert.equal(texts(transcript)[0], `*: connected to mx1.invalid:${port} (127.0.0.1)`);
    await assert.rejects(connect({ transport: { ...named, family: 6 }, timeoutMs: TIMEOUT_MS }), {
      kind: 'dns',
      phase: 'connect',
      message: 'cannot resolve host "mx1.invalid" to an IPv6 address',
    });
    await assert.rejects(connect({ transport: { kind: 'tcp', host: '127.0.0.1', port, family: 6 }, timeoutMs: TIMEOUT_MS }), {
      kind: 'network',
      message: 'cannot connect to 127.0.0.1, an IPv4 address, over IPv6',
    });
  });

  test('a source address the machine does not have is named', async (t) => {
    const server = await startTestServer({ name: 'tcp.test' });
    t.after(() => server.close());
    await assert.rejects(connect({ transport: { kind: 'tcp', host: '127.0.0.1', port: server.port, localAddress: '192.0.2.254' }, timeoutMs: TIMEOUT_MS }), {
      kind: 'network',
      phase: 'connect',
      message: `cannot connect from 192.0.2.254: it is not an address of this machine, or cannot reach 127.0.0.1:${server.port}`,
    });
  });
});
