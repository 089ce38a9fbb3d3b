import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startEmbeddedServer, type EmbeddedServer } from '../../src/server/embedded.js';
import { fakeServer } from '../helpers/fake-server.js';
import { httpFake, sendJson } from '../helpers/http-fake.js';
import { capture } from '../helpers/capture.js';
import { testCertificates } from '../helpers/certs.js';
import { imapMessage, imapServer } from '../helpers/imap-fake.js';
import { countResults } from '../../src/engine/results.js';
import { ConsoleReporter } from '../../src/report/console.js';
import { HtmlReporter } from '../../src/report/html.js';
import { JsonReporter } from '../../src/report/json.js';
import { JUnitReporter } from '../../src/report/junit.js';
import { memorySink } from '../../src/report/sink.js';
import { TapReporter } from '../../src/report/tap.js';
import { replay } from '../report/fixtures/replay.js';
import { main } from '../../src/cli.js';
import { q, runInline, statuses, tcp, why } from './fixtures/inline.js';

/** A case that sends one message through the server, then the given steps. */
function sending(mailboxes: string, message: string, steps: string, rcpt = 'bob@example.test', mail = 'alice@example.test'): string {
  return `mailboxes:
${mailboxes}
cases:
  - name: delivery
    steps:
      - expect: 220
      - send: EHLO client.test
        expect: 250
      - mail: ${mail}
        expect: 250
      - rcpt: ${rcpt}
        expect: 250
      - send: DATA
        expect: 354
      - data: ${JSON.stringify(message)}
        expect: 250
      - send: QUIT
        expect: 221
${steps}`;
}

