import { headerOf, HEADER_MAX, headerEnd } from './header-section.js';
import { describeMailbox, MailboxError, type CatcherMailbox, type MailboxDeadline, type MailboxEntry, type MailboxSession } from './types.js';

/**
 * The HTTP APIs of the developers' mail catchers, each holding one mailbox (INBOX):
 *
 * Mailpit, API v1 (https://mailpit.axllent.org/docs/api-v1/, server/apiv1/ in axllent/mailpit):
 *   GET    /api/v1/messages?limit=N             {messages: [{ID, MessageID, Created, Size, …}], …}, newest first
 *   GET    /api/v1/search?query=…&limit=N       the same shape; `message-id:"…"` matches the Message-ID header
 *   GET    /api/v1/message/{ID}/raw             the message as received
 *   DELETE /api/v1/messages  {"IDs": ["…"]}     deletes those messages (and ALL messages when IDs is empty)
 *
 * MailHog, API v2 for lists (docs/APIv2 in mailhog/MailHog) and v1 for single messages (docs/APIv1.md):
 *   GET    /api/v2/messages?limit=N             {total, count, start, items: [{ID, Created, Content: {Headers, Size}, Raw: {Data}}]}
 *   GET    /api/v2/search?kind=containing&query=…&limit=N   the same shape
 *   GET    /api/v1/messages/{id}/download       the message as received
 *   DELETE /api/v1/messages/{id}                deletes it
 */

const INBOX = 'INBOX';
/** The most a list answer may hold: MailHog's carries each message whole. */
const LIST_MAX = 64 * 1024 * 1024;

/** One answer of the API, read within its limit. */
interface Answer {
  status: number;
  statusText: string;
  body: Buffer;
}

interface Request {
  method?: 'GET' | 'DELETE';
  path: string;
  json?: unknown;
  /** The most bytes the answer may have: more is a 'too-big' error ... */
  maxBytes: number;
  /** ... unless the answer is only read up to the end of a message's header section (at most HEADER_MAX). */
  headerOnly?: boolean;
}

/** The catcher's URL without any user or password written in it. */
function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, '$1');
}

