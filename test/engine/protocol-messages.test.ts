import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeServer } from '../helpers/fake-server.js';
import { sourcePath } from '../helpers/paths.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { chunkingServer, type ChunkingServer } from '../helpers/chunking-server.js';
import { q, runInline, statuses, tcp, why } from './fixtures/inline.js';
import { GENEROUS } from '../helpers/deadlines.js';

const LF_MESSAGE = sourcePath('test/engine/fixtures/lf-message.txt');
const ATTACHMENT = sourcePath('test/engine/fixtures/attachment.bin');

/** Greeting, EHLO (or LHLO), MAIL, the recipients, then the given steps. */
function transaction(steps: string, options: { rcpts?: string[]; lmtp?: boolean } = {}): string {
  const rcpts = options.rcpts ?? ['b@example.test'];
  return `timeout: ${GENEROUS}
${options.lmtp ? 'protocol: lmtp\n' : ''}cases:
  - name: message
    steps:
      - expect: 220
      - send: ${options.lmtp ? 'LHLO' : 'EHLO'} client.test
        expect: 250
      - send: MAIL FROM:<a@example.test>
        expect: 250
${rcpts.map((rcpt) => `      - send: RCPT TO:<${rcpt}>\n        expect: 250`).join('\n')}
${steps.replace(/^\n/, '')}`;
}

describe('BDAT against a CHUNKING server', () => {
  const servers: ChunkingServer[] = [];
  const start = async (options: Parameters<typeof chunkingServer>[0] = {}) => {
    const server = await chunkingServer(options);
    servers.push(server);
    return server;
  };
  after(() => Promise.all(servers.map((server) => server.close())));

  test('the message goes in chunks of the given size, the last one marked, and arrives whole', async () => {
    const server = await start();
    const result = await runInline(
      transaction(`
      - data: "Subject: bdat\\n\\n.no dot-stuffing here\\nend"
        bdat: 10
        expect: 250
        when: { capability: CHUNKING }
      - send: QUIT
        expect: 221
`),
      tcp(server),
    );
    assert.equal(result.status, 'passed', why(result));
    const expected = 'Subject: bdat\r\n\r\n.no dot-stuffing here\r\nend\r\n';
    assert.equal(server.messages.at(-1)?.toString('latin1'), expected);
    assert.deepEqual(
      server.chunks.map((chunk) => `${chunk.size}${chunk.last ? ' LAST' : ''}`),
      ['10', '10', '10', '10', '5 LAST'],
    );
    const step = result.steps[4]!;
    assert.equal(step.label, 'data (4 lines) with BDAT');
    assert.deepEqual(step.replies?.map((reply) => reply.code), [250, 250, 250, 250, 250]);
    assert.deepEqual(step.reply?.lines, ['2.0.0 message accepted']);
    assert.ok(!server.commands.includes('DATA'));
  });

  test('a message that fills its last chunk exactly sends no empty chunk', async () => {
    const server = await start();
    const result = await runInline(transaction('      - data: "123456789012345678\\n"\n        bdat: 10\n        expect: 250\n'), tcp(server));
    assert.equal(result.status, 'passed', why(result));
    assert.deepEqual(
      server.chunks.map((chunk) => `${chunk.size}${chunk.last ? ' LAST' : ''}`),
      ['10', '10 LAST'],
    );
  });

  test('a file is sent with BDAT byte for byte (line endings made CRLF, dots left alone)', async () => {
    const server = await start();
    const result = await runInline(transaction(`      - data: { file: ${q(LF_MESSAGE)} }\n        bdat: 32\n        expect: 250\n`), tcp(server));
    assert.equal(result.status, 'passed', why(result));
    const expected = readFileSync(LF_MESSAGE, 'latin1').replace(/\n/g, '\r\n');
    assert.equal(server.messages.at(-1)?.toString('latin1'), expected);
    assert.ok(server.chunks.slice(0, -1).every((chunk) => chunk.size === 32 && !chunk.last));
  });

  test('a refused middle chunk fails the step and stops the transfer', async () => {
    const server = await start({ refuseChunk: 2 });
    const result = await runInline(
      transaction('      - data: "Subject: refused\\n\\n0123456789\\n"\n        bdat: 8\n        expect: 250\n      - send: QUIT\n        expect: 221\n'),
      tcp(server),
    );
    assert.equal(result.status, 'failed');
    assert.equal(result.failure?.kind, 'expectation');
    const step = result.steps[4]!;
    assert.equal(step.message, 'BDAT chunk 2 was refused: 554 5.6.0 chunk refused');
    assert.deepEqual(step.replies?.map((reply) => reply.code), [250, 554]);
    assert.equal(server.chunks.length, 2, 'no chunk after the refused one');
    assert.equal(server.commands.at(-1), 'QUIT', 'the case\'s QUIT still closes politely');
  });

  test('LMTP with BDAT: one reply per recipient after the LAST chunk', async () => {
    const server = await start({ lmtp: true });
    const result = await runInline(
      transaction(
        `
      - data: "Subject: lmtp chunks\\n\\nhello\\n"
        bdat: 16
        expect_each: [250, 250]
        text: /delivered/
      - send: QUIT
        expect: 221
`,
        { lmtp: true, rcpts: ['b@example.test', 'c@example.test'] },
      ),
      tcp(server),
    );
    assert.equal(result.status, 'passed', why(result));
    const step = result.steps[5]!;
    assert.deepEqual(
      step.replies?.map((reply) => reply.lines[0]),
      ['2.0.0 16 octets received', '2.0.0 <b@example.test> delivered', '2.0.0 <c@example.test> delivered'],
    );
  });
});

