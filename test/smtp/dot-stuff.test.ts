import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { DotStuffEncoder, DotStuffer, encodeMessage } from '../../src/smtp/dot-stuff.js';

/** An independent statement of the rules, used as the oracle for exhaustive checks. */
function reference(body: string): string {
  if (body === '') return '.\r\n';
  const lines = body.replace(/\r\n|\r|\n/g, '\n').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return `${lines.map((line) => (line.startsWith('.') ? `.${line}` : line)).join('\r\n')}\r\n.\r\n`;
}

/** Every string over the alphabet up to maxLength characters. */
function* allStrings(alphabet: string[], maxLength: number): Generator<string> {
  let current = [''];
  yield '';
  for (let length = 1; length <= maxLength; length++) {
    current = current.flatMap((prefix) => alphabet.map((c) => prefix + c));
    yield* current;
  }
}

function encodeInChunks(body: Buffer, cuts: number[]): string {
  const encoder = new DotStuffEncoder();
  const parts: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, body.length]) {
    parts.push(encoder.push(body.subarray(start, cut)));
    start = cut;
  }
  parts.push(encoder.finish());
  return Buffer.concat(parts).toString('utf8');
}

describe('encodeMessage', () => {
  const cases: [string, string, string][] = [
    ['empty body: only the terminator', '', '.\r\n'],
    ['adds the missing final CRLF', 'hello', 'hello\r\n.\r\n'],
    ['keeps an existing final CRLF', 'hello\r\n', 'hello\r\n.\r\n'],
    ['LF endings become CRLF', 'a\nb\n', 'a\r\nb\r\n.\r\n'],
    ['bare CR endings become CRLF', 'a\rb\r', 'a\r\nb\r\n.\r\n'],
    ['CR CR LF is a bare CR then a CRLF', 'a\r\r\nb', 'a\r\n\r\nb\r\n.\r\n'],
    ['LF CR is two line ends', 'a\n\rb', 'a\r\n\r\nb\r\n.\r\n'],
    ['doubles a leading dot', '.hidden\n..two\n', '..hidden\r\n...two\r\n.\r\n'],
    ['doubles a dot on the first line', '.', '..\r\n.\r\n'],
    ['a lone dot line is stuffed, so it cannot end the data', 'a\n.\nb', 'a\r\n..\r\nb\r\n.\r\n'],
    ['leaves dots elsewhere alone', 'a.b.\n x.', 'a.b.\r\n x.\r\n.\r\n'],
    ['keeps empty lines', '\n\n', '\r\n\r\n.\r\n'],
    ['smuggling sequence LF . LF stays inside the body', 'a\n.\nMAIL FROM:<x>\n', 'a\r\n..\r\nMAIL FROM:<x>\r\n.\r\n'],
    ['keeps UTF-8 text intact', 'Grüße\n.ünïcode', 'Grüße\r\n..ünïcode\r\n.\r\n'],
  ];
  for (const [name, body, expected] of cases) {
    test(name, () => {
      assert.equal(encodeMessage(body).toString('utf8'), expected);
    });
  }

  test('agrees with the rules for every short body over {a, ., CR, LF}', () => {
    let checked = 0;
    for (const body of allStrings(['a', '.', '\r', '\n'], 7)) {
      assert.equal(encodeMessage(body).toString('utf8'), reference(body), JSON.stringify(body));
      checked += 1;
    }
    assert.equal(checked, (4 ** 8 - 1) / 3);
  });
});

describe('DotStuffEncoder across chunk boundaries', () => {
  test('every split point of every short body gives the same bytes', () => {
    for (const body of allStrings(['a', '.', '\r', '\n'], 6)) {
      const bytes = Buffer.from(body);
      const expected = reference(body);
      for (let cut = 0; cut <= bytes.length; cut++) {
        assert.equal(encodeInChunks(bytes, [cut]), expected, `${JSON.stringify(body)} cut at ${cut}`);
      }
    }
  });

  test('one byte per chunk gives the same bytes', () => {
    for (const body of allStrings(['a', '.', '\r', '\n'], 6)) {
      const bytes = Buffer.from(body);
      const cuts = Array.from({ length: bytes.length }, (_, i) => i);
      assert.equal(encodeInChunks(bytes, cuts), reference(body), JSON.stringify(body));
    }
  });

  test('a CR ending one chunk and an LF starting the next make one line end', () => {
    assert.equal(encodeInChunks(Buffer.from('a\r\n.b'), [2]), 'a\r\n..b\r\n.\r\n');
  });

  test('a multi-byte character split between chunks survives', () => {
    const bytes = Buffer.from('é\n.é');
    assert.equal(encodeInChunks(bytes, [1, 4]), 'é\r\n..é\r\n.\r\n');
  });
});

describe('DotStuffer', () => {
  test('streams the same bytes as encodeMessage', async () => {
    const body = 'line one\r\n.dot\rbare CR\nbare LF\r';
    const chunks = ['line one\r', '\n.', 'dot\r', 'bare CR\n', 'bare LF\r'];
    const out = await buffer(Readable.from(chunks.map((c) => Buffer.from(c))).pipe(new DotStuffer()));
    assert.equal(out.toString('utf8'), encodeMessage(body).toString('utf8'));
    assert.equal(out.toString('utf8'), 'line one\r\n..dot\r\nbare CR\r\nbare LF\r\n.\r\n');
  });

  test('accepts string chunks', async () => {
    const stuffer = new DotStuffer();
    stuffer.write('.a\n');
    stuffer.end('b');
    assert.equal((await buffer(stuffer)).toString('utf8'), '..a\r\nb\r\n.\r\n');
  });

  test('an empty stream gives only the terminator', async () => {
    const out = await buffer(Readable.from([]).pipe(new DotStuffer()));
    assert.equal(out.toString('utf8'), '.\r\n');
  });

  test('handles a large body chunk by chunk', async () => {
    const line = `.${'x'.repeat(99)}\n`;
    const body = line.repeat(20_000);
    const chunks = body.match(/[\s\S]{1,4093}/g) ?? [];
    const out = await buffer(Readable.from(chunks.map((c) => Buffer.from(c))).pipe(new DotStuffer()));
    assert.equal(out.length, 20_000 * 103 + 3);
    assert.equal(out.toString('utf8'), encodeMessage(body).toString('utf8'));
  });
});
