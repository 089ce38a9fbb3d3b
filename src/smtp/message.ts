import { randomBytes } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { CrlfNormalizer } from './dot-stuff.js';
import { LIMITS, OPEN_FLAGS, problemOf, problemText, shortPath, typeProblem } from '../read-file.js';

export { CrlfNormalizer } from './dot-stuff.js';

/**
 * Messages to send after DATA (or with BDAT), produced as a stream of bytes with CRLF line
 * endings and ending in CRLF, before dot-stuffing. Files are streamed, never read whole.
 */

/**
 * Text whose final value is known only while the session runs, because it uses a variable
 * captured from an earlier reply. Plain strings need no resolving.
 */
export type RuntimeText = string | { parts: (string | { capture: string })[] };

/** A message to send after a 354 (or with BDAT). */
export type MessageSource =
  /** Literal text; LF becomes CRLF. */
  | { kind: 'text'; text: RuntimeText }
  /** A file streamed from disk (absolute path), never read whole into memory. */
  | { kind: 'file'; path: string }
  /** Headers and body (and attachments as MIME parts); Date and Message-ID are added when absent. */
  | {
      kind: 'compose';
      headers: [name: string, value: string][];
      body: string;
      attachments: { path: string; filename: string; contentType: string }[];
    };

export interface ComposeContext {
  /** The time for a Date header the message lacks; default: now. */
  now?: Date;
  /** The domain of a generated Message-ID; default `smtpspec.invalid`. */
  hostname?: string;
  /** Resolves text that uses captured variables; plain strings need no resolving. */
  resolveText?(text: RuntimeText): string;
  /** Bytes read from a file at a time; default 256 KiB. */
  readChunkBytes?: number;
  /**
   * The transaction was opened with SMTPUTF8 (RFC 6531 §3.4): address header fields carry UTF-8 as it is
   * (RFC 6532 §3.2). Without it, only their display names are encoded: an encoded-word is never an address (RFC 2047 §5).
   */
  utf8Headers?: boolean;
  /**
   * A message file's bytes come as they are in the file, line endings included: for a consumer that puts
   * every line ending right itself (DATA's dot-stuffing does), a second pass over each byte would be waste.
   */
  rawFileLines?: boolean;
}

/** A message that cannot be produced: a missing file, a header that would break the message. */
export class MessageError extends Error {
  override name = 'MessageError';
}

type ComposeSource = Extract<MessageSource, { kind: 'compose' }>;
type Attachment = ComposeSource['attachments'][number];

