import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCase } from '../../src/engine/run-case.js';
import { testCertificates, type TestCertificates } from '../helpers/certs.js';
import { sourcePath } from '../helpers/paths.js';
import { startSocketTestServer, startTestServer, type SocketTestServer, type TestServer } from '../helpers/test-server.js';
import { inline, q, runInline, statuses, tcp, why } from './fixtures/inline.js';
import { GENEROUS } from '../helpers/deadlines.js';
import { fakeServer } from '../helpers/fake-server.js';

const CHILD = sourcePath('test/smtp/fixtures/smtp-child.mjs');

/** A message to two recipients, then QUIT; `hello` is EHLO or LHLO, `check` the data step's expectation. */
function delivery(target: string, hello: string, check: string, head = ''): string {
  return `${head}target: ${target}
timeout: ${GENEROUS}
cases:
  - name: deliver
    steps:
      - expect: 220
      - send: ${hello} client.test
        expect: 250
        capabilities: { has: [PIPELINING] }
      - send: MAIL FROM:<a@example.test>
        expect: 250
      - send: RCPT TO:<b@example.test>
        expect: 250
      - send: RCPT TO:<c@example.test>
        expect: 250
      - send: DATA
        expect: 354
      - data: "Subject: transports\\n\\n.dot\\n"
        ${check}
      - send: QUIT
        expect: 221
`;
}

describe('a UNIX domain socket target', () => {
  let dir: string;
  let path: string;
  let server: SocketTestServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'smtpspec-sock-'));
    path = join(dir, 'smtp.sock');
    server = await startSocketTestServer(path, { name: 'unix.test' });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the file\'s socket target is used and the message arrives', async () => {
    const result = await runInline(delivery(`{ socket: ${q(path)} }`, 'EHLO', 'expect: 250'));
    assert.equal(result.status, 'passed', why(result));
    assert.deepEqual(result.target, { kind: 'unix', path });
    assert.equal(result.transcript[0]?.text, `connected to socket ${path}`);
    assert.equal(server.messages.at(-1)?.body, 'Subject: transports\r\n\r\n.dot\r\n');
  });

  test('a socket nobody listens on fails the case as refused, naming the path', async () => {
    const missing = join(dir, 'missing.sock');
    const result = await runInline(delivery(`{ socket: ${q(missing)} }`, 'EHLO', 'expect: 250'));
    assert.equal(result.status, 'error');
    assert.equal(result.failure?.kind, 'refused');
    assert.equal(result.steps[0]!.message, `cannot start the session: no server listening on socket ${missing}`);
    assert.ok(statuses(result).slice(1).every((status) => status === 'skipped'));
  });
});

