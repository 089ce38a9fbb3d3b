import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseScenario } from '../../src/scenario/load.js';
import type { MailboxAction } from '../../src/scenario/types.js';
import { inlineProblems } from './issues.js';

const problems = (source: string): string[] => inlineProblems(source);

const STEPS = `cases:
  - name: delivered
    steps:
      - expect: 220
`;

describe('mailboxes: and the mailbox step', () => {
  test('an IMAP mailbox gets its default port and TLS, its password is a secret, and the step its defaults', () => {
    const scenario = parseScenario(
      `mailboxes:
  alice: { imap: mail.example.test, user: alice, password: "\${env:ALICE_PASSWORD}" }
  plain: { imap: "mail.example.test:143", user: bob, password: pw-bob-123 }
  local: { maildir: mail/alice }
${STEPS}      - mailbox: alice
      - mailbox: { in: local, folder: Junk, headers: { X-Spam-Flag: true, DKIM-Signature: false, Subject: /^hello/i }, body: Hi, max_size: 1000, delete: true }
        timeout: 5s
`,
      '/scenarios/inline.yaml',
      { env: { ALICE_PASSWORD: 'secret-alice-pw' } },
    );
    const alice = scenario.mailboxes?.['alice'];
    assert.deepEqual(alice?.settings, { kind: 'imap', host: 'mail.example.test', port: 993, tls: 'implicit', verify: true, ca: [], user: 'alice', password: 'secret-alice-pw' });
    assert.equal(scenario.mailboxes?.['plain']?.settings.kind === 'imap' && scenario.mailboxes['plain'].settings.tls, 'starttls');
    assert.deepEqual(scenario.mailboxes?.['local']?.settings, { kind: 'maildir', path: '/scenarios/mail/alice' });
    assert.ok(scenario.secrets.includes('secret-alice-pw') && scenario.secrets.includes('pw-bob-123'), 'mailbox passwords are secrets');
    const [, first, second] = scenario.cases[0]!.steps;
    assert.deepEqual(first?.action, { type: 'mailbox', mailbox: 'alice', expect: { headers: [] }, remove: false });
    assert.equal(first?.timeoutMs, 60_000, 'a mailbox step waits a minute by default');
    const action = second?.action as MailboxAction;
    assert.equal(action.expect.folder, 'Junk');
    assert.deepEqual(action.expect.headers.map((check) => [check.name, check.present, check.pattern?.written]), [
      ['X-Spam-Flag', true, undefined],
      ['DKIM-Signature', false, undefined],
      ['Subject', true, '/^hello/i'],
    ]);
    assert.equal(action.expect.body?.written, 'Hi');
    assert.equal(action.expect.maxSizeBytes, 1000);
    assert.equal(action.remove, true);
    assert.equal(second?.timeoutMs, 5_000);
  });

  test('a DSN step and a find step', () => {
    const scenario = parseScenario(
      `mailboxes:
  bob: { mailpit: "http://127.0.0.1:8025/" }
${STEPS}      - mailbox: { in: bob, dsn: { action: delivered, status: /^2\\./, recipient: carol@example.test } }
      - mailbox: { in: bob, find: { message_id: "report-1@example.test", headers: { Subject: weekly } } }
`,
      'inline.yaml',
      { env: {} },
    );
    assert.deepEqual(scenario.mailboxes?.['bob']?.settings, { kind: 'mailpit', url: 'http://127.0.0.1:8025' });
    const [, dsn, find] = scenario.cases[0]!.steps.map((step) => step.action as MailboxAction);
    assert.equal(dsn?.dsn?.action, 'delivered');
    assert.equal(dsn?.dsn?.status?.written, '/^2\\./');
    assert.equal(find?.find?.messageId, '<report-1@example.test>');
    assert.equal(find?.find?.headers[0]?.name, 'Subject');
  });

  test('mistakes are named at their positions', () => {
    assert.deepEqual(
      problems(`mailboxes:
  none: { user: x }
  both: { imap: a.example.test, pop3: b.example.test }
  local: { maildir: /var/mail/x, tls: none, password: pw-local-999 }
  bad: { imap: "a.example.test:99999" }
${STEPS}      - mailbox: nobody
      - mailbox: { in: none }
        expect: 250
`),
      [
        '2:9: mailbox "none" needs one of imap, pop3, maildir, mbox, mailpit, mailhog, embedded: what it is and where',
        '3:33: mailbox "both" cannot have both "imap" and "pop3": it is one mailbox',
        '4:34: "tls" is for an IMAP or POP3 mailbox, and mailbox "local" is maildir',
        '4:45: mailbox "local" is a local maildir: it has no user or password',
        '5:16: mailbox "bad": imap expects host or host:port, got "a.example.test:99999"',
        '10:18: no mailbox "nobody": the file\'s mailboxes are none, both, local, bad',
        '12:9: a mailbox step reads no reply from the SMTP server, so "expect" has nothing to check: its checks go inside "mailbox:"',
      ],
    );
  });

  test('a file without mailboxes says so', () => {
    assert.deepEqual(problems(`${STEPS}      - mailbox: alice\n`), ['5:18: no mailbox "alice": the file has no mailboxes: add them under "mailboxes:"']);
  });
});
