import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '../../src/smtp/client.js';
import {
  CrlfNormalizer,
  MessageError,
  composeHeaders,
  encodeHeaderValue,
  formatDate,
  messageStream,
  normalizeText,
  type ComposeContext,
  type MessageSource,
  type RuntimeText,
} from '../../src/smtp/message.js';
import { sourcePath } from '../helpers/paths.js';
import { startTestServer } from '../helpers/test-server.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';

/** The deadline of every wait the test does not mean to reach. */
const TIMEOUT_MS = GENEROUS_MS;
const MIXED = sourcePath('test/smtp/fixtures/mixed-endings.txt');
const ATTACHMENT = sourcePath('test/smtp/fixtures/attachment.bin');
const NOW = new Date(Date.UTC(2024, 1, 29, 7, 5, 9));

async function chunksOf(source: MessageSource, context?: ComposeContext): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of messageStream(source, context)) chunks.push(Buffer.from(chunk));
  return chunks;
}

async function text(source: MessageSource, context?: ComposeContext): Promise<string> {
  return Buffer.concat(await chunksOf(source, context)).toString('utf8');
}

type Compose = Extract<MessageSource, { kind: 'compose' }>;
function compose(overrides: Partial<Compose> = {}): Compose {
  return { kind: 'compose', headers: [['Subject', 'hello']], body: 'Hi.\n', attachments: [], ...overrides };
}

/** Splits `Name: value` lines (folded lines joined) of a header block. */
function headersOf(block: string): [string, string][] {
  return block
    .replace(/\r\n[ \t]/g, ' ')
    .split('\r\n')
    .filter((line) => line !== '')
    .map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon), line.slice(colon + 1).trim()];
    });
}

function header(headers: [string, string][], name: string): string | undefined {
  return headers.find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
}

function decodeEncodedWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?B\?([^?]*)\?=/g, (_match, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));
}

describe('text messages', () => {
  test('every line ending becomes CRLF and the last line is ended', async () => {
    assert.equal(await text({ kind: 'text', text: 'a\nb\r\nc\rd\n\ne' }), 'a\r\nb\r\nc\r\nd\r\n\r\ne\r\n');
    assert.equal(await text({ kind: 'text', text: 'ends\r' }), 'ends\r\n');
    assert.equal(await text({ kind: 'text', text: '.dot\n' }), '.dot\r\n', 'no dot-stuffing here');
    assert.deepEqual(await chunksOf({ kind: 'text', text: '' }), []);
  });

  test('text with captures is resolved through the context, and refused without a resolver', async () => {
    const source: MessageSource = { kind: 'text', text: { parts: ['Queue id: ', { capture: 'id' }, '\n'] } };
    const resolveText = (value: RuntimeText): string =>
      typeof value === 'string' ? value : value.parts.map((part) => (typeof part === 'string' ? part : `<${part.capture}>`)).join('');
    assert.equal(await text(source, { resolveText }), 'Queue id: <id>\r\n');
    await assert.rejects(text(source), MessageError);
  });
});

