import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { authenticate, secretsOf, type AuthOutcome } from '../../src/smtp/auth.js';
import { connect, type SmtpConnection } from '../../src/smtp/client.js';
import { Transcript } from '../../src/smtp/transcript.js';
import { SmtpError } from '../../src/smtp/types.js';
import type { AuthAction, AuthMechanism } from '../../src/scenario/types.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { fakeServer, type FakeScript } from '../helpers/fake-server.js';
import { assertWaitedFor, GENEROUS_MS, PROMPTLY_MS } from '../helpers/deadlines.js';

/** The deadline of every wait the test does not mean to reach. */
const TIMEOUT_MS = GENEROUS_MS;
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const decode = (text: string): string => Buffer.from(text, 'base64').toString('utf8');

function action(mechanism: AuthMechanism, overrides: Partial<AuthAction> = {}): AuthAction {
  const credentials = mechanism === 'XOAUTH2' ? { token: 'tok-123' } : { password: 'secret' };
  return { type: 'auth', mechanism, username: 'alice', ...credentials, initialResponse: true, cancel: false, ...overrides };
}

const codes = (outcome: AuthOutcome): number[] => outcome.replies.map((reply) => reply.code);

async function open(port: number, transcript = new Transcript()): Promise<SmtpConnection> {
  const connection = await connect({ host: '127.0.0.1', port, timeoutMs: TIMEOUT_MS, transcript });
  after(() => connection.close());
  assert.equal((await connection.readReply(TIMEOUT_MS)).code, 220);
  return connection;
}

