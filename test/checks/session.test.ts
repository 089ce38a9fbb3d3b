import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../helpers/test-server.js';
import { failures, goodServer, outcomes, runCheck, scriptedServer } from './fixtures/checks.js';

describe('check greeting', { concurrency: true }, () => {
  test('passes against a server that greets with its host name and answers EHLO and HELO', async (t) => {
    const { server } = await goodServer(t);
    assert.deepEqual(outcomes(await runCheck('greeting', server)), ['passed', 'passed']);
  });

  test('an address literal in the greeting passes too', async (t) => {
    const { server } = await goodServer(t, { name: '[127.0.0.1]' });
    assert.deepEqual(outcomes(await runCheck('greeting', server)), ['passed', 'passed']);
  });

  test('fails on a "localhost" greeting and on a server without HELO', async (t) => {
    const server = await startTestServer({ name: 'localhost', disabledCommands: ['HELO'] });
    t.after(() => server.close());
    const result = await runCheck('greeting', server);
    assert.deepEqual(outcomes(result), ['failed at step 1', 'failed at step 2']);
    assert.match(failures(result)[0]!, /got 220 localhost ESMTP/);
    assert.match(failures(result)[1]!, /send: HELO smtpspec\.invalid\): expected 250, got 500/);
  });
});

describe('check bad-commands', { concurrency: true }, () => {
  test('passes against a server refusing unknown and out-of-order commands and taking a long line', async (t) => {
    const { server } = await goodServer(t);
    const result = await runCheck('bad-commands', server);
    assert.deepEqual(outcomes(result), ['passed', 'passed', 'passed', 'passed']);
    assert.equal(result.cases[3]?.steps[2]?.sent?.length, 2005);
  });

  test('fails against a server that says 250 to everything', async (t) => {
    const fake = await scriptedServer(t);
    const result = await runCheck('bad-commands', fake);
    assert.deepEqual(outcomes(result), ['failed at step 3', 'failed at step 3', 'failed at step 4', 'passed']);
    assert.match(failures(result)[0]!, /send: XYZZY\): expected 500 or 502, got 250/);
  });

  test('passes against a server answering DATA without recipients with 554 "no valid recipients", as Postfix does', async (t) => {
    const fake = await scriptedServer(
      t,
      (line) => {
        if (/^EHLO /i.test(line)) return '250 fake.example.test';
        if (/^XYZZY/i.test(line)) return '502 5.5.2 Error: command not recognized';
        return /^RCPT /i.test(line) ? '503 5.5.1 Error: need MAIL command' : '250 2.0.0 Ok';
      },
      '554 5.5.1 Error: no valid recipients',
    );
    const result = await runCheck('bad-commands', fake);
    assert.deepEqual(outcomes(result), ['passed', 'passed', 'passed', 'passed']);
    assert.ok(fake.received.includes('DATA'));
  });

  test('fails when the server drops the connection on a long line', async (t) => {
    const { server } = await goodServer(t, { maxCommandLength: 1024 });
    const result = await runCheck('bad-commands', server);
    assert.deepEqual(outcomes(result), ['passed', 'passed', 'passed', 'failed at step 3']);
    assert.match(failures(result)[0]!, /NOOP with a 2,000-character argument\): expected 250 or 5xx, got 421/);
  });

  test('fails when the server cuts the long line in two and answers each piece', async (t) => {
    const fake = await scriptedServer(t, (line) => {
      if (line.length > 512) return '250 Ok\r\n500 5.5.2 Error: command not recognized';
      return /^EHLO /i.test(line) ? '250 fake.example.test' : '250 Ok';
    });
    const result = await runCheck('bad-commands', fake, { vars: {} });
    assert.equal(outcomes(result)[3], 'failed at step 4');
    assert.match(failures(result).at(-1)!, /^step 4 \(send: NOOP\): (the server sent a reply nobody asked for|expected 250, got 500)/);
  });
});

describe('check vrfy-expn', { concurrency: true }, () => {
  test('passes against a server answering VRFY with 252 and not knowing EXPN (500)', async (t) => {
    const { server } = await goodServer(t);
    assert.deepEqual(outcomes(await runCheck('vrfy-expn', server)), ['passed', 'passed']);
  });

  test('passes when VRFY is switched off (500)', async (t) => {
    const { server } = await goodServer(t, { disabledCommands: ['VRFY'] });
    assert.deepEqual(outcomes(await runCheck('vrfy-expn', server)), ['passed', 'passed']);
  });

  test('fails against a server that confirms mailboxes and expands lists', async (t) => {
    const fake = await scriptedServer(t, (line) => {
      if (/^(VRFY|EXPN) /i.test(line)) return '250 Postmaster <postmaster@example.test>';
      return /^EHLO /i.test(line) ? '250 fake.example.test' : '250 Ok';
    });
    const result = await runCheck('vrfy-expn', fake, { vars: { recipient: 'root@example.test' } });
    assert.deepEqual(outcomes(result), ['failed at step 3', 'failed at step 3']);
    assert.match(failures(result)[0]!, /send: VRFY root@example\.test\): expected 252 or 5xx, got 250/);
    assert.ok(fake.received.includes('EXPN root@example.test'));
  });
});
