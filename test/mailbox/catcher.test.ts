import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { openCatcher } from '../../src/mailbox/catcher.js';
import { MailboxError, type CatcherMailbox } from '../../src/mailbox/types.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';
import { httpFake, sendJson, type HttpFake, type RecordedRequest } from '../helpers/http-fake.js';

const deadline = { timeoutMs: GENEROUS_MS };
/** Small, for servers that never answer: the test waits for the deadline, and asserts its kind, not its time. */
const short = { timeoutMs: 300 };

const isKind = (kind: string, pattern?: RegExp) => (error: unknown) => {
  assert.ok(error instanceof MailboxError, String(error));
  assert.equal(error.kind, kind, error.message);
  if (pattern) assert.match(error.message, pattern);
  assert.equal(error.message.split('\n').length, 1, 'one line');
  return true;
};

interface Stored {
  id: string;
  raw: string;
  created: string;
}

const raw = (id: string, body = 'Hello.') => `Received: from client\r\nMessage-ID: <${id}@test>\r\nSubject: ${id}\r\n\r\n${body}\r\n`;

function store(): Stored[] {
  return [
    { id: 'older1111', raw: raw('older'), created: '2026-12-07T10:00:01.000Z' },
    { id: 'newer2222', raw: raw('newer', 'x'.repeat(2000)), created: '2026-12-07T10:00:02.000Z' },
  ];
}

const query = (request: RecordedRequest) => new URL(request.url, 'http://fake').searchParams;
const newest = (messages: Stored[]) => [...messages].reverse();

function sendRaw(response: ServerResponse, message: Stored | undefined): void {
  if (!message) return void response.writeHead(404).end('message not found');
  response.writeHead(200, { 'content-type': 'message/rfc822' }).end(message.raw);
}

/** Answers as Mailpit's API v1 does (the shapes recorded from its answers). */
function mailpitFake(messages: Stored[]): Promise<HttpFake> {
  const summary = (message: Stored) => ({
    ID: message.id,
    MessageID: `${message.id.replace(/\d+$/, '')}@test`,
    Read: false,
    From: { Name: '', Address: 'sender@test' },
    To: [{ Name: '', Address: 'rcpt@test' }],
    Cc: [],
    Bcc: [],
    ReplyTo: [],
    Subject: message.id,
    Created: message.created,
    Username: '',
    Tags: [],
    Size: Buffer.byteLength(message.raw),
    Attachments: 0,
    Snippet: 'Hello.',
  });
  const list = (found: Stored[], limit: number) => ({ total: messages.length, unread: messages.length, count: found.length, messages_count: found.length, messages_unread: found.length, start: 0, tags: [], messages: newest(found).slice(0, limit).map(summary) });
  return httpFake((request, response) => {
    const path = new URL(request.url, 'http://fake').pathname;
    const limit = Number(query(request).get('limit') ?? 50);
    if (request.method === 'GET' && path === '/api/v1/messages') return sendJson(response, list(messages, limit));
    if (request.method === 'GET' && path === '/api/v1/search') {
      const id = /^message-id:"?([^"]*)"?$/.exec(query(request).get('query') ?? '')?.[1] ?? '\0';
      return sendJson(response, list(messages.filter((message) => summary(message).MessageID.includes(id)), limit));
    }
    const rawMatch = /^\/api\/v1\/message\/([^/]+)\/raw$/.exec(path);
    if (request.method === 'GET' && rawMatch) return sendRaw(response, messages.find((message) => message.id === rawMatch[1]));
    if (request.method === 'DELETE' && path === '/api/v1/messages') {
      const ids = (JSON.parse(request.body) as { IDs: string[] }).IDs;
      for (const id of ids) messages.splice(messages.findIndex((message) => message.id === id), 1);
      return void response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    }
    response.writeHead(404).end('404 page not found');
  });
}