export async function openCatcher(settings: CatcherMailbox, deadline: MailboxDeadline): Promise<MailboxSession> {
  const name = describeMailbox({ ...settings, url: withoutCredentials(settings.url) });
  let base: URL;
  try {
    base = new URL(settings.url);
  } catch {
    throw new MailboxError('connect', `${name}: the URL is not a valid http:// or https:// URL.`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new MailboxError('connect', `${name}: the URL is not a valid http:// or https:// URL.`);
  const user = settings.user ?? decodeURIComponent(base.username);
  const password = settings.password ?? decodeURIComponent(base.password);
  base.username = '';
  base.password = '';
  const prefix = base.href.replace(/\/+$/, '');
  const authorization = user !== '' || password !== '' ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` : undefined;
  /** What a hostile catcher could echo back of the credentials, in the forms they travel in. */
  const secrets = password === '' ? [] : [password, Buffer.from(password).toString('base64'), encodeURIComponent(password), authorization!.slice('Basic '.length)];
  const scrub = (text: string) => secrets.reduce((clean, secret) => clean.split(secret).join('…'), text);

  const call = async (request: Request): Promise<Answer> => {
    const method = request.method ?? 'GET';
    const what = `${method} ${request.path}`;
    const aborted = () => new MailboxError('aborted', `${name}: ${what} was interrupted`);
    if (deadline.signal?.aborted) throw aborted();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, deadline.timeoutMs);
    const onAbort = () => controller.abort();
    deadline.signal?.addEventListener('abort', onAbort, { once: true });
    const stopped = (error: unknown): MailboxError => {
      if (error instanceof MailboxError) return error;
      if (timedOut) return new MailboxError('timeout', `${name}: no reply within ${deadline.timeoutMs} ms to ${what}`);
      if (deadline.signal?.aborted) return aborted();
      const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
      const reason = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : String(error);
      return new MailboxError('connect', scrub(`${name}: ${what} failed: ${reason}`));
    };
    try {
      const headers: Record<string, string> = { accept: request.headerOnly ? '*/*' : 'application/json' };
      if (authorization) headers.authorization = authorization;
      if (request.json !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${prefix}${request.path}`, {
        method,
        headers,
        signal: controller.signal,
        redirect: 'manual',
        ...(request.json === undefined ? {} : { body: JSON.stringify(request.json) }),
      });
      const declared = Number(response.headers.get('content-length') ?? NaN);
      if (!request.headerOnly && declared > request.maxBytes) {
        await response.body?.cancel().catch(() => undefined);
        throw new MailboxError('too-big', `${name}: ${what} answered ${declared} bytes, more than the ${request.maxBytes} read.`);
      }
      const body = await readBody(response, request, () => new MailboxError('too-big', `${name}: ${what} answered more than the ${request.maxBytes} bytes read.`));
      return { status: response.status, statusText: response.statusText, body };
    } catch (error) {
      throw stopped(error);
    } finally {
      clearTimeout(timer);
      deadline.signal?.removeEventListener('abort', onAbort);
    }
  };

  /** A short, printable piece of an answer for a message. */
  const excerpt = (body: Buffer): string => {
    // Scrubbed whole first: a secret cut in two by the excerpt's end would not be recognised.
    const text = scrub(body.toString('utf8')).slice(0, 400).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g, ' ').trim();
    return JSON.stringify(text.slice(0, 100));
  };
  const protocol = (what: string, answer: Answer, why: string) =>
    new MailboxError('protocol', `${name}: ${what} answered ${answer.status}${answer.statusText ? ` ${scrub(answer.statusText)}` : ''}${why ? ` (${why})` : ''}: ${excerpt(answer.body)}`);
  const ok = (what: string, answer: Answer): Answer => {
    if (answer.status < 200 || answer.status > 299) throw protocol(what, answer, '');
    return answer;
  };
  const getJson = async (path: string): Promise<unknown> => {
    const answer = ok(`GET ${path}`, await call({ path, maxBytes: LIST_MAX }));
    try {
      return JSON.parse(answer.body.toString('utf8'));
    } catch {
      throw protocol(`GET ${path}`, answer, 'not JSON');
    }
  };
  const shapeError = (path: string, value: unknown, expected: string) =>
    protocol(`GET ${path}`, { status: 200, statusText: '', body: Buffer.from(JSON.stringify(value) ?? '') }, `not ${expected}`);

  const api = settings.kind === 'mailpit' ? mailpit : mailhog;
  const backend = api({ getJson, shapeError, call, ok });
  await backend.list(1, undefined);

  return {
    async folders() {
      return [INBOX];
    },
    async list(folders, options) {
      for (const folder of folders) if (folder !== INBOX) throw new MailboxError('not-found', `${name}: no folder ${JSON.stringify(folder)} (a mail catcher has INBOX only).`);
      if (!folders.includes(INBOX) || options.limit <= 0) return [];
      return backend.list(options.limit, options.messageId);
    },
    async read(entry, maxBytes) {
      if (entry.size > maxBytes) throw new MailboxError('too-big', `${name}: the message ${entry.id} is ${entry.size} bytes, more than the ${maxBytes} read.`);
      const path = backend.rawPath(entry.id);
      return ok(`GET ${path}`, await call({ path, maxBytes })).body;
    },
    async remove(entry) {
      await backend.remove(entry.id);
    },
    async close() {},
  };
}

/** An answer's body, at most request.maxBytes (or, headerOnly, up to the end of the header section). */
async function readBody(response: Response, request: Request, tooBig: () => MailboxError): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Buffer[] = [];
  let total = 0;
  const limit = request.headerOnly ? HEADER_MAX : request.maxBytes;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      total += value.byteLength;
      if (request.headerOnly && (total >= limit || headerEnd(Buffer.concat(chunks)) !== undefined)) break;
      if (total > limit) throw tooBig();
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const body = Buffer.concat(chunks, total);
  return request.headerOnly ? Buffer.from(headerOf(body)) : body;
}

interface Tools {
  getJson(path: string): Promise<unknown>;
  shapeError(path: string, value: unknown, expected: string): MailboxError;
  call(request: Request): Promise<Answer>;
  ok(what: string, answer: Answer): Answer;
}