export const DEFAULT_MESSAGE_ID_HOST = 'smtpspec.invalid';
/** Fewer, larger reads: each chunk passes through several awaits on its way to the socket. */
const DEFAULT_READ_CHUNK_BYTES = 256 * 1024;
/** 57 bytes encode to one 76-character base64 line (RFC 2045 §6.8). */
const BASE64_LINE_BYTES = 57;
/** RFC 2047 §2: an encoded-word is at most 75 characters; `=?UTF-8?B?` and `?=` take 12 of them. */
const ENCODED_WORD_OVERHEAD = 12;
/** 45 bytes are 60 base64 characters: 72 with the overhead, the most that fits in 75. */
const ENCODED_WORD_BYTES = 45;
const MAX_LINE_CHARS = 78;
/** Header fields whose values are addresses (RFC 5322 §3.6.2, §3.6.3, §3.6.6). */
const ADDRESS_HEADERS = new Set(['from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'resent-from', 'resent-sender', 'resent-to', 'resent-cc', 'resent-bcc']);

/**
 * The message bytes. Errors (a missing file, an unusable header) surface on the first read,
 * before any byte is produced, so a message is never sent half-way because of them.
 */
export function messageStream(source: MessageSource, context: ComposeContext = {}): AsyncIterable<Uint8Array> {
  switch (source.kind) {
    case 'text':
      return textStream(source.text, context);
    case 'file':
      return fileStream(source.path, context);
    case 'compose':
      return composeStream(source, context);
  }
}

function resolve(text: RuntimeText, context: ComposeContext): string {
  if (typeof text === 'string') return text;
  if (!context.resolveText) throw new MessageError('the message uses captured variables, but nothing resolves them');
  return context.resolveText(text);
}

/** Text with CRLF line endings, ending in CRLF unless empty. */
export function normalizeText(text: string): Buffer {
  const normalizer = new CrlfNormalizer();
  return Buffer.concat([normalizer.push(Buffer.from(text, 'utf8')), normalizer.finish()]);
}

async function* textStream(text: RuntimeText, context: ComposeContext): AsyncGenerator<Uint8Array> {
  const bytes = normalizeText(resolve(text, context));
  if (bytes.length > 0) yield bytes;
}

async function* fileStream(path: string, context: ComposeContext): AsyncGenerator<Uint8Array> {
  const handle = await openFile(path, 'message file');
  if (context.rawFileLines) {
    try {
      yield* readChunks(handle, path, 'message file', context);
    } finally {
      await handle.close();
    }
    return;
  }
  try {
    // Each chunk is valid until the next is asked for, as the chunks read are.
    const normalizer = new CrlfNormalizer({ reuseOutput: true });
    for await (const chunk of readChunks(handle, path, 'message file', context)) {
      const out = normalizer.push(chunk);
      if (out.length > 0) yield out;
    }
    const end = normalizer.finish();
    if (end.length > 0) yield end;
  } finally {
    await handle.close();
  }
}

async function openFile(path: string, what: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    // Opened without blocking: a FIFO or a device is refused by its type, never waited on.
    handle = await open(path, OPEN_FLAGS);
  } catch (error) {
    throw readError(error, path, what);
  }
  const problem = typeProblem(await handle.stat(), LIMITS.message);
  if (problem === undefined) return handle;
  await handle.close();
  throw new MessageError(`cannot read ${what} "${shortPath(path)}": ${problemText(problem)}`);
}

/**
 * The file's bytes, read into two buffers used in turn: the next read runs while the last chunk is sent,
 * and no buffer is allocated per chunk, so memory stays flat whatever the size of the file.
 * A chunk is valid until the next one is asked for.
 */
async function* readChunks(handle: FileHandle, path: string, what: string, context: ComposeContext): AsyncGenerator<Buffer> {
  const size = context.readChunkBytes ?? DEFAULT_READ_CHUNK_BYTES;
  const buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)] as const;
  // The limit holds for a file that grows while it is sent, too.
  const maxBytes = LIMITS.message.maxBytes;
  let position = 0;
  let turn = 0;
  const read = (buffer: Buffer): Promise<Buffer> =>
    handle.read(buffer, 0, Math.min(size, maxBytes - position), position).then(
      ({ bytesRead }) => buffer.subarray(0, bytesRead),
      (error: unknown) => Promise.reject(readError(error, path, what)),
    );
  let next: Promise<Buffer> | undefined = read(buffers[0]);
  try {
    while (next) {
      const chunk = await next;
      next = undefined;
      if (chunk.length === 0) return;
      position += chunk.length;
      turn = 1 - turn;
      if (position < maxBytes) next = read(buffers[turn]!);
      yield chunk;
    }
  } finally {
    // A read still under way ends before the file is closed; its failure no longer matters.
    await next?.catch(() => undefined);
  }
}

function readError(error: unknown, path: string, what: string): MessageError {
  return new MessageError(`cannot read ${what} "${shortPath(path)}": ${problemText(problemOf(error))}`);
}

// ---------------------------------------------------------------------------------------------
// compose