/** Answers as MailHog's API v2 (lists) and v1 (single messages) do. */
function mailhogFake(messages: Stored[]): Promise<HttpFake> {
  const path = (address: string) => ({ Relays: null, Mailbox: address.split('@')[0], Domain: address.split('@')[1], Params: '' });
  const item = (message: Stored) => ({
    ID: message.id,
    From: path('sender@test'),
    To: [path('rcpt@test')],
    Content: { Headers: { 'Message-ID': [`<${message.id}@test>`], Subject: [message.id] }, Body: 'Hello.', Size: Buffer.byteLength(message.raw), MIME: null },
    Created: message.created,
    MIME: null,
    Raw: { From: 'sender@test', To: ['rcpt@test'], Data: message.raw, Helo: 'client' },
  });
  const list = (found: Stored[], limit: number) => ({ total: found.length, count: Math.min(limit, found.length), start: 0, items: newest(found).slice(0, limit).map(item) });
  return httpFake((request, response) => {
    const url = new URL(request.url, 'http://fake');
    const limit = Number(url.searchParams.get('limit') ?? 50);
    if (request.method === 'GET' && url.pathname === '/api/v2/messages') return sendJson(response, list(messages, limit));
    if (request.method === 'GET' && url.pathname === '/api/v2/search') {
      assert.equal(url.searchParams.get('kind'), 'containing');
      const text = url.searchParams.get('query') ?? '\0';
      return sendJson(response, list(messages.filter((message) => message.raw.includes(text)), limit));
    }
    const one = /^\/api\/v1\/messages\/([^/]+)(\/download)?$/.exec(url.pathname);
    if (one && request.method === 'GET' && one[2]) return sendRaw(response, messages.find((message) => message.id === one[1]));
    if (one && request.method === 'DELETE' && !one[2]) {
      messages.splice(messages.findIndex((message) => message.id === one[1]), 1);
      return void response.writeHead(200).end();
    }
    response.writeHead(404).end('404 page not found');
  });
}

for (const kind of ['mailpit', 'mailhog'] as const) {
  describe(`${kind} mailbox`, () => {
    let fake: HttpFake;
    let messages: Stored[];
    before(async () => {
      messages = store();
      fake = await (kind === 'mailpit' ? mailpitFake : mailhogFake)(messages);
    });
    after(() => fake.close());

    test('lists newest first with each header section and size, and reads a message whole', async () => {
      const session = await openCatcher({ kind, url: fake.url }, deadline);
      assert.deepEqual(await session.folders(), ['INBOX']);
      const list = await session.list(['INBOX'], { limit: 10 });
      assert.deepEqual(
        list.map((entry) => entry.id),
        ['newer2222', 'older1111'],
      );
      assert.equal(list[0]!.header.toString(), 'Received: from client\r\nMessage-ID: <newer@test>\r\nSubject: newer\r\n\r\n');
      assert.equal(list[0]!.size, Buffer.byteLength(raw('newer', 'x'.repeat(2000))));
      assert.equal(list[0]!.receivedAt?.toISOString(), '2026-12-07T10:00:02.000Z');
      assert.equal(list[0]!.folder, 'INBOX');
      assert.equal((await session.read(list[1]!, 100_000)).toString(), raw('older'));
      await assert.rejects(session.read(list[0]!, 100), isKind('too-big'));
      assert.deepEqual(
        (await session.list(['INBOX'], { limit: 1 })).map((entry) => entry.id),
        ['newer2222'],
      );
      await assert.rejects(session.list(['Junk'], { limit: 1 }), isKind('not-found'));
      await session.close();
    });

    test('asks the catcher to search for the Message-ID', async () => {
      const session = await openCatcher({ kind, url: fake.url }, deadline);
      const from = fake.requests.length;
      const found = await session.list(['INBOX'], { limit: 10, messageId: '<older@test>' });
      assert.deepEqual(
        found.map((entry) => entry.id),
        ['older1111'],
      );
      const asked = new URL(fake.requests[from]!.url, 'http://fake');
      assert.equal(asked.pathname, kind === 'mailpit' ? '/api/v1/search' : '/api/v2/search');
      assert.match(asked.searchParams.get('query') ?? '', /older@test/);
    });

    test('removes a message with the API call for one message, never all of them', async () => {
      const session = await openCatcher({ kind, url: fake.url }, deadline);
      const [newer] = await session.list(['INBOX'], { limit: 1 });
      const from = fake.requests.length;
      await session.remove(newer!);
      const call = fake.requests[from]!;
      assert.equal(call.method, 'DELETE');
      if (kind === 'mailpit') {
        assert.equal(call.url, '/api/v1/messages');
        assert.deepEqual(JSON.parse(call.body), { IDs: ['newer2222'] });
        assert.equal(call.headers['content-type'], 'application/json');
      } else {
        assert.equal(call.url, '/api/v1/messages/newer2222');
      }
      assert.deepEqual(
        messages.map((message) => message.id),
        ['older1111'],
      );
    });
  });
}