interface Backend {
  list(limit: number, messageId: string | undefined): Promise<MailboxEntry[]>;
  rawPath(id: string): string;
  remove(id: string): Promise<void>;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Newest first by the catcher's own time, keeping its order where it gives none. */
function newestFirst(entries: MailboxEntry[]): MailboxEntry[] {
  const time = (entry: MailboxEntry) => entry.receivedAt?.getTime() ?? NaN;
  return entries.sort((a, b) => (Number.isNaN(time(a)) || Number.isNaN(time(b)) ? 0 : time(b) - time(a)));
}

function dateOf(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** A message id without its angle brackets, as the catchers store it. */
const bare = (messageId: string) => messageId.trim().replace(/^<(.*)>$/, '$1');

function mailpit(tools: Tools): Backend {
  const rawPath = (id: string) => `/api/v1/message/${encodeURIComponent(id)}/raw`;
  return {
    rawPath,
    async list(limit, messageId) {
      const id = messageId === undefined ? '' : bare(messageId);
      const path = id !== '' && !/["\s]/.test(id) ? `/api/v1/search?query=${encodeURIComponent(`message-id:"${id}"`)}&limit=${limit}` : `/api/v1/messages?limit=${limit}`;
      const answer = await tools.getJson(path);
      const messages = isObject(answer) ? answer.messages : undefined;
      if (!Array.isArray(messages)) throw tools.shapeError(path, answer, 'a list of messages');
      const entries: MailboxEntry[] = [];
      for (const message of messages.slice(0, limit)) {
        if (!isObject(message) || typeof message.ID !== 'string' || message.ID === '' || typeof message.Size !== 'number') throw tools.shapeError(path, message, 'a message summary');
        const headerPath = rawPath(message.ID);
        const header = tools.ok(`GET ${headerPath}`, await tools.call({ path: headerPath, maxBytes: HEADER_MAX, headerOnly: true })).body;
        const entry: MailboxEntry = { folder: INBOX, id: message.ID, header, size: message.Size };
        const created = dateOf(message.Created);
        if (created) entry.receivedAt = created;
        entries.push(entry);
      }
      return newestFirst(entries);
    },
    async remove(id) {
      // An empty list of IDs would delete every message: never sent.
      if (id === '') throw new MailboxError('not-found', 'mailpit: a message without an id cannot be removed.');
      const path = '/api/v1/messages';
      tools.ok(`DELETE ${path}`, await tools.call({ method: 'DELETE', path, json: { IDs: [id] }, maxBytes: 64 * 1024 }));
    },
  };
}

function mailhog(tools: Tools): Backend {
  return {
    rawPath: (id) => `/api/v1/messages/${encodeURIComponent(id)}/download`,
    async list(limit, messageId) {
      const id = messageId === undefined ? '' : bare(messageId);
      const path = id !== '' ? `/api/v2/search?kind=containing&query=${encodeURIComponent(id)}&limit=${limit}` : `/api/v2/messages?limit=${limit}`;
      const answer = await tools.getJson(path);
      const items = isObject(answer) ? answer.items : undefined;
      if (!Array.isArray(items)) throw tools.shapeError(path, answer, 'a list of messages');
      return newestFirst(
        items.slice(0, limit).map((item): MailboxEntry => {
          if (!isObject(item) || typeof item.ID !== 'string' || item.ID === '') throw tools.shapeError(path, item, 'a message');
          const raw = isObject(item.Raw) && typeof item.Raw.Data === 'string' ? Buffer.from(item.Raw.Data, 'utf8') : undefined;
          const content = isObject(item.Content) ? item.Content : {};
          const header = raw ? Buffer.from(headerOf(raw)) : headerFromFields(content.Headers);
          if (header === undefined) throw tools.shapeError(path, item, 'a message with its header');
          const entry: MailboxEntry = { folder: INBOX, id: item.ID, header, size: typeof content.Size === 'number' ? content.Size : (raw?.length ?? 0) };
          const created = dateOf(item.Created);
          if (created) entry.receivedAt = created;
          return entry;
        }),
      );
    },
    async remove(id) {
      const path = `/api/v1/messages/${encodeURIComponent(id)}`;
      tools.ok(`DELETE ${path}`, await tools.call({ method: 'DELETE', path, maxBytes: 64 * 1024 }));
    },
  };
}

/** A header section from MailHog's `{Name: [values]}` (its order within a name kept), when the raw message is missing. */
function headerFromFields(fields: unknown): Buffer | undefined {
  if (!isObject(fields)) return undefined;
  const lines: string[] = [];
  for (const [field, values] of Object.entries(fields)) {
    if (!Array.isArray(values)) return undefined;
    for (const value of values) if (typeof value === 'string') lines.push(`${field}: ${value}\r\n`);
  }
  return Buffer.from(`${lines.join('')}\r\n`).subarray(0, HEADER_MAX);
}