describe('the mailbox step, end to end through the embedded server and its Maildirs', () => {
  let server: EmbeddedServer;
  let mailRoot: string;
  before(async () => {
    mailRoot = mkdtempSync(join(tmpdir(), 'smtpspec-mailroot-'));
    server = await startEmbeddedServer({ mailRoot });
  });
  after(async () => {
    await server.close();
    rmSync(mailRoot, { recursive: true, force: true });
  });
  const bob = () => `  bob: { maildir: ${q(join(mailRoot, 'bob'))} }\n  alice: { maildir: ${q(join(mailRoot, 'alice'))} }`;

  test('finds the message it sent by its Message-ID, checks folder, headers and body, reports how long it took, and deletes it', async () => {
    const message = 'Message-ID: <first-1@client.test>\nSubject: hello bob\n\nHello Bob, this is a delivery test.\n';
    const steps = `      - mailbox: { in: bob, folder: INBOX, headers: { Received: /by /, Subject: /^hello/, X-Spam-Flag: false }, body: delivery test, delete: true }
        timeout: 20s
      - mailbox: { in: bob, find: { message_id: first-1@client.test } }
        timeout: 1s
`;
    const result = await runInline(sending(bob(), message, steps), tcp(server));
    const delivery = result.steps[7]!;
    assert.equal(delivery.status, 'passed', why(result));
    assert.equal(delivery.label, 'mailbox bob: the message sent last');
    assert.equal(delivery.delivery?.found?.folder, 'INBOX');
    assert.equal(delivery.delivery?.found?.messageId, '<first-1@client.test>');
    assert.equal(delivery.delivery?.found?.subject, 'hello bob');
    assert.equal(delivery.delivery?.deleted, true);
    assert.ok((delivery.delivery?.found?.arrivedAfterMs ?? -1) >= 0, 'the time it took to arrive is reported');
    assert.match(delivery.delivery?.found?.headers?.find((header) => header.name === 'Received')?.value ?? '', /by /);
    // Deleted: the second look does not find it, and says what it looked for, where and for how long.
    const gone = result.steps[8]!;
    assert.equal(gone.status, 'failed');
    assert.match(gone.message ?? '', /^A message with Message-ID <first-1@client\.test> did not arrive in bob \(maildir .*bob\) within 1\.0 s \(looked \d+ times in INBOX\); the folders were empty$/);
  });

  test('a message streamed from a file is found by the Message-ID the file gives it, folded over two lines', async () => {
    const file = join(mailRoot, 'from-file.eml');
    writeFileSync(file, 'Subject: from a file\nMessage-ID:\n <file-1@client.test>\n\nSent from a file.\n');
    const yaml = sending(bob(), 'unused', '      - mailbox: { in: bob, body: from a file, delete: true }\n        timeout: 20s\n').replace(
      '      - data: "unused"\n',
      `      - data: { file: ${q(file)} }\n`,
    );
    const result = await runInline(yaml, tcp(server));
    assert.equal(result.status, 'passed', why(result));
    assert.equal(result.steps[7]!.delivery?.found?.messageId, '<file-1@client.test>');
  });

  test('a message marked as spam is found in Junk, and expecting INBOX fails naming the folder', async () => {
    const message = 'Message-ID: <spam-1@client.test>\nSubject: [spam] offer\n\nBuy now.\n';
    const result = await runInline(sending(bob(), message, `      - mailbox: { in: bob, folder: INBOX, delete: true }\n        timeout: 20s\n`), tcp(server));
    assert.equal(result.steps[7]!.status, 'failed', why(result));
    assert.equal(result.steps[7]!.message, 'the message arrived in Junk, not INBOX');
    assert.deepEqual(result.steps[7]!.delivery?.folders, ['INBOX', 'Junk']);
  });

  test('a header that does not match fails with the values found', async () => {
    const message = 'Message-ID: <hdr-1@client.test>\nSubject: plain\n\nText.\n';
    const result = await runInline(sending(bob(), message, `      - mailbox: { in: bob, headers: { Authentication-Results: /dkim=pass/ }, delete: true }\n        timeout: 20s\n`), tcp(server));
    assert.equal(result.steps[7]!.status, 'failed');
    assert.equal(result.steps[7]!.message, 'the message has no Authentication-Results header');
    assert.equal(result.steps[7]!.delivery?.deleted, true, 'what was found is deleted even when a check fails');
  });

  test('a DSN requested with NOTIFY=SUCCESS comes back to the sender and is checked; a bounce comes back as failed', async () => {
    const dsnSteps = (check: string) => `      - mailbox: { in: alice, dsn: ${check}, delete: true }\n        timeout: 20s\n`;
    const message = 'Message-ID: <dsn-1@client.test>\nSubject: with DSN\n\nHello.\n';
    const delivered = await runInline(
      sending(bob(), message, dsnSteps('{ action: delivered, status: /^2\\./, recipient: bob@example.test }'), '{ to: bob@example.test, notify: [SUCCESS] }', '{ from: alice@example.test, envid: env-dsn-1 }'),
      tcp(server),
    );
    assert.equal(delivered.status, 'passed', why(delivered));
    assert.deepEqual(delivered.steps[7]!.delivery?.found?.dsn, { recipient: 'bob@example.test', action: 'delivered', status: '2.0.0' });
    const bounce = await runInline(
      sending(bob(), 'Message-ID: <bounce-1@client.test>\nSubject: to a bouncing box\n\nHello.\n', dsnSteps('{ action: delivered }'), 'bounce-x@example.test'),
      tcp(server),
    );
    assert.equal(bounce.steps[7]!.status, 'failed', why(bounce));
    assert.equal(bounce.steps[7]!.message, 'the DSN says Action: failed, expected delivered');
    assert.match(bounce.steps[7]!.delivery?.found?.dsn?.status ?? '', /^5\.1\.1/);
  });

  test('a step with nothing sent before it, or a message without a Message-ID, fails with what to do', async () => {
    const before = await runInline(`mailboxes:\n${bob()}\ncases:\n  - name: early\n    steps:\n      - expect: 220\n      - mailbox: bob\n`, tcp(server));
    assert.match(before.steps[1]!.message ?? '', /^no message was accepted in this case before this step/);
    const noId = await runInline(sending(bob(), 'Subject: no id\n\nText.\n', `      - mailbox: bob\n`), tcp(server));
    assert.match(noId.steps[7]!.message ?? '', /^the message sent last has no Message-ID header/);
  });
});

