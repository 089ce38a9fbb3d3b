import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli.js';
import { startEmbeddedServer } from '../../src/server/embedded.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';
import { newMessages, send, tempFolder } from './mail-session.js';

/** `smtpspec serve` in this process, stopped when the test says; its output read line by line. */
function serve(args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let stop: () => void = () => {};
  const untilStopped = new Promise<void>((resolve) => (stop = resolve));
  const exit = main(['serve', '--port', '0', ...args], { stdout, stderr, env: {}, untilStopped });
  const lines = createInterface({ input: stdout });
  const seen: string[] = [];
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line matching ${pattern}; saw:\n${seen.join('\n')}`)), GENEROUS_MS);
      const check = (line: string) => {
        seen.push(line);
        const match = pattern.exec(line);
        if (!match) return;
        clearTimeout(timer);
        lines.off('line', check);
        resolve(match);
      };
      lines.on('line', check);
    });
  return { exit, stop, waitFor, stderr };
}

describe('serve delivers into Maildirs and says where', () => {
  test('by default: a fresh temporary folder, printed, that receives the mail and is removed when serve stops', async (t) => {
    const served = serve([]);
    t.after(() => served.stop());
    const listening = served.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
    const where = served.waitFor(/mail is delivered to Maildirs under (.+)[/\\]<local part>[/\\] \(a temporary folder/);
    const port = Number((await listening)[1]);
    const root = (await where)[1]!;
    assert.ok(existsSync(root), `${root} exists`);

    const delivered = served.waitFor(/delivered to <bob@example\.test> in (.+)$/);
    assert.equal(await send({ host: '127.0.0.1', port }, { from: 'a@client.test', to: ['bob@example.test'], data: 'Subject: via serve\r\n\r\nx\r\n' }), 250);
    const path = (await delivered)[1]!;
    assert.ok(path.startsWith(join(root, 'bob', 'new')), path);
    const [message] = await newMessages(join(root, 'bob'));
    assert.match(message!.text, /Subject: via serve/);

    served.stop();
    assert.equal(await served.exit, 130);
    assert.equal(existsSync(root), false, 'the temporary folder is gone');
  });

  test('--mail-root DIR: the mail is delivered there and stays', async (t) => {
    const root = join(await tempFolder(t), 'mail');
    const served = serve(['--mail-root', root]);
    t.after(() => served.stop());
    const listening = served.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
    const where = served.waitFor(/mail is delivered to Maildirs under (.+)[/\\]<local part>[/\\]; /);
    const port = Number((await listening)[1]);
    assert.equal((await where)[1], root);
    await send({ host: '127.0.0.1', port }, { from: 'a@client.test', to: ['carol@example.test'], data: 'Subject: kept\r\n\r\nx\r\n' });
    served.stop();
    assert.equal(await served.exit, 130);
    assert.equal((await newMessages(join(root, 'carol'))).length, 1, 'kept after serve stops');
  });

  test('--mail-root naming a file is unusable input, named by its flag', async (t) => {
    const file = join(await tempFolder(t), 'file');
    await writeFile(file, 'not a folder');
    const served = serve(['--mail-root', file]);
    const errors: string[] = [];
    served.stderr.setEncoding('utf8').on('data', (chunk: string) => errors.push(chunk));
    assert.equal(await served.exit, 2);
    assert.match(errors.join(''), /--mail-root .*file: cannot deliver mail there: it is not a folder/);
  });
});

describe('a temporary mail root (run --embedded)', () => {
  test('is made under the temp folder at start, receives the mail, and is removed by close()', async () => {
    const server = await startEmbeddedServer({ temporaryMailRoot: true });
    const root = server.mailRoot;
    try {
      assert.ok(root !== undefined && existsSync(root));
      await send(server, { from: 'a@client.test', to: ['bob@example.test'], data: 'Subject: t\r\n\r\nx\r\n' });
      assert.equal((await newMessages(join(root, 'bob'))).length, 1);
    } finally {
      await server.close();
    }
    assert.equal(existsSync(root!), false);
  });
});
