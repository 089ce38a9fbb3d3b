import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { countResults, type RunResult } from '../../src/engine/results.js';
import { ConsoleReporter } from '../../src/report/console.js';
import { HtmlReporter } from '../../src/report/html.js';
import { JUnitReporter } from '../../src/report/junit.js';
import { memorySink } from '../../src/report/sink.js';
import { TapReporter } from '../../src/report/tap.js';
import type { Reporter } from '../../src/engine/events.js';
import { startEmbeddedServer, type EmbeddedServer } from '../../src/server/embedded.js';
import { q, runInline, tcp, why } from '../engine/fixtures/inline.js';
import { replay } from './fixtures/replay.js';

/** A real run: a message sent through the embedded server, then found in its Maildir, and one that never arrives. */
describe('every report shows what a mailbox step found, and how long the message took to arrive', () => {
  let server: EmbeddedServer;
  let mailRoot: string;
  let run: RunResult;
  before(async () => {
    mailRoot = mkdtempSync(join(tmpdir(), 'smtpspec-report-mail-'));
    server = await startEmbeddedServer({ mailRoot });
    const scenario = (name: string, find: string) => `mailboxes:
  bob: { maildir: ${q(join(mailRoot, 'bob'))} }
cases:
  - name: ${name}
    steps:
      - expect: 220
      - send: EHLO client.test
      - mail: alice@example.test
      - rcpt: bob@example.test
      - send: DATA
      - data: "Message-ID: <report-${name}@client.test>\\nSubject: report ${name}\\n\\nHello.\\n"
        expect: 250
      - mailbox: ${find}
        timeout: 20s
`;
    const found = await runInline(scenario('found', '{ in: bob, headers: { Subject: /^report/ }, delete: true }'), tcp(server));
    assert.equal(found.status, 'passed', why(found));
    const missing = await runInline(scenario('missing', '{ in: bob, find: { message_id: never-sent@client.test }, delete: true }').replace('timeout: 20s', 'timeout: 300ms'), tcp(server));
    assert.equal(missing.status, 'failed', why(missing));
    const cases = [found, missing];
    run = { startedAt: found.startedAt, durationMs: 1, cases, counts: countResults(cases) };
  });
  after(async () => {
    await server.close();
    rmSync(mailRoot, { recursive: true, force: true });
  });

  async function render(make: (sink: ReturnType<typeof memorySink>) => Reporter): Promise<string> {
    const sink = memorySink();
    await replay(make(sink), run);
    return sink.text;
  }

  // Each format quotes in its own way: ", \" in TAP's YAML, &quot; in XML and HTML.
  const quote = String.raw`(?:"|\\"|&quot;|&#34;)`;
  const foundLine = new RegExp(String.raw`bob \(maildir [^)]*\): found in INBOX after [\d.]+ m?s \(arrived [\d.]+ m?s after it was accepted\): ${quote}report found${quote}, \d+ bytes`);
  const missingLine = new RegExp(String.raw`bob \(maildir [^)]*\): not found in INBOX after [\d.]+ m?s \(looked \d+ times\); newest there: ${quote}report missing${quote}`);

  for (const [name, make] of [
    ['console', (sink) => new ConsoleReporter(sink, { color: false })],
    ['TAP', (sink) => new TapReporter(sink)],
    ['JUnit', (sink) => new JUnitReporter(sink)],
    ['HTML', (sink) => new HtmlReporter(sink)],
  ] as [string, (sink: ReturnType<typeof memorySink>) => Reporter][]) {
    test(name, async () => {
      const text = await render(make);
      assert.match(text, foundLine);
      assert.match(text, missingLine);
      assert.match(text, /Subject: report found/);
      assert.match(text, /deleted from the mailbox/);
    });
  }
});
