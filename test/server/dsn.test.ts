import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { startEmbeddedServer, type EmbeddedServer, type ServerEvent } from '../../src/server/embedded.js';
import { filesUnder, newMessages, send, tempFolder } from './mail-session.js';

/** The fields of a delivery-status part: the per-message block, then one block per recipient. */
function statusBlocks(text: string): Record<string, string>[] {
  return text
    .trim()
    .split(/\r?\n\r?\n/)
    .map((block) => Object.fromEntries(block.split(/\r?\n/).map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()])));
}

/** The one DSN in the sender's Maildir, parsed. */
async function onlyReport(root: string, localPart: string) {
  const files = await newMessages(join(root, localPart));
  assert.equal(files.length, 1, `one report in ${localPart}'s Maildir`);
  const raw = files[0]!.text;
  const parsed = await simpleParser(raw, { keepDeliveryStatus: true });
  const type = parsed.headers.get('content-type') as { value: string; params: Record<string, string> };
  assert.equal(type.value, 'multipart/report');
  assert.equal(type.params['report-type'], 'delivery-status');
  const status = parsed.attachments.find((a) => a.contentType === 'message/delivery-status');
  assert.ok(status, 'a message/delivery-status part');
  return { raw, parsed, status: statusBlocks(status.content.toString('utf8')) };
}

async function serverWithRoot(t: Parameters<typeof tempFolder>[0], events: ServerEvent[] = []): Promise<{ server: EmbeddedServer; root: string }> {
  const root = await tempFolder(t);
  const server = await startEmbeddedServer({ mailRoot: root, onEvent: (e) => events.push(e) });
  t.after(() => server.close());
  return { server, root };
}

const ORIGINAL = 'Subject: report me\r\nMessage-ID: <orig-1@client.test>\r\n\r\nthe body text\r\n';

describe('the embedded server sends delivery status notifications (RFC 3461 / 3464)', () => {
  test('NOTIFY=SUCCESS: a "delivered" report in the sender\'s Maildir, with ENVID and ORCPT as sent', async (t) => {
    const { server, root } = await serverWithRoot(t);
    const code = await send(server, {
      from: 'alice@example.test RET=HDRS ENVID=env+2B42+3Dx',
      to: ['bob@example.test NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob+40example.test', 'carol@example.test'],
      data: ORIGINAL,
    });
    assert.equal(code, 250);
    assert.equal((await newMessages(join(root, 'bob'))).length, 1, 'the message itself is delivered');
    const { raw, parsed, status } = await onlyReport(root, 'alice');

    assert.match(raw, /^Return-Path: <>\r\n/);
    assert.equal(parsed.from?.value[0]?.address, 'MAILER-DAEMON@example.test');
    assert.equal(parsed.inReplyTo, '<orig-1@client.test>');
    assert.equal(parsed.references, '<orig-1@client.test>');
    assert.match(parsed.messageId ?? '', /^<[0-9a-f]+@mx\.example\.test>$/);
    assert.notEqual(parsed.messageId, '<orig-1@client.test>');

    const [perMessage, ...perRecipient] = status;
    assert.equal(perMessage!['Reporting-MTA'], 'dns; mx.example.test');
    assert.equal(perMessage!['Original-Envelope-Id'], 'env+42=x', 'the ENVID, xtext-decoded');
    assert.ok(!Number.isNaN(Date.parse(perMessage!['Arrival-Date']!)), perMessage!['Arrival-Date']);
    assert.deepEqual(perRecipient, [
      { 'Original-Recipient': 'rfc822;Bob@example.test', 'Final-Recipient': 'rfc822;bob@example.test', Action: 'delivered', Status: '2.0.0' },
    ], 'only the recipient that asked for SUCCESS');

    const headers = parsed.attachments.find((a) => a.contentType === 'text/rfc822-headers');
    assert.ok(headers, 'the original headers come back');
    assert.match(headers.content.toString(), /Message-ID: <orig-1@client\.test>/);
    assert.doesNotMatch(raw, /the body text/, 'a success report returns only the headers');
  });

  test('a bounce- recipient fails at delivery: a "failed" report with 5.1.1, and RET=FULL returns the message', async (t) => {
    const events: ServerEvent[] = [];
    const { server, root } = await serverWithRoot(t, events);
    assert.equal(await send(server, { from: 'alice@example.test RET=FULL', to: ['bounce-x@example.test'], data: ORIGINAL }), 250);
    assert.deepEqual(await filesUnder(root).then((files) => files.filter((f) => !f.startsWith('alice'))), [], 'nothing stored for bounce-x');
    const { parsed, status } = await onlyReport(root, 'alice');
    assert.match(parsed.subject ?? '', /Undelivered/);
    assert.deepEqual(status.slice(1), [
      {
        'Final-Recipient': 'rfc822;bounce-x@example.test',
        Action: 'failed',
        Status: '5.1.1',
        'Diagnostic-Code': 'smtp; 550 5.1.1 <bounce-x@example.test>: mailbox unavailable',
      },
    ]);
    const returned = parsed.attachments.find((a) => a.contentType === 'message/rfc822');
    assert.ok(returned, 'RET=FULL: the whole message comes back');
    assert.match(returned.content.toString(), /the body text/);
    assert.ok(events.some((e) => e.type === 'delivery' && 'failed' in e && e.recipient === 'bounce-x@example.test'));
  });

  test('NOTIFY=NEVER gives no report, nor does a sender of another domain or the null sender', async (t) => {
    const { server, root } = await serverWithRoot(t);
    await send(server, { from: 'alice@example.test', to: ['bounce-x@example.test NOTIFY=NEVER', 'bob@example.test NOTIFY=NEVER'], data: ORIGINAL });
    await send(server, { from: 'someone@elsewhere.test', to: ['bounce-y@example.test', 'bob@example.test NOTIFY=SUCCESS'], data: ORIGINAL });
    await send(server, { from: '', to: ['bounce-z@example.test', 'bob@example.test NOTIFY=SUCCESS'], data: ORIGINAL });
    assert.deepEqual(await newMessages(join(root, 'alice')), []);
    const files = await filesUnder(root);
    assert.ok(files.every((f) => f.startsWith(join('bob', 'new'))), files.join('\n'));
    assert.equal(files.length, 3, 'bob got the three messages, and nobody got a report');
  });

  test('a failure report is the default (no NOTIFY), and NOTIFY=SUCCESS alone leaves it out', async (t) => {
    const { server, root } = await serverWithRoot(t);
    await send(server, { from: 'alice@example.test', to: ['bounce-a@example.test', 'bounce-b@example.test NOTIFY=SUCCESS'], data: ORIGINAL });
    const { status } = await onlyReport(root, 'alice');
    assert.deepEqual(status.slice(1).map((r) => [r['Final-Recipient'], r.Action]), [['rfc822;bounce-a@example.test', 'failed']]);
  });
});