describe('catcher mailboxes that misbehave', () => {
  const fakes: HttpFake[] = [];
  after(() => Promise.all(fakes.map((fake) => fake.close())));
  const serve = async (handler: Parameters<typeof httpFake>[0]) => {
    const fake = await httpFake(handler);
    fakes.push(fake);
    return fake;
  };
  const settings = (fake: HttpFake, kind: CatcherMailbox['kind'] = 'mailpit'): CatcherMailbox => ({ kind, url: fake.url });

  test('a catcher that never answers fails with timeout', async () => {
    const fake = await serve(() => undefined);
    await assert.rejects(openCatcher(settings(fake), short), isKind('timeout', /no reply within 300 ms to GET \/api\/v1\/messages/));
  });

  test('a body that never ends fails with timeout', async () => {
    const fake = await serve((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"messages": [');
    });
    await assert.rejects(openCatcher(settings(fake, 'mailhog'), short), isKind('timeout'));
  });

  test('an HTML page is a protocol error with its status and a short printable excerpt', async () => {
    const fake = await serve((_, response) => response.writeHead(200, { 'content-type': 'text/html' }).end(`<html>\n<body>\u001b[31mLogin</body>${'x'.repeat(5000)}</html>`));
    await assert.rejects(openCatcher(settings(fake), deadline), (error: unknown) => {
      isKind('protocol', /200 OK \(not JSON\): "<html> <body> \[31mLogin<\/body>x+"$/)(error);
      assert.ok((error as Error).message.length < 300, (error as Error).message);
      return true;
    });
  });

  test('a 500 is a protocol error with its status', async () => {
    const fake = await serve((_, response) => response.writeHead(500, { 'content-type': 'text/plain' }).end('database is locked'));
    await assert.rejects(openCatcher(settings(fake, 'mailhog'), deadline), isKind('protocol', /answered 500 Internal Server Error: "database is locked"/));
  });

  test('JSON of the wrong shape is a protocol error', async () => {
    const fake = await serve((_, response) => sendJson(response, { messages: 'none' }));
    await assert.rejects(openCatcher(settings(fake), deadline), isKind('protocol', /not a list of messages/));
    const hog = await serve((_, response) => sendJson(response, { items: [{ ID: 7 }] }));
    await assert.rejects(openCatcher(settings(hog, 'mailhog'), deadline), isKind('protocol', /not a message/));
  });

  test('a body that says it is 5 GB is too-big at once; one that runs on past the limit is too-big', async () => {
    const huge = await serve((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(5 * 1024 ** 3) });
      response.write('{"messages": [');
    });
    await assert.rejects(openCatcher(settings(huge), deadline), isKind('too-big'));
    const endless = await serve((_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      const pump = () => {
        while (!response.destroyed && response.write(chunk));
      };
      response.on('drain', pump);
      pump();
    });
    await assert.rejects(openCatcher(settings(endless, 'mailhog'), deadline), isKind('too-big'));
  });

  test('a refused connection is kind connect', async () => {
    const gone = await httpFake(() => undefined);
    const url = gone.url;
    await gone.close();
    await assert.rejects(openCatcher({ kind: 'mailpit', url }, deadline), isKind('connect'));
  });

  test('an aborted run stops a request at once with kind aborted', async () => {
    const fake = await serve(() => undefined);
    const controller = new AbortController();
    const opening = openCatcher(settings(fake), { timeoutMs: GENEROUS_MS, signal: controller.signal });
    await fake.requestsReached(1);
    controller.abort();
    await assert.rejects(opening, isKind('aborted'));
  });

  test('sends basic authentication, and never shows the password even when the catcher echoes it back', async () => {
    const password = 'pw-Unique-7f3a9c!';
    const forms = [password, Buffer.from(password).toString('base64'), Buffer.from(`alice:${password}`).toString('base64'), encodeURIComponent(password)];
    const fake = await serve((request, response) => response.writeHead(401, `Unauthorized ${password}`).end(`bad credentials: ${request.headers.authorization} ${password} ${forms.join(' ')}`));
    let message = '';
    await assert.rejects(openCatcher({ kind: 'mailpit', url: fake.url, user: 'alice', password }, deadline), (error: unknown) => {
      isKind('protocol', /401/)(error);
      message = (error as Error).message + String((error as Error).stack);
      return true;
    });
    assert.equal(fake.requests[0]!.headers.authorization, `Basic ${Buffer.from(`alice:${password}`).toString('base64')}`);
    for (const form of forms) assert.ok(!message.includes(form), `${form} in ${message}`);
    const inUrl = await serve(() => undefined);
    await assert.rejects(openCatcher({ kind: 'mailhog', url: inUrl.url.replace('//', `//alice:${encodeURIComponent(password)}@`) }, short), (error: unknown) => {
      isKind('timeout')(error);
      assert.ok(!(error as Error).message.includes(encodeURIComponent(password)) && !(error as Error).message.includes('alice:'), (error as Error).message);
      return true;
    });
    assert.equal(inUrl.requests[0]!.headers.authorization, `Basic ${Buffer.from(`alice:${password}`).toString('base64')}`);
  });
});
