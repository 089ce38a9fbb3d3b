import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { CrlfNormalizer, DotStuffEncoder, DotStuffer, encodeMessage } from '../../src/smtp/dot-stuff.js';

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

interface ChunkEncoder {
  push(chunk: Uint8Array): Buffer;
  finish(): Buffer;
}

function encodeInChunks(body: Buffer, cuts: number[], encoder: ChunkEncoder = new DotStuffEncoder()): string {
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

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A message of mostly text with every kind of line end, leading dots and multi-byte characters. */
function randomMessage(random: () => number, pieces: number): string {
  const kinds = ['\r\n', '\r\n', '\n', '\r', '.', '..', 'é', '€', '\r\n.', '\n.\r', 'x'];
  let text = '';
  for (let i = 0; i < pieces; i++) {
    text += random() < 0.5 ? 'x'.repeat(Math.floor(random() * 90)) : (kinds[Math.floor(random() * kinds.length)] as string);
  }
  return text;
}

/** Random cuts: mostly small chunks, some empty, some large. */
function randomCuts(random: () => number, length: number): number[] {
  const cuts: number[] = [];
  const largest = 1 + Math.floor(random() * 4000);
  for (let at = 0; at < length; ) {
    at += random() < 0.1 ? 0 : 1 + Math.floor(random() * largest);
    cuts.push(Math.min(at, length));
  }
  return cuts;
}

describe('random messages in chunks of random sizes', () => {
  const SEEDS = 200;

  test('DotStuffEncoder gives the same bytes as encodeMessage', () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const random = seededRandom(seed);
      const body = randomMessage(random, 400);
      const bytes = Buffer.from(body, 'utf8');
      const expected = encodeMessage(body).toString('utf8');
      assert.equal(expected, reference(body), `seed ${seed}: one-shot`);
      assert.equal(encodeInChunks(bytes, randomCuts(random, bytes.length)), expected, `seed ${seed}`);
    }
  });

  test('with reuseOutput, every push that changes bytes writes into one buffer, and the bytes are the same', () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const random = seededRandom(seed);
      const body = randomMessage(random, 400);
      const bytes = Buffer.from(body, 'utf8');
      for (const [encoder, expected] of [
        [new DotStuffEncoder({ reuseOutput: true }), encodeMessage(body).toString('utf8')],
        [new CrlfNormalizer({ reuseOutput: true }), encodeInChunks(bytes, [], new CrlfNormalizer())],
      ] as const) {
        const copies: Buffer[] = [];
        const own = new Set<ArrayBufferLike>();
        let start = 0;
        for (const cut of [...randomCuts(random, bytes.length), bytes.length]) {
          const out = encoder.push(bytes.subarray(start, cut));
          if (out.length > 0 && out.buffer !== bytes.buffer) own.add(out.buffer);
          // Each output is used before the next push, as the writer uses it.
          copies.push(Buffer.from(out));
          start = cut;
        }
        copies.push(encoder.finish());
        assert.equal(Buffer.concat(copies).toString('utf8'), expected, `seed ${seed}`);
        assert.ok(own.size <= 1, `seed ${seed}: ${own.size} output buffers`);
      }
    }
  });

  test('CrlfNormalizer gives the same bytes as one push', () => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const random = seededRandom(seed);
      const bytes = Buffer.from(randomMessage(random, 400), 'utf8');
      const expected = encodeInChunks(bytes, [], new CrlfNormalizer());
      assert.doesNotMatch(expected, /\r(?!\n)|(?<!\r)\n/, `seed ${seed}: only CRLF line ends`);
      assert.equal(encodeInChunks(bytes, randomCuts(random, bytes.length), new CrlfNormalizer()), expected, `seed ${seed}`);
    }
  });
});

describe('DotStuffEncoder edges', () => {
  test('an empty chunk between a CR and an LF keeps them one line end', () => {
    assert.equal(encodeInChunks(Buffer.from('a\r\n.b'), [2, 2, 2]), 'a\r\n..b\r\n.\r\n');
    assert.equal(encodeInChunks(Buffer.from('a\r\n'), [2, 2], new CrlfNormalizer()), 'a\r\n');
  });

  test('a dot after a line end made from a bare CR or LF is doubled, also at a chunk start', () => {
    assert.equal(encodeInChunks(Buffer.from('a\r.b\n.c'), []), 'a\r\n..b\r\n..c\r\n.\r\n');
    assert.equal(encodeInChunks(Buffer.from('a\r.b\n.c'), [2, 6]), 'a\r\n..b\r\n..c\r\n.\r\n');
  });

  test('a Uint8Array window on a larger buffer is read within its window only', () => {
    const backing = new TextEncoder().encode('zz.a\nb\rzz');
    const window = new Uint8Array(backing.buffer, 2, backing.length - 4);
    const encoder = new DotStuffEncoder();
    const out = Buffer.concat([encoder.push(window), encoder.finish()]);
    assert.equal(out.toString('utf8'), '..a\r\nb\r\n.\r\n');
  });

  test('a chunk with nothing to change comes back as a view of the same bytes, not a copy', () => {
    const chunk = Buffer.from('a line\r\nanother line\r\n');
    const out = new DotStuffEncoder().push(chunk);
    assert.equal(out.buffer, chunk.buffer);
    assert.equal(out.byteOffset, chunk.byteOffset);
    assert.equal(out.length, chunk.length);
  });

  test('changing a returned buffer does not change later results', () => {
    const encoder = new DotStuffEncoder();
    const first = encoder.push(Buffer.from('\n'));
    first.fill(0x21);
    assert.equal(encoder.push(Buffer.from('\n')).toString('latin1'), '\r\n');
    const end = encoder.finish();
    end.fill(0x21);
    assert.equal(new DotStuffEncoder().finish().toString('latin1'), '.\r\n');
    const normalizer = new CrlfNormalizer();
    normalizer.push(Buffer.from('x'));
    normalizer.finish().fill(0x21);
    normalizer.push(Buffer.from('y'));
    assert.equal(normalizer.finish().toString('latin1'), '\r\n');
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