async function* composeStream(source: ComposeSource, context: ComposeContext): AsyncGenerator<Uint8Array> {
  const head = composeHeaders(source, context);
  // Every attachment is opened before the first byte, so a missing one fails the message up front.
  const handles: FileHandle[] = [];
  try {
    for (const attachment of source.attachments) handles.push(await openFile(attachment.path, 'attachment'));
    const body = normalizeText(source.body);
    const bodyHeaders = [`Content-Type: text/plain; charset=utf-8`, `Content-Transfer-Encoding: ${isAscii(body) ? '7bit' : '8bit'}`];
    if (source.attachments.length === 0) {
      yield Buffer.concat([lines([...head, ...bodyHeaders, '']), body]);
      return;
    }
    const boundary = `=_${randomBytes(12).toString('hex')}`;
    yield lines([...head, `Content-Type: multipart/mixed; boundary="${boundary}"`, '']);
    yield Buffer.concat([lines([`--${boundary}`, ...bodyHeaders, '']), body]);
    for (const [index, attachment] of source.attachments.entries()) {
      yield lines([`--${boundary}`, ...attachmentHeaders(attachment), '']);
      yield* base64Lines(readChunks(handles[index] as FileHandle, attachment.path, 'attachment', context));
    }
    yield lines([`--${boundary}--`]);
  } finally {
    await Promise.all(handles.map((handle) => handle.close()));
  }
}

/** The top-level header lines: the scenario's in order, then Date, Message-ID and MIME-Version when absent. */
export function composeHeaders(source: ComposeSource, context: ComposeContext = {}): string[] {
  const present = new Set(source.headers.map(([name]) => name.toLowerCase()));
  for (const reserved of ['content-type', 'content-transfer-encoding']) {
    if (present.has(reserved)) {
      throw new MessageError(`a composed message sets its own ${reserved === 'content-type' ? 'Content-Type' : 'Content-Transfer-Encoding'}; send a text or file message for another MIME structure`);
    }
  }
  const head = source.headers.map(([name, value]) => headerLine(name, value, context.utf8Headers === true));
  if (!present.has('date')) head.push(`Date: ${formatDate(context.now ?? new Date())}`);
  if (!present.has('message-id')) head.push(`Message-ID: <${randomBytes(16).toString('hex')}@${context.hostname ?? DEFAULT_MESSAGE_ID_HOST}>`);
  if (!present.has('mime-version')) head.push('MIME-Version: 1.0');
  return head;
}

function headerLine(name: string, value: string, utf8Headers: boolean): string {
  if (!/^[!-9;-~]+$/.test(name)) throw new MessageError(`invalid header name ${JSON.stringify(name)}`);
  if (/[\r\n]/.test(value)) throw new MessageError(`header "${name}" contains a line break`);
  if (!ADDRESS_HEADERS.has(name.toLowerCase())) return `${name}: ${encodeHeaderValue(value, name.length + 2)}`;
  return `${name}: ${utf8Headers ? value : encodeHeaderValue(value, name.length + 2, isAddressToken)}`;
}

/** A word of an address header that is (part of) an address rather than of a display name. */
const isAddressToken = (token: string): boolean => /[<>@]/.test(token);

/**
 * RFC 2047: each run of whitespace-separated words containing non-ASCII becomes UTF-8 B encoded-words.
 * Adjacent non-ASCII words are encoded together with the space between them, because decoders drop
 * whitespace between two encoded-words. `column` is where the value starts on its line (after `Name: `);
 * words for which `keep` holds stay as they are.
 */
export function encodeHeaderValue(value: string, column = 0, keep: (word: string) => boolean = () => false): string {
  if (isAscii(value)) return value;
  const tokens = value.split(/(\s+)/);
  const encodable = (word: string): boolean => !isAscii(word) && !keep(word);
  const out: string[] = [];
  let at = column;
  for (let i = 0; i < tokens.length; i++) {
    let token = tokens[i] as string;
    if (i % 2 === 0 && encodable(token)) {
      while (i + 2 < tokens.length && encodable(tokens[i + 2] as string)) {
        token += `${tokens[i + 1]}${tokens[i + 2]}`;
        i += 2;
      }
      token = encodedWords(token, at);
    }
    out.push(token);
    const fold = token.lastIndexOf('\r\n');
    at = fold === -1 ? at + token.length : token.length - fold - 2;
  }
  return out.join('');
}

