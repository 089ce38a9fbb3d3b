import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { DotStuffer, dotStuff, floorSession, type FloorOptions } from '../../bench/floor-client.js';
import { startSink } from '../../bench/sink-server.js';
import net from 'node:net';
import { assertWaitedFor, GENEROUS_MS, PROMPTLY_MS } from '../helpers/deadlines.js';
import { fakeServer } from '../helpers/fake-server.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const envelope = { host: '127.0.0.1', from: 'a@example.test', to: 'b@example.test', timeoutMs: GENEROUS_MS } as const;

describe('dotStuff', () => {
  it('doubles dots that start a line, including one at the start of a chunk that starts a line', () => {
    assert.equal(dotStuff(Buffer.from('.a\r\nb\r\n.\r\n..c\r\n'), true).toString(), '..a\r\nb\r\n..\r\n...c\r\n');
    assert.equal(dotStuff(Buffer.from('.a\r\n'), false).toString(), '.a\r\n');
  });

  it('as a stream, knows whether a chunk starts a line, and ends the last line', async () => {
    const chunks = ['a\r\n', '.b\r', '\n', '.', 'c.'].map((text) => Buffer.from(text));
    const out: Buffer[] = [];
    for await (const chunk of Readable.from(chunks).pipe(new DotStuffer())) out.push(chunk as Buffer);
    assert.equal(Buffer.concat(out).toString(), 'a\r\n..b\r\n..c.\r\n');
  });
});

describe('floorSession', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    server = await startTestServer();
    dir = await mkdtemp(join(tmpdir(), 'floor-'));
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const options = (message: FloorOptions['message']): FloorOptions => ({ ...envelope, port: server.port, message });

  it('delivers a text message with dot-leading lines intact', async () => {
    await floorSession(options({ text: 'Subject: t\n\n.one\n..two\nend' }));
    const last = server.messages.at(-1)!;
    assert.deepEqual([last.from, last.to], ['a@example.test', ['b@example.test']]);
    assert.equal(last.body, 'Subject: t\r\n\r\n.one\r\n..two\r\nend\r\n');
  });

  it('streams a file larger than one read chunk', async () => {
    const lines = Array.from({ length: 40_000 }, (_, n) => (n % 3 === 0 ? `.line ${n}` : `line ${n}`));
    const text = `Subject: f\r\n\r\n${lines.join('\r\n')}\r\n`;
    const file = join(dir, 'message.eml');
    await writeFile(file, text);
    await floorSession(options({ file }));
    assert.equal(server.messages.at(-1)!.body, text);
  });
});

describe('floorSession against scripted servers', () => {
  it('rejects an unexpected reply code', async () => {
    const fake = await fakeServer(async (s) => {
      await s.write('220 hi\r\n');
      await s.nextLine();
      await s.write('250-hi\r\n250 PIPELINING\r\n');
      await s.nextLine();
      await s.write('550 no\r\n');
    });
    try {
      await assert.rejects(floorSession({ ...envelope, port: fake.port, message: { text: 'x' } }), /expected 250 after MAIL FROM:<a@example.test>, got 550/);
    } finally {
      await fake.close();
    }
  });

  it('gives up on a silent server at its deadline', async () => {
    const fake = await fakeServer(() => {});
    try {
      const started = performance.now();
      await assert.rejects(floorSession({ ...envelope, port: fake.port, timeoutMs: 150, message: { text: 'x' } }), /no reply within 150 ms after connecting/);
      assertWaitedFor(performance.now() - started, 150, 'the session');
    } finally {
      await fake.close();
    }
  });
});

describe('the benchmark sink', () => {
  it('holds greetings until enough sessions are open, and counts whole messages', async () => {
    // Only the second session may release the greetings: neither of the sink's own deadlines comes.
    const sink = await startSink({ holdUntil: 2, holdMs: GENEROUS_MS, holdIdleMs: GENEROUS_MS });
    const early = net.connect({ host: '127.0.0.1', port: sink.port });
    try {
      // How many sessions the sink had when the first one got its greeting.
      let greetedWith: number | undefined;
      early.once('data', () => (greetedWith = sink.connections));
      await until(() => sink.connections === 1);
      // A greeting sent at once would be read in the next turn of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(greetedWith, undefined, 'no greeting while one session is open');
      await floorSession({ ...envelope, port: sink.port, message: { text: '.\nbody' } });
      assert.equal(greetedWith, 2, 'the second session released the first greeting');
      await floorSession({ ...envelope, port: sink.port, message: { text: 'second' } });
      assert.equal(sink.connections, 3);
      assert.equal(sink.messages, 2);
    } finally {
      early.destroy();
      await sink.close();
    }
  });
});

/** Resolves once `condition` holds, checked at every turn of the event loop; fails after PROMPTLY_MS. */
async function until(condition: () => boolean): Promise<void> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > PROMPTLY_MS) assert.fail(`the condition did not hold within ${PROMPTLY_MS} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