describe('file messages', () => {
  const expected =
    'Subject: line endings\r\n\r\nCRLF line\r\nLF line\r\nCR line\r\nblank lines follow\r\n\r\n\r\n\r\nKöln last line without an end\r\n';

  test('a file is streamed in chunks with CRLF line endings, also when CR and LF fall in different chunks', async () => {
    const size = readFileSync(MIXED).length;
    for (const readChunkBytes of [1, 2, 3, 7, 64, 65536]) {
      const chunks = await chunksOf({ kind: 'file', path: MIXED }, { readChunkBytes });
      assert.equal(Buffer.concat(chunks).toString('utf8'), expected, `chunks of ${readChunkBytes}`);
      if (readChunkBytes < size) assert.ok(chunks.length > 1, `more than one chunk with ${readChunkBytes}-byte reads`);
    }
  });

  test('the CR-then-LF seam is one line end, not two', () => {
    const normalizer = new CrlfNormalizer();
    const out = Buffer.concat([
      normalizer.push(Buffer.from('one\r')),
      normalizer.push(Buffer.from('\ntwo\r')),
      normalizer.push(Buffer.from('three')),
      normalizer.finish(),
    ]);
    assert.equal(out.toString(), 'one\r\ntwo\r\nthree\r\n');
  });

  test('a file of several default-sized reads, with a CRLF across the first read boundary, streams as normalised whole', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-message-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const endings = ['\r\n', '\n', '\r', '\r\n', '\n\r'];
    const lines = Array.from({ length: 12_000 }, (_, i) => `${i % 7 === 0 ? '.' : ''}${'x'.repeat((i * 37) % 90)}${endings[i % endings.length]}`);
    const head = Buffer.from(lines.join(''), 'latin1');
    // The default read is 256 KiB: its last byte is a CR, the next read starts with the LF.
    const boundary = 256 * 1024;
    const bytes = Buffer.concat([head.subarray(0, boundary - 1), Buffer.from('\r\n.after the seam\n'), head.subarray(boundary - 1)]);
    const path = join(dir, 'large.eml');
    await writeFile(path, bytes);
    const chunks = await chunksOf({ kind: 'file', path });
    assert.ok(chunks.length > 2, `${chunks.length} chunks`);
    assert.deepEqual(Buffer.concat(chunks), normalizeText(bytes.toString('latin1')));
  });

  test('a long file is read into the same few buffers over and over, not a new one for each chunk', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-message-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    // CRLF lines (chunks pass as they are read) and bare-LF lines (chunks the normaliser rewrites).
    const lines = Array.from({ length: 20_000 }, (_, i) => `${i % 10 === 0 ? '.' : ''}line ${i}${i % 2000 < 1000 ? '\r\n' : '\n'}`);
    const bytes = Buffer.from(lines.join(''), 'latin1');
    const path = join(dir, 'long.eml');
    await writeFile(path, bytes);
    const memory = new Set<ArrayBufferLike>();
    const copies: Buffer[] = [];
    for await (const chunk of messageStream({ kind: 'file', path }, { readChunkBytes: 4096 })) {
      memory.add(chunk.buffer);
      copies.push(Buffer.from(chunk));
    }
    assert.ok(copies.length > 50, `${copies.length} chunks`);
    assert.deepEqual(Buffer.concat(copies), normalizeText(bytes.toString('latin1')));
    // Two buffers read in turn, and the normaliser's own.
    assert.ok(memory.size <= 3, `${memory.size} buffers for ${copies.length} chunks`);
  });

  test('a missing file is a clear error on the first read', async () => {
    const path = sourcePath('test/smtp/fixtures/does-not-exist.eml');
    await assert.rejects(chunksOf({ kind: 'file', path }), (error: unknown) => {
      assert.ok(error instanceof MessageError);
      assert.equal(error.message, `cannot read message file "${path}": no such file`);
      return true;
    });
  });

  test('a directory is refused', async () => {
    const path = sourcePath('test/smtp/fixtures');
    await assert.rejects(chunksOf({ kind: 'file', path }), { message: `cannot read message file "${path}": it is a folder` });
  });

  test('a FIFO or a device is refused by its type, never waited on or read', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-fifo-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const fifo = join(dir, 'message.eml');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(chunksOf({ kind: 'file', path: fifo }), { message: `cannot read message file "${fifo}": not a regular file (a FIFO)` });
    const compose = { kind: 'compose' as const, headers: [], body: 'x', attachments: [{ path: '/dev/zero', filename: 'zero', contentType: 'application/octet-stream' }] };
    await assert.rejects(chunksOf(compose), { message: 'cannot read attachment "/dev/zero": not a regular file (a character device)' });
  });
});