/** One or more encoded-words folded onto lines of at most 78 characters; never splits a character. */
function encodedWords(text: string, column: number): string {
  const words: string[] = [];
  let chunk: Buffer[] = [];
  let size = 0;
  // The first word fills what is left of the current line; later ones start after the folding space.
  let budget = wordBudget(column);
  const flush = (): void => {
    words.push(`=?UTF-8?B?${Buffer.concat(chunk).toString('base64')}?=`);
    chunk = [];
    size = 0;
    budget = ENCODED_WORD_BYTES;
  };
  for (const char of text) {
    const bytes = Buffer.from(char, 'utf8');
    if (size + bytes.length > budget && size > 0) flush();
    chunk.push(bytes);
    size += bytes.length;
  }
  if (size > 0) flush();
  return words.join('\r\n ');
}

/** Bytes that fit in one encoded-word starting at `column` (RFC 5322 §2.1.1: lines SHOULD stay within 78). */
function wordBudget(column: number): number {
  const bytes = Math.floor((MAX_LINE_CHARS - column - ENCODED_WORD_OVERHEAD) / 4) * 3;
  // Too little room for even one character: accept a longer first line rather than an empty word.
  return bytes < 4 ? ENCODED_WORD_BYTES : Math.min(bytes, ENCODED_WORD_BYTES);
}

/** RFC 5322 §3.3 date-time in UTC: `Tue, 01 Jul 2003 08:52:37 +0000`. */
export function formatDate(date: Date): string {
  // toUTCString gives `Tue, 01 Jul 2003 08:52:37 GMT`; GMT is an obsolete zone name (RFC 5322 §4.3).
  return date.toUTCString().replace(/GMT$/, '+0000');
}

function attachmentHeaders(attachment: Attachment): string[] {
  const { filename, contentType } = attachment;
  if (/[\r\n]/.test(contentType) || !isAscii(contentType)) throw new MessageError(`invalid content type ${JSON.stringify(contentType)}`);
  if (/[\r\n]/.test(filename)) throw new MessageError(`attachment file name ${JSON.stringify(filename)} contains a line break`);
  return [
    `Content-Type: ${contentType}; ${parameter('name', filename)}`,
    `Content-Disposition: attachment; ${parameter('filename', filename)}`,
    'Content-Transfer-Encoding: base64',
  ];
}

/** A MIME parameter: a quoted string, or RFC 2231 `name*=utf-8''…` for non-ASCII values. */
function parameter(name: string, value: string): string {
  if (isAscii(value)) return `${name}="${value.replace(/[\\"]/g, '\\$&')}"`;
  const encoded = encodeURIComponent(value).replace(/['()*!]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${name}*=utf-8''${encoded}`;
}

/** Base64 in 76-character lines, each ending in CRLF, from chunks of any size. */
export async function* base64Lines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    const bytes = rest.length > 0 ? Buffer.concat([rest, chunk]) : Buffer.from(chunk);
    const whole = bytes.length - (bytes.length % BASE64_LINE_BYTES);
    rest = bytes.subarray(whole);
    if (whole > 0) yield encodeLines(bytes.subarray(0, whole));
  }
  if (rest.length > 0) yield encodeLines(rest);
}

function encodeLines(bytes: Buffer): Buffer {
  const parts: string[] = [];
  for (let offset = 0; offset < bytes.length; offset += BASE64_LINE_BYTES) {
    parts.push(bytes.subarray(offset, offset + BASE64_LINE_BYTES).toString('base64'), '\r\n');
  }
  return Buffer.from(parts.join(''), 'ascii');
}

function lines(texts: string[]): Buffer {
  return Buffer.from(texts.map((text) => `${text}\r\n`).join(''), 'utf8');
}

function isAscii(text: string | Buffer): boolean {
  if (typeof text === 'string') return /^[\x00-\x7f]*$/.test(text);
  return text.every((byte) => byte < 0x80);
}
