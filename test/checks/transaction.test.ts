import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeServer } from '../helpers/fake-server.js';
import { startTestServer } from '../helpers/test-server.js';
import { DOMAIN, failures, goodServer, outcomes, runCheck, scriptedServer } from './fixtures/checks.js';

/** The mail domain the test servers receive mail for: the cases that need it run only when it is set. */
const MAIL_DOMAIN = { domain: DOMAIN };

describe('check open-relay', { concurrency: true }, () => {
  test('passes against a server that refuses relaying with 554 5.7.1', async (t) => {
    const { server } = await goodServer(t);
    assert.deepEqual(outcomes(await runCheck('open-relay', server, { vars: MAIL_DOMAIN })), ['passed', 'passed']);
  });

  test('without the mail domain, the forged local sender case is skipped and the other still runs', async (t) => {
    let sessions = 0;
    const { server } = await goodServer(t, {
      onConnect: (_session, callback) => {
        sessions += 1;
        callback();
      },
    });
    const result = await runCheck('open-relay', server);
    assert.deepEqual(outcomes(result), ['passed', 'skipped']);
    assert.equal(sessions, 1, 'the skipped case opened no session');
  });

  test("passes on Postfix's stock answer, 454 4.7.1 Relay access denied", async (t) => {
    const { server } = await goodServer(t, { onRcpt: () => ({ code: 454, message: '4.7.1 Relay access denied' }) });
    assert.deepEqual(outcomes(await runCheck('open-relay', server, { vars: MAIL_DOMAIN })), ['passed', 'passed']);
  });

  test('fails against a server that accepts mail for any domain', async (t) => {
    const server = await startTestServer();
    t.after(() => server.close());
    const result = await runCheck('open-relay', server, { vars: MAIL_DOMAIN });
    assert.deepEqual(outcomes(result), ['failed at step 4', 'failed at step 4']);
    assert.match(failures(result)[0]!, /RCPT TO:<someone@outside\.invalid>\): expected .*, got 250/);
  });

  test('fails on a temporary answer that is not about policy, such as greylisting', async (t) => {
    const { server } = await goodServer(t, { onRcpt: () => ({ code: 450, message: '4.2.0 Greylisted, try again later' }) });
    const result = await runCheck('open-relay', server, { vars: { ...MAIL_DOMAIN, outside: 'a@relay.invalid', outside_sender: 'b@relay.invalid' } });
    assert.deepEqual(outcomes(result), ['failed at step 4', 'failed at step 4']);
    assert.match(failures(result)[0]!, /RCPT TO:<a@relay\.invalid>\).*got 450 4\.2\.0/);
  });
});

describe('check null-sender-postmaster', { concurrency: true }, () => {
  test('passes against a server accepting the null sender and postmaster, with or without a domain', async (t) => {
    const { server } = await goodServer(t);
    const result = await runCheck('null-sender-postmaster', server, { vars: MAIL_DOMAIN });
    assert.deepEqual(outcomes(result), ['passed', 'passed', 'passed']);
    assert.equal(result.cases[1]?.caseName, 'postmaster at the mail domain is accepted');
    assert.deepEqual(outcomes(await runCheck('null-sender-postmaster', server)), ['passed', 'skipped', 'passed'], 'without the mail domain');
  });

  test('fails against a server refusing the null sender and postmaster', async (t) => {
    const { server } = await goodServer(t, {
      onMailFrom: (address, _session, callback) =>
        callback(address.address === '' ? Object.assign(new Error('5.7.1 no bounces here'), { responseCode: 550 }) : null),
      onRcpt: (address) => (/^postmaster(@|$)/i.test(address) ? { code: 550, message: '5.1.1 no such user' } : undefined),
    });
    const result = await runCheck('null-sender-postmaster', server, { vars: MAIL_DOMAIN });
    assert.deepEqual(outcomes(result), ['failed at step 3', 'failed at step 4', 'failed at step 4']);
    assert.match(failures(result)[0]!, /send: MAIL FROM:<>\): expected 250, got 550 5\.7\.1/);
    assert.match(failures(result)[2]!, /send: RCPT TO:<Postmaster>\): expected 250 or 251, got 550 5\.1\.1/);
  });
});