describe('composed messages', () => {
  test('headers keep their order; Date, Message-ID and MIME-Version are added; the body is 7bit text', async () => {
    const message = await text(
      compose({ headers: [['From', 'a@x.test'], ['To', 'b@y.test'], ['Subject', 'plain']], body: 'line 1\nline 2' }),
      { now: NOW, hostname: 'client.test' },
    );
    const [head = '', body] = message.split('\r\n\r\n');
    assert.equal(body, 'line 1\r\nline 2\r\n');
    const headers = headersOf(head);
    assert.deepEqual(headers.map(([name]) => name), ['From', 'To', 'Subject', 'Date', 'Message-ID', 'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding']);
    assert.equal(header(headers, 'Date'), 'Thu, 29 Feb 2024 07:05:09 +0000');
    assert.match(header(headers, 'Message-ID') ?? '', /^<[0-9a-f]{32}@client\.test>$/);
    assert.equal(header(headers, 'MIME-Version'), '1.0');
    assert.equal(header(headers, 'Content-Type'), 'text/plain; charset=utf-8');
    assert.equal(header(headers, 'Content-Transfer-Encoding'), '7bit');
  });

  test('dates are RFC 5322 date-times in UTC', () => {
    assert.equal(formatDate(new Date(Date.UTC(2003, 6, 1, 8, 52, 37))), 'Tue, 01 Jul 2003 08:52:37 +0000');
  });

  test('Message-IDs differ and default to smtpspec.invalid', () => {
    const first = header(headersOf(composeHeaders(compose()).join('\r\n')), 'Message-ID');
    const second = header(headersOf(composeHeaders(compose()).join('\r\n')), 'Message-ID');
    assert.match(first ?? '', /@smtpspec\.invalid>$/);
    assert.notEqual(first, second);
  });

  test('Date, Message-ID and MIME-Version given in any case are kept and not added twice', () => {
    const head = composeHeaders(
      compose({ headers: [['date', 'Mon, 1 Jan 2024 00:00:00 +0100'], ['MESSAGE-ID', '<fixed@x.test>'], ['Mime-Version', '1.0']] }),
      { now: NOW },
    );
    assert.deepEqual(head, ['date: Mon, 1 Jan 2024 00:00:00 +0100', 'MESSAGE-ID: <fixed@x.test>', 'Mime-Version: 1.0']);
  });

  test('non-ASCII header values become UTF-8 B encoded-words that decode back', () => {
    assert.equal(encodeHeaderValue('plain ascii'), 'plain ascii');
    const subject = 'Grüße aus Köln';
    const encoded = encodeHeaderValue(subject);
    assert.match(encoded, /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?= aus =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
    assert.equal(decodeEncodedWords(encoded), subject);
    // Adjacent non-ASCII words are encoded together so the space between them survives decoding.
    const from = 'Jörg Müller <jm@x.test>';
    const encodedFrom = encodeHeaderValue(from);
    assert.ok(encodedFrom.endsWith(' <jm@x.test>'), encodedFrom);
    assert.equal(decodeEncodedWords(encodedFrom), from);
  });

  test('a long non-ASCII value is split into encoded-words of at most 75 characters, never inside a character', () => {
    const subject = 'Привет, это довольно длинная тема письма с эмодзи 🎉🎉🎉 и кириллицей';
    const encoded = encodeHeaderValue(subject, 'Subject: '.length);
    const words = encoded.match(/=\?UTF-8\?B\?[^?]*\?=/g) ?? [];
    assert.ok(words.length > 2, encoded);
    for (const word of words) {
      assert.ok(word.length <= 75, word);
      const bytes = Buffer.from(word.slice(10, -2), 'base64');
      assert.equal(Buffer.from(bytes.toString('utf8'), 'utf8').compare(bytes), 0, 'each word holds whole characters');
    }
    assert.equal(decodeEncodedWords(encoded.replace(/\r\n /g, ' ')), subject);
    for (const line of `Subject: ${encoded}`.split('\r\n')) assert.ok(line.length <= 78, line);
  });

  test('a non-ASCII body is sent as 8bit', async () => {
    const message = await text(compose({ body: 'Grüße\n' }));
    assert.match(message, /\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n$/);
  });

  test('headers that would break the message are refused', () => {
    assert.throws(() => composeHeaders(compose({ headers: [['Subject', 'a\r\nBcc: x@y.test']] })), {
      name: 'MessageError',
      message: 'header "Subject" contains a line break',
    });
    assert.throws(() => composeHeaders(compose({ headers: [['Bad Name', 'x']] })), /invalid header name "Bad Name"/);
    assert.throws(() => composeHeaders(compose({ headers: [['content-type', 'text/html']] })), /sets its own Content-Type/);
  });

  test('an attachment is a base64 part of multipart/mixed that decodes back to the file', async () => {
    const message = await text(
      compose({
        headers: [['Subject', 'with attachment']],
        body: 'See the attachment.\n',
        attachments: [{ path: ATTACHMENT, filename: 'data "1".bin', contentType: 'application/octet-stream' }],
      }),
      { now: NOW, readChunkBytes: 100 },
    );
    const parsed = parseMultipart(message);
    assert.equal(header(parsed.headers, 'Subject'), 'with attachment');
    assert.equal(parsed.parts.length, 2);
    const [body, attachment] = parsed.parts;
    assert.equal(header(body?.headers ?? [], 'Content-Type'), 'text/plain; charset=utf-8');
    assert.equal(body?.content, 'See the attachment.');
    assert.equal(header(attachment?.headers ?? [], 'Content-Type'), 'application/octet-stream; name="data \\"1\\".bin"');
    assert.equal(header(attachment?.headers ?? [], 'Content-Disposition'), 'attachment; filename="data \\"1\\".bin"');
    assert.equal(header(attachment?.headers ?? [], 'Content-Transfer-Encoding'), 'base64');
    const base64Lines = (attachment?.content ?? '').split('\r\n');
    assert.ok(base64Lines.slice(0, -1).every((line) => line.length === 76), 'full 76-character lines');
    assert.ok((base64Lines.at(-1)?.length ?? 0) <= 76);
    assert.deepEqual(Buffer.from(base64Lines.join(''), 'base64'), readFileSync(ATTACHMENT));
  });

  test('a non-ASCII attachment name uses an RFC 2231 parameter', async () => {
    const message = await text(compose({ attachments: [{ path: ATTACHMENT, filename: 'résumé.pdf', contentType: 'application/pdf' }] }));
    const attachment = parseMultipart(message).parts[1];
    assert.equal(header(attachment?.headers ?? [], 'Content-Disposition'), "attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf");
  });

  test('a missing attachment fails before any byte is produced', async () => {
    const path = sourcePath('test/smtp/fixtures/missing.pdf');
    const iterator = messageStream(compose({ attachments: [{ path, filename: 'x.pdf', contentType: 'application/pdf' }] }))[Symbol.asyncIterator]();
    await assert.rejects(iterator.next(), { name: 'MessageError', message: `cannot read attachment "${path}": no such file` });
  });
});

describe('a composed message sent to smtp-server', () => {
  test('arrives with its attachment intact', async () => {
    const server = await startTestServer({ name: 'mx.test' });
    after(() => server.close());
    const connection = await connect({ host: server.host, port: server.port, timeoutMs: TIMEOUT_MS });
    after(() => connection.close());
    const command = async (line: string): Promise<number> => {
      await connection.sendLine(line);
      return (await connection.readReply(TIMEOUT_MS)).code;
    };
    assert.equal((await connection.readReply(TIMEOUT_MS)).code, 220);
    assert.equal(await command('EHLO client.test'), 250);
    assert.equal(await command('MAIL FROM:<a@client.test>'), 250);
    assert.equal(await command('RCPT TO:<b@mx.test>'), 250);
    assert.equal(await command('DATA'), 354);
    const source = compose({
      headers: [['From', 'Zoë <a@client.test>'], ['Subject', 'Übersicht']],
      body: '.a line starting with a dot\nGrüße\n',
      attachments: [{ path: ATTACHMENT, filename: 'attachment.bin', contentType: 'application/octet-stream' }],
    });
    await connection.sendData(await text(source));
    assert.equal((await connection.readReply(TIMEOUT_MS)).code, 250);

    const received = server.messages.at(-1);
    assert.ok(received);
    const parsed = parseMultipart(received.body);
    assert.equal(decodeEncodedWords(header(parsed.headers, 'Subject') ?? ''), 'Übersicht');
    assert.equal(parsed.parts[0]?.content, '.a line starting with a dot\r\nGrüße');
    const base64 = (parsed.parts[1]?.content ?? '').replace(/\r\n/g, '');
    assert.deepEqual(Buffer.from(base64, 'base64'), readFileSync(ATTACHMENT));
  });
});

interface Part {
  headers: [string, string][];
  content: string;
}

/** A minimal multipart/mixed reader for the messages composed here. */
function parseMultipart(message: string): { headers: [string, string][]; parts: Part[] } {
  const split = message.indexOf('\r\n\r\n');
  const headers = headersOf(message.slice(0, split));
  const boundary = /boundary="([^"]+)"/.exec(header(headers, 'Content-Type') ?? '')?.[1];
  assert.ok(boundary, 'a boundary');
  const body = message.slice(split + 4);
  const closing = `\r\n--${boundary}--\r\n`;
  assert.ok(body.endsWith(closing), 'ends with the closing delimiter');
  const sections = body.slice(0, -closing.length).split(`\r\n--${boundary}\r\n`);
  assert.ok(sections[0]?.startsWith(`--${boundary}\r\n`), 'starts with a delimiter');
  sections[0] = (sections[0] ?? '').slice(`--${boundary}\r\n`.length);
  const parts = sections.map((section) => {
    const end = section.indexOf('\r\n\r\n');
    return { headers: headersOf(section.slice(0, end)), content: section.slice(end + 4) };
  });
  return { headers, parts };
}