describe('authenticate against smtp-server', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      authMethods: ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'],
      allowInsecureAuth: true,
      authOptional: true,
      onAuth(auth, _session, callback) {
        if (auth.method === 'XOAUTH2') {
          if (auth.username === 'alice' && auth.accessToken === 'tok-123') return callback(null, { user: 'alice' });
          return callback(null, { data: { status: '401', schemes: 'bearer', scope: 'mail' } });
        }
        const valid = auth.method === 'CRAM-MD5' ? auth.validatePassword('secret') : auth.password === 'secret';
        if (auth.username === 'alice' && valid) return callback(null, { user: 'alice' });
        callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
      },
    });
  });
  after(() => server.close());

  async function session(transcript?: Transcript): Promise<SmtpConnection> {
    const connection = await open(server.port, transcript);
    await connection.sendLine('EHLO client.test');
    const ehlo = await connection.readReply(TIMEOUT_MS);
    assert.ok(ehlo.lines.includes('AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2'), ehlo.lines.join('|'));
    return connection;
  }

  async function run(auth: AuthAction, transcript?: Transcript): Promise<AuthOutcome> {
    return authenticate(await session(transcript), auth, TIMEOUT_MS);
  }

  for (const initialResponse of [true, false]) {
    const how = initialResponse ? 'with' : 'without';
    test(`PLAIN ${how} an initial response: right credentials 235, wrong 535`, async () => {
      const good = await run(action('PLAIN', { initialResponse }));
      assert.deepEqual(codes(good), initialResponse ? [235] : [334, 235]);
      assert.equal(good.reply.enhanced, '2.7.0');
      const bad = await run(action('PLAIN', { initialResponse, password: 'wrong' }));
      assert.equal(bad.reply.code, 535);
      assert.equal(bad.reply.enhanced, '5.7.8');
    });

    test(`LOGIN ${how} an initial response: right credentials 235, wrong 535`, async () => {
      const good = await run(action('LOGIN', { initialResponse }));
      assert.deepEqual(codes(good), initialResponse ? [334, 235] : [334, 334, 235]);
      const bad = await run(action('LOGIN', { initialResponse, password: 'wrong' }));
      assert.equal(bad.reply.code, 535);
    });
  }

  test('CRAM-MD5: right password 235, wrong 535, wrong user 535', async () => {
    assert.deepEqual(codes(await run(action('CRAM-MD5'))), [334, 235]);
    assert.deepEqual(codes(await run(action('CRAM-MD5', { password: 'wrong' }))), [334, 535]);
    assert.deepEqual(codes(await run(action('CRAM-MD5', { username: 'mallory' }))), [334, 535]);
  });

  test('XOAUTH2: right token 235; a wrong one gets the JSON challenge, an empty line, then 535', async () => {
    assert.deepEqual(codes(await run(action('XOAUTH2'))), [235]);
    assert.deepEqual(codes(await run(action('XOAUTH2', { initialResponse: false }))), [334, 235]);
    const transcript = new Transcript();
    const bad = await run(action('XOAUTH2', { token: 'expired' }), transcript);
    assert.deepEqual(codes(bad), [334, 535]);
    assert.deepEqual(JSON.parse(decode(bad.replies[0]?.lines[0] ?? '')), { status: '401', schemes: 'bearer', scope: 'mail' });
    const sent = transcript.entries.filter((entry) => entry.dir === 'C').map((entry) => entry.text);
    assert.deepEqual(sent.slice(-2), ['AUTH XOAUTH2 ****', '']);
  });

  for (const mechanism of ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'] as const) {
    test(`${mechanism} cancelled answers the first challenge with * and gets 501`, async () => {
      const transcript = new Transcript();
      const outcome = await run(action(mechanism, { cancel: true }), transcript);
      assert.deepEqual(codes(outcome), [334, 501]);
      const sent = transcript.entries.filter((entry) => entry.dir === 'C').map((entry) => entry.text);
      assert.deepEqual(sent.slice(-2), [`AUTH ${mechanism}`, '*']);
    });
  }

  test('a second AUTH after success is refused with 503', async () => {
    const connection = await session();
    assert.equal((await authenticate(connection, action('PLAIN'), TIMEOUT_MS)).reply.code, 235);
    assert.equal((await authenticate(connection, action('LOGIN'), TIMEOUT_MS)).reply.code, 503);
  });

  test('no credential or base64 form reaches the transcript or the outcome', async () => {
    const exchanges: AuthAction[] = [
      action('PLAIN', { authzid: 'alice' }),
      action('PLAIN', { initialResponse: false, password: 'wrong' }),
      action('LOGIN'),
      action('LOGIN', { initialResponse: false }),
      action('CRAM-MD5'),
      action('XOAUTH2'),
      action('XOAUTH2', { token: 'expired' }),
    ];
    for (const auth of exchanges) {
      const transcript = new Transcript();
      const outcome = await run(auth, transcript);
      const sentForms = [...secretsOf(auth)];
      const output = JSON.stringify([transcript.entries, outcome]);
      for (const secret of sentForms) assert.ok(!output.includes(secret), `${auth.mechanism}: ${secret} leaked`);
      assert.ok(!output.includes(auth.password ?? auth.token ?? '-'), `${auth.mechanism}: the credential leaked`);
      const authLine = transcript.entries.find((entry) => entry.dir === 'C' && entry.text.startsWith('AUTH'));
      // LOGIN's first response is the user name, which is not secret: it shows, as its base64 form.
      const shownUser = b64(auth.username);
      const initial = auth.mechanism === 'CRAM-MD5' ? '' : auth.mechanism === 'LOGIN' ? ` ${shownUser}` : ' ****';
      assert.equal(authLine?.text, auth.initialResponse ? `AUTH ${auth.mechanism}${initial}` : `AUTH ${auth.mechanism}`);
      const clientLines = transcript.entries.filter((entry) => entry.dir === 'C' && !entry.text.startsWith('AUTH') && !entry.text.startsWith('EHLO'));
      const allowed = ['****', '', ...(auth.mechanism === 'LOGIN' ? [shownUser] : [])];
      for (const entry of clientLines) assert.ok(allowed.includes(entry.text), `${auth.mechanism}: ${entry.text}`);
    }
  });
});

