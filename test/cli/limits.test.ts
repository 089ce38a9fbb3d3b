import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli.js';
import { fakeServer } from '../helpers/fake-server.js';
import { sourcePath } from '../helpers/paths.js';

test('--max-reply-line sets the longest reply line accepted', async (t) => {
  const greeting = `220 ${'x'.repeat(996)}\r\n`; // 1000 bytes with its CRLF
  const server = await fakeServer(async (s) => {
    await s.write(greeting);
    await s.nextLine();
    await s.write('221 bye\r\n');
  });
  t.after(() => server.close());
  const run = async (...extra: string[]) => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const code = await main(
      ['run', sourcePath('test/cli/fixtures/greeting-only.yaml'), '--target', `127.0.0.1:${server.port}`, '--no-color', ...extra],
      { stdout: out, stderr: out, env: {} },
    );
    return { code, text };
  };
  assert.equal((await run()).code, 0, 'the default limit (8192) takes a 1000-byte line');
  const limited = await run('--max-reply-line', '600');
  assert.equal(limited.code, 1);
  assert.match(limited.text, /reply line longer than 600 bytes/);
  const tooLow = await run('--max-reply-line', '100');
  assert.equal(tooLow.code, 2, 'below the 512 of RFC 5321 is refused');
});