describe('message sources against smtp-server', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ name: 'mx.test' });
  });
  after(() => server.close());

  const withData = (data: string): string => transaction(`      - send: DATA\n        expect: 354\n      - data: ${data}\n        expect: 250\n`);

  test('a file with LF line endings and dot-leading lines arrives intact', async () => {
    const result = await runInline(withData(`{ file: ${q(LF_MESSAGE)} }`), tcp(server));
    assert.equal(result.status, 'passed', why(result));
    assert.equal(result.steps[5]!.label, `data from ${LF_MESSAGE}`);
    assert.equal(server.messages.at(-1)?.body, readFileSync(LF_MESSAGE, 'utf8').replace(/\n/g, '\r\n'));
    const sent = result.transcript.filter((e) => e.dir === 'C').map((e) => e.text);
    assert.ok(sent.includes('..a line that starts with a dot') && sent.includes('...two dots') && sent.includes('..'), sent.join('\n'));
  });

  test('a file larger than one read, with CRLF, bare LF and bare CR lines, a CR LF split across two reads and dots, arrives with every line CRLF', async (t) => {
    // Reads are 256 KiB: the CR of a CRLF is the last byte of the first read, its LF the first of the second,
    // and a dot starts the line after it. DATA's one encoding pass puts every line ending right.
    const read = 256 * 1024;
    const head = 'Subject: line endings\r\n\r\nbare LF\n.dot after a bare LF\nbare CR\r.dot after a bare CR\r';
    const filler = 'x'.repeat(read - head.length - 1);
    const text = `${head}${filler}\r\n.dot after the split CRLF\r\nlast line without an end`;
    const dir = mkdtempSync(join(tmpdir(), 'smtpspec-lines-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'message.eml');
    writeFileSync(file, text);
    assert.equal(readFileSync(file).subarray(read - 1, read + 1).toString('latin1'), '\r\n');
    const result = await runInline(withData(`{ file: ${q(file)} }`), tcp(server));
    assert.equal(result.status, 'passed', why(result));
    const expected = text.replace(/\r\n|\r|\n/g, '\n').replace(/\n/g, '\r\n') + '\r\n';
    assert.equal(server.messages.at(-1)?.body, expected);
  });

  test('a composed message gets Date and Message-ID, and its attachment decodes to the file', async () => {
    const data = `
          headers: { From: a@example.test, To: b@example.test, Subject: "composed ünïcode" }
          body: "Hello,\\n.see the attachment\\n"
          attachments:
            - file: ${q(ATTACHMENT)}
              content_type: application/octet-stream`;
    const result = await runInline(withData(data), tcp(server));
    assert.equal(result.status, 'passed', why(result));
    assert.equal(result.steps[5]!.label, 'data (composed message)');
    const body = server.messages.at(-1)?.body ?? '';
    const [head = '', ...rest] = body.split('\r\n\r\n');
    assert.match(head, /^From: a@example\.test\r\nTo: b@example\.test\r\nSubject: composed =\?UTF-8\?B\?w7xuw69jb2Rl\?=\r\n/);
    assert.match(head, /\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n/);
    assert.match(head, /\r\nMessage-ID: <[0-9a-f]{32}@smtpspec\.invalid>\r\n/);
    const boundary = /boundary="([^"]+)"/.exec(head)?.[1];
    assert.ok(boundary, head);
    const parts = rest.join('\r\n\r\n').split(`--${boundary}`);
    assert.match(parts[1] ?? '', /\r\n\r\nHello,\r\n\.see the attachment\r\n/, 'the body is un-dot-stuffed by the server');
    const attachment = parts.find((part) => part.includes('filename="attachment.bin"'));
    assert.ok(attachment, body);
    const encoded = attachment.split('\r\n\r\n')[1] ?? '';
    assert.deepEqual(Buffer.from(encoded.replace(/\r\n/g, ''), 'base64'), readFileSync(ATTACHMENT));
  });

  test('a message file that is gone when the step runs fails the step, and no QUIT goes into the message', async () => {
    // Loading refuses a missing file; one removed after loading is met here.
    const result = await runInline(
      transaction('      - send: DATA\n        expect: 354\n      - data: { file: /nonexistent/message.eml }\n        expect: 250\n      - send: QUIT\n'),
      tcp(server),
      { missingFiles: new Set() },
    );
    assert.notEqual(result.status, 'passed');
    assert.equal(result.steps[5]!.message, 'cannot read message file "/nonexistent/message.eml": no such file');
    const sent = result.transcript.filter((e) => e.dir === 'C').map((e) => e.text);
    assert.ok(!sent.includes('QUIT'), `the server is still reading message data: ${sent.join(' / ')}`);
  });
});