describe('a child process target', () => {
  let certs: TestCertificates;
  before(async () => {
    certs = await testCertificates();
  });

  test('SMTP on stdin and stdout', async () => {
    const result = await runInline(delivery(`{ exec: [${q(process.execPath)}, ${q(CHILD)}] }`, 'EHLO', 'expect: 250\n        text: /queued \\(\\d+ bytes\\)/'));
    assert.equal(result.status, 'passed', why(result));
    assert.equal(result.target.kind, 'exec');
    assert.match(result.transcript[0]?.text ?? '', /^started .*smtp-child\.mjs \(pid \d+\)$/);
    assert.match(result.steps[6]!.reply?.lines[0] ?? '', /^2\.0\.0 queued \(\d+ bytes\)$/);
  });

  test('LMTP on stdin and stdout: one reply per recipient', async () => {
    const check = 'expect_each: ["250 2.0.0", 250]\n        text: /delivered/';
    const result = await runInline(delivery(`{ exec: [${q(process.execPath)}, ${q(CHILD)}, --lmtp] }`, 'LHLO', check, 'protocol: lmtp\n'));
    assert.equal(result.status, 'passed', why(result));
    assert.deepEqual(result.steps[6]!.replies?.map((r) => r.lines[0]), ['2.0.0 <b@example.test> delivered', '2.0.0 <c@example.test> delivered']);
  });

  test('STARTTLS inside the pipe is checked against "localhost" (there is no host name)', async () => {
    const argv = [process.execPath, CHILD, '--tls-key', certs.server.keyPath, '--tls-cert', certs.server.certPath].map(q).join(', ');
    const result = await runInline(`target: { exec: [${argv}] }
tls: { ca: ${q(certs.ca.certPath)} }
timeout: ${GENEROUS}
cases:
  - name: tls in a pipe
    steps:
      - send: EHLO client.test
        capabilities: { has: [STARTTLS] }
      - starttls: true
        tls: { hostname: localhost }
      - send: EHLO client.test
        capabilities: { lacks: [STARTTLS] }
      - send: QUIT
        expect: 221
`);
    assert.equal(result.status, 'passed', why(result));
    assert.equal(result.tls?.verified, true);
  });

  test('a banner before the greeting (exim -bh) is shown in the transcript and not taken for a reply', async () => {
    const result = await runInline(delivery(`{ exec: [${q(process.execPath)}, ${q(CHILD)}, --banner] }`, 'EHLO', 'expect: 250'));
    assert.equal(result.status, 'passed', why(result));
    assert.deepEqual(result.steps[0]!.reply, { code: 220, lines: ['child.test ESMTP ready'] });
    assert.deepEqual(
      result.transcript.slice(1, 6).map((entry) => `${entry.dir}: ${entry.text}`),
      [
        '*: before the greeting: **** SMTP testing session as if from host 192.0.2.1',
        '*: before the greeting: **** but without any ident (RFC 1413) callback.',
        '*: before the greeting: **** This is not for real!',
        '*: before the greeting: (empty line)',
        'S: 220 child.test ESMTP ready',
      ],
    );
  });

  test('a banner that never ends fails the case with a limit, not a hang', async () => {
    const result = await runInline(delivery(`{ exec: [${q(process.execPath)}, ${q(CHILD)}, --endless-banner] }`, 'EHLO', 'expect: 250'));
    assert.equal(result.status, 'failed', why(result));
    assert.equal(result.failure?.kind, 'limit');
    assert.equal(result.failure?.message, 'step 1 (greeting): more than 100 lines before the first reply');
  });

  test('a program that does not exist fails the case naming it', async () => {
    const result = await runInline(delivery('{ exec: [/nonexistent/mta, -bs] }', 'EHLO', 'expect: 250'));
    assert.equal(result.status, 'error');
    assert.equal(result.failure?.kind, 'network');
    assert.equal(result.steps[0]!.message, 'cannot start the session: cannot run "/nonexistent/mta": command not found');
  });
});

describe('a banner before the greeting over TCP', () => {
  test('is refused at its first line: a server on a socket must greet first', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('**** SMTP testing session as if from host 192.0.2.1\n220 fake.test ESMTP\r\n');
    });
    t.after(() => fake.close());
    const result = await runInline(delivery('{ host: 127.0.0.1 }', 'EHLO', 'expect: 250'), tcp(fake));
    assert.equal(result.status, 'failed', why(result));
    assert.equal(result.failure?.kind, 'protocol');
    assert.equal(result.failure?.message, 'step 1 (greeting): server sent a line that is not an SMTP reply: "**** SMTP testing session as if from host 192.0.2.1"');
  });
});

describe('a PROXY protocol v1 header', () => {
  let server: TestServer;
  const seen: string[] = [];
  before(async () => {
    server = await startTestServer({
      useProxy: true,
      onConnect(session, callback) {
        seen.push(`${session.remoteAddress}:${session.remotePort}`);
        callback();
      },
    });
  });
  after(() => server.close());

  test('the server sees the proxied source address', async () => {
    const scenario = inline(`proxy: { source: "203.0.113.7:40000" }
timeout: ${GENEROUS}
cases:
  - name: behind a balancer
    steps:
      - send: EHLO client.test
        expect: 250
        text: /203\\.0\\.113\\.7/
      - send: QUIT
        expect: 221
`);
    const result = await runCase(scenario, scenario.cases[0]!, tcp(server));
    assert.equal(result.status, 'passed', why(result));
    assert.deepEqual(seen, ['203.0.113.7:40000']);
    assert.match(result.transcript[1]?.text ?? '', /^sent PROXY/);
  });

  test('a PROXY header with a UNIX socket target given in code fails the session start', async () => {
    const scenario = inline('proxy: { source: "203.0.113.7:40000" }\ncases:\n  - name: x\n    steps:\n      - expect: 220\n');
    const result = await runCase(scenario, scenario.cases[0]!, { kind: 'unix', path: '/nonexistent.sock' });
    assert.equal(result.status, 'error');
    assert.equal(result.failure?.kind, 'network');
    assert.equal(result.steps[0]!.message, 'cannot start the session: a PROXY header can only be sent over TCP, not over the unix transport');
  });
});
