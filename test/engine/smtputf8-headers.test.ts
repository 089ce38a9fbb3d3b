import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GENEROUS } from '../helpers/deadlines.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { runInline, tcp, why } from './fixtures/inline.js';

/** Address headers of a composed message under SMTPUTF8 (RFC 6531, RFC 6532) and without it. */

function session(mail: string, headers: string): string {
  return `timeout: ${GENEROUS}
cases:
  - name: one message
    steps:
      - expect: 220
      - send: EHLO client.test
        expect: 250
      - ${mail}
        expect: 250
      - rcpt: postmaster@example.test
        expect: 250
      - send: DATA
        expect: 354
      - data:
          headers: ${headers}
          body: "Hallo\\n"
        expect: 250
      - send: QUIT
        expect: 221
`;
}

/** The header block of the last message received, unfolded. */
function receivedHeaders(server: TestServer): string[] {
  const raw = server.messages.at(-1)?.body ?? '';
  return raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]/g, ' ').split('\r\n');
}

describe('address headers of a composed message', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ name: 'mx.example.test' });
  });
  after(() => server.close());

  test('under SMTPUTF8 keep UTF-8 as it is: an encoded-word is never an address', async () => {
    const headers = '{ From: "Jörg Müller <jörg@müller.example>", To: "Zoë <zoë@example.test>", Reply-To: "δοκιμή@example.test", Subject: "Grüße" }';
    const result = await runInline(session('mail: { from: "jörg@müller.example", smtputf8: true }', headers), tcp(server));
    assert.equal(result.status, 'passed', why(result));
    assert.equal(result.steps[2]?.sent, 'MAIL FROM:<jörg@müller.example> SMTPUTF8');
    const lines = receivedHeaders(server);
    assert.ok(lines.includes('From: Jörg Müller <jörg@müller.example>'), lines.join('\n'));
    assert.ok(lines.includes('To: Zoë <zoë@example.test>'), lines.join('\n'));
    assert.ok(lines.includes('Reply-To: δοκιμή@example.test'), lines.join('\n'));
    // Unstructured text may stay encoded: RFC 6532 allows both there.
    assert.ok(lines.includes('Subject: =?UTF-8?B?R3LDvMOfZQ==?='), lines.join('\n'));
  });

  test('SMTPUTF8 written in the MAIL command line counts as well', async () => {
    const result = await runInline(session('send: "MAIL FROM:<jörg@müller.example> SMTPUTF8"', '{ From: "Jörg <jörg@müller.example>" }'), tcp(server));
    assert.equal(result.status, 'passed', why(result));
    assert.ok(receivedHeaders(server).includes('From: Jörg <jörg@müller.example>'), receivedHeaders(server).join('\n'));
  });

  test('without SMTPUTF8 the display name is encoded and the address is left alone', async () => {
    const result = await runInline(session('mail: a@example.test', '{ From: "Jörg Müller <jm@example.test>", Sender: "Jörg <jörg@müller.example>" }'), tcp(server));
    assert.equal(result.status, 'passed', why(result));
    const encoded = (text: string) => `=?UTF-8?B?${Buffer.from(text).toString('base64')}?=`;
    const lines = receivedHeaders(server);
    assert.ok(lines.includes(`From: ${encoded('Jörg Müller')} <jm@example.test>`), lines.join('\n'));
    assert.ok(lines.includes(`Sender: ${encoded('Jörg')} <jörg@müller.example>`), lines.join('\n'));
  });
});