describe('a mailbox that cannot be read', () => {
  test('an IMAP server that greets and then says nothing fails the step as a mailbox error, within its deadline, without the password', async (t) => {
    const smtp = await startEmbeddedServer();
    const imap = await fakeServer(async (session) => {
      await session.write('* OK IMAP4rev1 ready\r\n');
      await session.closed;
    });
    t.after(async () => {
      await imap.close();
      await smtp.close();
    });
    const result = await runInline(
      `mailboxes:\n  box: { imap: "127.0.0.1:${imap.port}", tls: none, user: u, password: pw-never-shown-4711 }\ncases:\n  - name: c\n    steps:\n      - expect: 220\n      - mailbox: { in: box, find: { message_id: x@y } }\n        timeout: 1s\n`,
      tcp(smtp),
    );
    assert.deepEqual(statuses(result), ['passed', 'error']);
    assert.equal(result.failure?.kind, 'mailbox');
    assert.match(result.steps[1]!.message ?? '', /127\.0\.0\.1/);
    const everything = JSON.stringify(result);
    for (const form of ['pw-never-shown-4711', Buffer.from('pw-never-shown-4711').toString('base64')]) assert.ok(!everything.includes(form), `the password appears as ${form}`);
  });
});

describe("the step's deadline bounds the whole step", () => {
  test('a mail catcher that answers every request, each just slower than the last look allows, ends the step as a mailbox error, not a late "not found"', async (t) => {
    const smtp = await startEmbeddedServer();
    // Each answer comes 900 ms after its request: the open and one look use up the 1 s deadline, and the
    // last look for what was there instead cannot end within the grace that follows it.
    const empty = { total: 0, unread: 0, count: 0, messages_count: 0, messages_unread: 0, start: 0, tags: [], messages: [] };
    const catcher = await httpFake((_request, response) => {
      const timer = setTimeout(() => sendJson(response, empty), 900);
      response.on('close', () => clearTimeout(timer));
    });
    t.after(async () => {
      await catcher.close();
      await smtp.close();
    });
    const result = await runInline(
      `mailboxes:\n  box: { mailpit: ${q(catcher.url)} }\ncases:\n  - name: c\n    steps:\n      - expect: 220\n      - mailbox: { in: box, find: { message_id: never@example.test } }\n        timeout: 1s\n`,
      tcp(smtp),
    );
    assert.deepEqual(statuses(result), ['passed', 'error'], why(result));
    assert.equal(result.failure?.kind, 'mailbox');
    assert.match(result.steps[1]!.message ?? '', /did not answer within the step's 1\.0 s|no reply within/);
  });
});

describe('mailboxes per target in a manifest', () => {
  test("each target's variables name its own mailbox, so one scenario checks delivery on every server of a fleet", async (t) => {
    const mailRoot = mkdtempSync(join(tmpdir(), 'smtpspec-fleet-mail-'));
    const first = await startEmbeddedServer({ mailRoot: join(mailRoot, 'one') });
    const second = await startEmbeddedServer({ mailRoot: join(mailRoot, 'two') });
    t.after(async () => {
      await first.close();
      await second.close();
      rmSync(mailRoot, { recursive: true, force: true });
    });
    writeFileSync(
      join(mailRoot, 'delivery.yaml'),
      sending('  inbox: { maildir: "${mail}/bob" }', 'Message-ID: <fleet-${target}@client.test>\nSubject: fleet\n\nHello.\n', '      - mailbox: { in: inbox, delete: true }\n        timeout: 20s\n').replace(
        'mailboxes:',
        'vars: { mail: "", target: "" }\nmailboxes:',
      ),
    );
    writeFileSync(
      join(mailRoot, 'fleet.yaml'),
      `scenarios: [delivery.yaml]\ntargets:\n${[first, second]
        .map((server, n) => `  - { name: mx${n + 1}, host: 127.0.0.1, port: ${server.port}, vars: { mail: ${q(join(mailRoot, n === 0 ? 'one' : 'two'))}, target: mx${n + 1} } }\n`)
        .join('')}`,
    );
    const c = capture();
    const code = await main(['run', join(mailRoot, 'fleet.yaml'), '--json', join(mailRoot, 'result.json')], c.io);
    assert.equal(code, 0, c.stdout() + c.stderr());
    const result = JSON.parse(readFileSync(join(mailRoot, 'result.json'), 'utf8')) as { cases: { steps: { delivery?: { mailbox: string; found?: { messageId?: string } } }[] }[] };
    const found = result.cases.map((kase) => kase.steps.at(-1)?.delivery);
    assert.deepEqual(found.map((delivery) => delivery?.found?.messageId).sort(), ['<fleet-mx1@client.test>', '<fleet-mx2@client.test>']);
    assert.ok(found.every((delivery, n) => delivery?.mailbox.includes(join(mailRoot, n === 0 ? 'one' : 'two'))), JSON.stringify(found));
  });
});

describe('the mailbox step over IMAP', () => {
  test('finds a message by Message-ID over verified STARTTLS with a login, reports its folder, and no output holds the password', async (t) => {
    const password = 'imap-step-Pw-91e3';
    const certs = await testCertificates();
    const imap = await imapServer({
      users: { alice: password },
      tls: 'starttls',
      credentials: { key: certs.server.key, cert: certs.server.cert },
      folders: { INBOX: [imapMessage('<older@example.test>', 'older')], Junk: [imapMessage('<wanted@example.test>', 'quarterly report')] },
    });
    const smtp = await startEmbeddedServer();
    t.after(async () => {
      await imap.close();
      await smtp.close();
    });
    const result = await runInline(
      `mailboxes:
  alice: { imap: "localhost:${imap.port}", tls: starttls, ca: ${q(certs.ca.certPath)}, user: alice, password: "\${env:IMAP_PASSWORD}" }
cases:
  - name: c
    steps:
      - expect: 220
      - mailbox: { in: alice, find: { message_id: wanted@example.test }, headers: { Subject: /report/ } }
        timeout: 20s
      - mailbox: { in: alice, find: { message_id: wanted@example.test }, folder: INBOX }
        timeout: 20s
`,
      tcp(smtp),
      { env: { IMAP_PASSWORD: password } },
    );
    assert.deepEqual(statuses(result), ['passed', 'passed', 'failed'], why(result));
    assert.equal(result.steps[1]!.delivery?.found?.folder, 'Junk');
    assert.deepEqual(result.steps[1]!.delivery?.folders, ['INBOX', 'Junk']);
    assert.equal(result.steps[2]!.message, 'the message arrived in Junk, not INBOX');
    assert.match(result.steps[1]!.delivery?.mailbox ?? '', /^alice \(imap:\/\/alice@localhost:\d+\)$/);
    const run = { startedAt: result.startedAt, durationMs: 1, cases: [result], counts: countResults([result]) };
    const sinks = [memorySink(), memorySink(), memorySink(), memorySink(), memorySink()];
    const reporters = [new TapReporter(sinks[0]!), new JUnitReporter(sinks[1]!), new HtmlReporter(sinks[2]!), new JsonReporter(sinks[3]!), new ConsoleReporter(sinks[4]!, { color: false })];
    for (const reporter of reporters) await replay(reporter, run);
    assert.match(sinks[4]!.text, /alice \(imap:\/\/alice@localhost:\d+\): found in Junk/);
    const everything = JSON.stringify(result) + sinks.map((sink) => sink.text).join('\n');
    for (const form of [password, Buffer.from(password).toString('base64'), Buffer.from(`\0alice\0${password}`).toString('base64')]) {
      assert.ok(!everything.includes(form), `the password appears as ${form}`);
    }
  });
});