describe('authenticate on the wire', () => {
  async function withFake(script: FakeScript): Promise<{ connection: SmtpConnection; transcript: Transcript; received: string[]; done(): Promise<void> }> {
    const fake = await fakeServer(async (s) => {
      await s.write('220 fake ESMTP\r\n');
      await script(s);
    });
    after(() => fake.close());
    const transcript = new Transcript();
    const connection = await open(fake.port, transcript);
    return { connection, transcript, received: fake.received, done: () => fake.done() };
  }

  test('PLAIN sends authzid NUL user NUL password as one base64 initial response', async () => {
    const { connection, done } = await withFake(async (s) => {
      const line = (await s.nextLine()) ?? '';
      const [verb, mechanism, response] = line.split(' ');
      assert.deepEqual([verb, mechanism], ['AUTH', 'PLAIN']);
      assert.equal(decode(response ?? ''), 'admin\0alice\0secret');
      await s.write('235 2.7.0 ok\r\n');
    });
    const outcome = await authenticate(connection, action('PLAIN', { authzid: 'admin' }), TIMEOUT_MS);
    assert.equal(outcome.reply.code, 235);
    await done();
  });

  test('LOGIN follows the 334s whatever their text says', async () => {
    const { connection, done } = await withFake(async (s) => {
      assert.equal(await s.nextLine(), 'AUTH LOGIN');
      await s.write(`334 ${b64('Who are you?')}\r\n`);
      assert.equal(await s.nextLine(), b64('alice'));
      await s.write(`334 ${b64('Prove it')}\r\n`);
      assert.equal(await s.nextLine(), b64('secret'));
      await s.write('235 welcome\r\n');
    });
    const outcome = await authenticate(connection, action('LOGIN', { initialResponse: false }), TIMEOUT_MS);
    assert.deepEqual(codes(outcome), [334, 334, 235]);
    await done();
  });

  test('CRAM-MD5 answers with the user and the hex HMAC-MD5 of the challenge', async () => {
    const challenge = '<1896.697170952@postoffice.reston.mci.net>';
    const { connection, done } = await withFake(async (s) => {
      assert.equal(await s.nextLine(), 'AUTH CRAM-MD5');
      await s.write(`334 ${b64(challenge)}\r\n`);
      // RFC 2195 §2 example: user tim, secret tanstaaftanstaaf.
      assert.equal(decode((await s.nextLine()) ?? ''), 'tim b913a602c7eda7a495b4e6e7334d3890');
      await s.write('235 ok\r\n');
    });
    const outcome = await authenticate(connection, action('CRAM-MD5', { username: 'tim', password: 'tanstaaftanstaaf' }), TIMEOUT_MS);
    assert.equal(outcome.reply.code, 235);
    await done();
  });

  test('a zero-length initial response is sent as =', async () => {
    const { connection, done } = await withFake(async (s) => {
      assert.equal(await s.nextLine(), 'AUTH LOGIN =');
      await s.write('501 5.5.4 missing username\r\n');
    });
    const outcome = await authenticate(connection, action('LOGIN', { username: '' }), TIMEOUT_MS);
    assert.equal(outcome.reply.code, 501);
    await done();
  });

  test('a 334 when no response remains is cancelled with *, and what follows ends the exchange', async () => {
    const { connection, received, done } = await withFake(async (s) => {
      assert.match((await s.nextLine()) ?? '', /^AUTH PLAIN /);
      await s.write('334 \r\n');
      assert.equal(await s.nextLine(), '*');
      await s.write('334 again\r\n');
    });
    const outcome = await authenticate(connection, action('PLAIN'), TIMEOUT_MS);
    assert.deepEqual(codes(outcome), [334, 334]);
    await done();
    assert.equal(received.length, 2);
  });

  test('an unsupported mechanism ends at the 504', async () => {
    const { connection, done } = await withFake(async (s) => {
      assert.equal(await s.nextLine(), 'AUTH CRAM-MD5');
      await s.write('504 5.5.4 Unrecognized authentication type\r\n');
    });
    const outcome = await authenticate(connection, action('CRAM-MD5'), TIMEOUT_MS);
    assert.deepEqual(outcome.replies, [{ code: 504, enhanced: '5.5.4', lines: ['5.5.4 Unrecognized authentication type'] }]);
    await done();
  });

  test('a reply that echoes the credentials is masked in the outcome and the transcript', async () => {
    const { connection, transcript, done } = await withFake(async (s) => {
      const line = (await s.nextLine()) ?? '';
      await s.write(`535 5.7.8 rejected ${line.split(' ')[2]} for alice\r\n`);
    });
    const outcome = await authenticate(connection, action('PLAIN'), TIMEOUT_MS);
    // The user name is not secret: it stays readable.
    assert.deepEqual(outcome.reply.lines, ['5.7.8 rejected **** for alice']);
    assert.equal(transcript.entries.at(-1)?.text, '535 5.7.8 rejected **** for alice');
    await done();
  });

  test('each read has the given deadline, and the timeout error carries no secret', async () => {
    const { connection, transcript } = await withFake(async (s) => {
      await s.nextLine();
    });
    const started = performance.now();
    const error = await authenticate(connection, action('LOGIN'), 150).then(
      () => assert.fail('expected a timeout'),
      (err: unknown) => err,
    );
    assert.ok(error instanceof SmtpError);
    assert.equal(error.kind, 'timeout');
    assert.equal(error.message, 'no reply within 150 ms');
    const elapsedMs = performance.now() - started;
    assertWaitedFor(elapsedMs, 150, 'the read');
    assert.ok(elapsedMs < PROMPTLY_MS, `took ${elapsedMs} ms: the read waited for a deadline other than its own`);
    const output = JSON.stringify([error.message, transcript.entries]);
    for (const secret of secretsOf(action('LOGIN'))) assert.ok(!output.includes(secret), secret);
    assert.ok(output.includes(`AUTH LOGIN ${b64('alice')}`), 'the user name is not secret');
  });

  test('a connection closed mid-reply fails with the echoed credentials masked', async () => {
    const { connection, transcript } = await withFake(async (s) => {
      const line = (await s.nextLine()) ?? '';
      await s.write(`535-you sent ${line.split(' ')[2]}\r\n535-as alice\r\n`);
      s.end();
    });
    const error = await authenticate(connection, action('XOAUTH2'), TIMEOUT_MS).then(
      () => assert.fail('expected an error'),
      (err: unknown) => err,
    );
    assert.ok(error instanceof SmtpError);
    assert.equal(error.kind, 'closed');
    const output = JSON.stringify([error.message, error.partialLines, transcript.entries]);
    assert.deepEqual(error.partialLines, ['535-you sent ****', '535-as alice']);
    for (const secret of secretsOf(action('XOAUTH2'))) assert.ok(!output.includes(secret), secret);
  });

  test('a missing password fails before anything is sent', async () => {
    const { connection } = await withFake(() => {});
    const sent: string[] = [];
    const session = {
      transcript: connection.transcript,
      readReply: (timeoutMs: number) => connection.readReply(timeoutMs),
      sendLine: async (line: string) => {
        sent.push(line);
        await connection.sendLine(line);
      },
    };
    const auth: AuthAction = { type: 'auth', mechanism: 'LOGIN', username: 'alice', initialResponse: true, cancel: false };
    await assert.rejects(authenticate(session, auth, TIMEOUT_MS), { message: 'AUTH LOGIN needs a password' });
    assert.deepEqual(sent, []);
  });
});

describe('secretsOf', () => {
  test('lists the password or token and every form the mechanism sends it in; the user name is not secret', () => {
    assert.deepEqual(secretsOf(action('PLAIN', { authzid: 'root' })), ['secret', b64('root\0alice\0secret')]);
    assert.deepEqual(secretsOf(action('LOGIN')), ['secret', b64('secret')]);
    assert.deepEqual(secretsOf(action('XOAUTH2')), ['tok-123', b64('user=alice\x01auth=Bearer tok-123\x01\x01')]);
    assert.deepEqual(secretsOf(action('CRAM-MD5')), ['secret']);
  });
});