describe('raw bytes', () => {
  test('arrive exactly; without expect no reply is read, with expect one is', async (t) => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 fake ESMTP\r\n');
      assert.equal(await s.nextLine(), 'NOOP\x00\u00e9 two writes');
      await s.write('250 2.0.0 one reply for both writes\r\n');
      assert.equal(await s.nextLine(), 'QUIT');
      await s.write('221 bye\r\n');
    });
    t.after(() => fake.close());
    const result = await runInline(
      `timeout: ${GENEROUS}
cases:
  - name: raw
    steps:
      - expect: 220
      - raw: 'NOOP\\x00'
      - raw: '\\xc3\\xa9 two writes\\r\\n'
        expect: 250
        text: one reply
      - send: QUIT
        expect: 221
`,
      tcp(fake),
    );
    assert.equal(result.status, 'passed', why(result));
    await fake.done();
    assert.deepEqual(statuses(result), ['passed', 'passed', 'passed', 'passed']);
    const [, first, second] = result.steps;
    assert.equal(first!.reply, undefined);
    assert.equal(first!.latencyMs, undefined, 'no reply, no latency');
    assert.equal(first!.label, 'raw (5 bytes)');
    assert.equal(second!.reply?.code, 250);
    assert.equal(typeof second!.latencyMs, 'number');
    assert.deepEqual(fake.receivedBytes(), Buffer.concat([Buffer.from('NOOP\x00'), Buffer.from([0xc3, 0xa9]), Buffer.from(' two writes\r\nQUIT\r\n')]));
  });
});