describe('check size-limit', { concurrency: true }, () => {
  test('passes against a server refusing a declared size above its SIZE with 552', async (t) => {
    const { server } = await goodServer(t);
    const result = await runCheck('size-limit', server);
    assert.deepEqual(outcomes(result), ['passed']);
    assert.deepEqual(result.cases[0]?.steps[1]?.captures, { max_size: '1000000' });
    assert.equal(result.cases[0]?.steps[2]?.sent, 'MAIL FROM:<> SIZE=10000000');
  });

  test('fails at EHLO when SIZE is not advertised', async (t) => {
    const { server } = await goodServer(t, { hideSize: true });
    const result = await runCheck('size-limit', server);
    assert.deepEqual(outcomes(result), ['failed at step 2']);
    assert.match(failures(result)[0]!, /SIZE > 0/);
  });

  test('fails at MAIL when the server accepts a size above its own limit', async (t) => {
    const fake = await scriptedServer(t, (line) => (/^EHLO /i.test(line) ? '250-fake.example.test\r\n250 SIZE 2048' : '250 Ok'));
    const result = await runCheck('size-limit', fake);
    assert.deepEqual(outcomes(result), ['failed at step 3']);
    // The label shows the size sent, not the text as written with its captured variable.
    assert.equal(failures(result)[0], 'step 3 (send: MAIL FROM:<> SIZE=20480): expected 552 or 5.3.4, got 250 Ok');
    assert.equal(result.cases[0]?.steps[2]?.label, 'send: MAIL FROM:<> SIZE=20480');
    assert.equal(result.cases[0]?.steps[2]?.sent, 'MAIL FROM:<> SIZE=20480');
  });
});

describe('check smuggling', { concurrency: true }, () => {
  test('passes against a server that ends data only at <CR><LF>.<CR><LF>, which receives three probes', async (t) => {
    const { server } = await goodServer(t);
    const result = await runCheck('smuggling', server);
    assert.deepEqual(outcomes(result), ['passed', 'passed', 'passed']);
    assert.equal(server.messages.length, 3);
    assert.ok(server.messages.every((message) => message.from === '' && message.to[0] === 'Postmaster'));
    const lfProbe = server.messages.find((message) => message.body.includes('(LF.LF)'));
    assert.match(lfProbe?.body ?? '', /first message\n\.\nMAIL FROM:<Postmaster>\r?\n$/);
  });

  test('passes against a server that refuses bare line ends with 550', async (t) => {
    const { server } = await goodServer(t, {
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => callback(Object.assign(new Error('5.5.2 bare <LF> received'), { responseCode: 550 })));
      },
    });
    assert.deepEqual(outcomes(await runCheck('smuggling', server)), ['passed', 'passed', 'passed']);
  });

  test('fails where a server ends data at a bare LF: <LF>.<LF> and <LF>.<CR><LF>, naming the probe', async (t) => {
    const fake = await scriptedServer(t);
    const result = await runCheck('smuggling', fake);
    assert.deepEqual(outcomes(result), ['failed at step 7', 'passed', 'failed at step 7']);
    // The reply to the smuggled MAIL comes before QUIT is sent (a reply nobody asked for) or where QUIT's should
    // (expected 221), depending on how fast the server answers: either way the QUIT step, named after the probe, fails on it.
    const [lf, lfCrlf] = failures(result);
    const smuggled = (probe: string) =>
      new RegExp(`^step 7 \\(probe \\(${probe}\\) answered once, the next reply is to QUIT\\): (expected 221, got 250 2\\.0\\.0 Ok|the server sent a reply nobody asked for before "QUIT": 250 2\\.0\\.0 Ok)`);
    assert.match(lf ?? '', smuggled('LF\\.LF'));
    assert.match(lfCrlf ?? '', smuggled('LF\\.CRLF'));
  });

  test('fails where a server takes the end of data and refuses what follows it in the same write, closing the connection', async (t) => {
    const fake = await fakeServer(async (session) => {
      await session.write('220 fake.example.test ESMTP\r\n');
      for (let line = await session.nextLine(); line !== undefined; line = await session.nextLine()) {
        if (/^DATA$/i.test(line)) break;
        await session.write(/^EHLO /i.test(line) ? '250-fake.example.test\r\n250 PIPELINING\r\n' : '250 2.0.0 Ok\r\n');
      }
      await session.write('354 go ahead\r\n');
      while ((await session.nextLine()) !== '.') {
        // message data up to the first line that is only "."
      }
      await session.write('500 5.5.1 Invalid command: Pipelining not supported\r\n');
      session.end();
    });
    t.after(() => fake.close());
    const result = await runCheck('smuggling', fake);
    assert.deepEqual(outcomes(result), ['error at step 7', 'error at step 7', 'error at step 7']);
    assert.equal(failures(result)[0], 'step 7 (probe (LF.LF) answered once, the next reply is to QUIT): server closed the connection');
  });
});
