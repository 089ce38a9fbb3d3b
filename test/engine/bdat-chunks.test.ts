import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bdatChunks } from '../../src/engine/actions.js';

/** `message` in pieces of the given sizes, all in one buffer that each piece overwrites (as a file is read). */
async function* reusing(message: Buffer, sizes: number[]): AsyncGenerator<Uint8Array> {
  const scratch = Buffer.alloc(Math.max(...sizes));
  for (let at = 0, i = 0; at < message.length; i++) {
    const length = message.copy(scratch, 0, at, at + sizes[i % sizes.length]!);
    at += length;
    yield scratch.subarray(0, length);
  }
}

async function collect(message: Buffer, sizes: number[], size: number): Promise<{ chunk: Buffer; last: boolean }[]> {
  const out: { chunk: Buffer; last: boolean }[] = [];
  for await (const item of bdatChunks(reusing(message, sizes), size)) out.push(item);
  return out;
}

describe('BDAT chunks', () => {
  const message = Buffer.from(Array.from({ length: 3000 }, (_, i) => `line ${i}\r\n`).join(''));

  test('every chunk but the last is exactly the size asked, only the last says so, and together they are the message', async () => {
    for (const size of [1, 7, 4096, 10_000, message.length, message.length + 1]) {
      for (const sizes of [[1], [3, 700], [65_536]]) {
        if (size === 1 && sizes[0] === 1) continue;
        const out = await collect(message, sizes, size);
        assert.deepEqual(Buffer.concat(out.map((item) => item.chunk)), message, `size ${size}, pieces ${sizes.join('/')}`);
        assert.deepEqual(
          out.map((item) => item.last),
          out.map((_, i) => i === out.length - 1),
        );
        for (const item of out.slice(0, -1)) assert.equal(item.chunk.length, size);
      }
    }
  });

  test('each chunk is a buffer of its own, exactly its size: nothing gathered before it is kept with it', async () => {
    const out = await collect(message, [3, 700], 5000);
    assert.ok(out.length > 2);
    for (const item of out.slice(0, -1)) assert.equal(item.chunk.buffer.byteLength, 5000);
  });

  test('an empty message is one empty last chunk', async () => {
    const out: { chunk: Buffer; last: boolean }[] = [];
    for await (const item of bdatChunks((async function* () {})(), 10)) out.push(item);
    assert.deepEqual(out.map((item) => [item.chunk.length, item.last]), [[0, true]]);
  });
});
