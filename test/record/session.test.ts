import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_USER, embeddedCaFile, startEmbeddedServer, type EmbeddedServer } from '../../src/server/embedded.js';
import { bin, smtpspec } from '../helpers/cli.js';
import { assertGolden, normalise } from './cli.js';
import { Terminal } from './terminal.js';

/** `smtpspec record` in a real pseudo-terminal (node-pty, drawn by a headless xterm), typed at the way a person types at telnet. */

describe('record in a terminal', () => {
  let server: EmbeddedServer;
  let dir: string;
  const terminals: Terminal[] = [];

  before(async () => {
    server = await startEmbeddedServer({ port: 0 });
    dir = mkdtempSync(join(tmpdir(), 'smtpspec-record-tty-'));
  });

  after(async () => {
    await Promise.all(terminals.map((terminal) => terminal.kill()));
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function record(file: string, ...options: string[]): Promise<Terminal> {
    const terminal = await Terminal.start([process.execPath, bin, 'record', '--target', `127.0.0.1:${server.port}`, '-o', file, ...options]);
    terminals.push(terminal);
    await terminal.waitFor((screen) => /^S: 220 /m.test(screen), 'the greeting');
    await terminal.prompt();
    return terminal;
  }

  describe('the classic telnet session', () => {
    let file: string;
    let screen: string;
    let code: number;

    before(async () => {
      file = join(dir, 'classic.yaml');
      const terminal = await record(file);
      // A typo, erased with Backspace before Enter.
      await terminal.type('EHLO test.cpm');
      await terminal.press('BSpace', 'BSpace');
      await terminal.command('om');
      await terminal.command('MAIL FROM:<tester@test.com>');
      await terminal.command('RCPT TO:<nobody@example.test>');
      await terminal.command('RCPT TO:<user@example.test>');
      await terminal.command('DATA');
      for (const line of ['Subject: test message', '', '..this line starts with a dot', 'This is a test message.']) await terminal.line(line);
      await terminal.command('.');
      await terminal.command('NOOP');
      // History: the arrow key brings NOOP back.
      await terminal.press('Up');
      await terminal.command('');
      await terminal.command('QUIT');
      code = await terminal.exitCode();
      screen = await terminal.screen();
    });

    test('ends with 0 and shows the replies marked S:, multiline replies whole', () => {
      assert.equal(code, 0);
      assert.match(screen, /^S: 250-PIPELINING$/m);
      assert.match(screen, /^S: 250 SIZE 10485760$/m);
      assert.match(screen, /^C: MAIL FROM:<tester@test\.com>$/m);
      assert.match(screen, /^saved 10 steps to /m);
    });

    test('writes the scenario of the golden file', () => {
      assertGolden('classic.golden.yaml', normalise(readFileSync(file, 'utf8'), server.port));
    });

    test('the refused recipient is recorded with 550 and 5.1.1', () => {
      assert.match(readFileSync(file, 'utf8'), /- send: RCPT TO:<nobody@example\.test>\n\s+expect: 550 5\.1\.1\n/);
    });

    test('the command corrected with Backspace is recorded clean', () => {
      const text = readFileSync(file, 'utf8');
      assert.match(text, /- send: EHLO test\.com\n/);
      assert.doesNotMatch(text, /cpm/);
    });

    test('the message reached the server with its dot-leading line', () => {
      const message = server.messages.at(-1);
      assert.match(message?.body ?? '', /\r\n\.this line starts with a dot\r\n/);
    });

    test('replays green against the same server', async () => {
      const before = server.messages.length;
      const run = await smtpspec(['run', file]);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /1 passed, 0 failed/);
      assert.equal(server.messages.length, before + 1);
      assert.equal(server.messages.at(-1)?.body, server.messages.at(-2)?.body);
    });
  });

  test('credentials are echoed as * while they are typed, after a 334 and after AUTH PLAIN', async () => {
    const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
    const { username, password } = EMBEDDED_USER;
    const plain = base64(`\0${username}\0${password}`);
    const terminal = await record(join(dir, 'auth.yaml'), '--ca', embeddedCaFile());
    for (const line of ['EHLO test.com', 'STARTTLS', 'EHLO test.com', 'AUTH LOGIN']) await terminal.command(line);
    await terminal.type(base64(username));
    // Checked before Enter: what a person sees while typing, and what stays in the scrollback.
    let screen = await terminal.waitFor((s) => s.includes(`C: ${'*'.repeat(base64(username).length)}`), 'the masked user name');
    assert.equal(screen.includes(base64(username)), false, screen);
    await terminal.press('Enter');
    await terminal.waitFor((s) => (s.match(/^S: 334 /gm) ?? []).length === 2, 'the second 334');
    await terminal.command(base64(password));
    await terminal.command('RSET');
    await terminal.type(`AUTH PLAIN ${plain}`);
    screen = await terminal.waitFor((s) => s.includes(`C: AUTH PLAIN ${'*'.repeat(plain.length)}`), 'the masked initial response');
    await terminal.press('Enter');
    screen = await terminal.waitFor((s) => (s.match(/^S: 235 /gm) ?? []).length === 1 && /^S: 503 /m.test(s), 'the replies to both AUTH');
    await terminal.command('QUIT');
    assert.equal(await terminal.exitCode(), 0);
    screen = await terminal.screen();
    for (const secret of [base64(username), base64(password), plain]) assert.equal(screen.includes(secret), false, screen);
  });

  test('lines pasted at once are shown each as a C: line before its own reply, and recorded in order', async () => {
    const file = join(dir, 'pasted.yaml');
    const terminal = await record(file);
    const pasted = ['EHLO test.com', 'MAIL FROM:<tester@test.com>', 'RCPT TO:<user@example.test>', 'DATA', 'Subject: pasted', '', 'one line', '.', 'QUIT'];
    // One write, as a terminal delivers a paste: every line arrives before the first reply.
    await terminal.type(pasted.map((line) => `${line}\r`).join(''));
    assert.equal(await terminal.exitCode(), 0);
    const lines = (await terminal.screen()).split('\n');
    const shown = lines.filter((line) => line.startsWith('C:')).map((line) => line.replace(/^C: ?/, ''));
    assert.deepEqual(shown, pasted);
    // Each command's reply follows it directly; no reply lands on a prompt line.
    for (const command of ['EHLO test.com', 'MAIL FROM:<tester@test.com>', 'DATA', 'QUIT']) {
      const at = lines.indexOf(`C: ${command}`);
      assert.match(lines[at + 1] ?? '', /^S: \d{3}[ -]/, `the reply follows "${command}"`);
    }
    assert.equal(lines.some((line) => /^C: .*S: \d{3}/.test(line)), false, lines.join('\n'));
    const text = readFileSync(file, 'utf8');
    assert.match(text, /- send: EHLO test\.com[\s\S]*- send: MAIL FROM:<tester@test\.com>[\s\S]*- data: \|\n\s+Subject: pasted\n\n\s+one line\n[\s\S]*- send: QUIT/);
  });

  test('Ctrl-D at the prompt saves the session so far, without sending QUIT', async () => {
    const file = join(dir, 'ctrl-d.yaml');
    const terminal = await record(file);
    await terminal.command('EHLO test.com');
    await terminal.press('C-d');
    assert.equal(await terminal.exitCode(), 0);
    const text = readFileSync(file, 'utf8');
    assert.match(text, /- send: EHLO test\.com\n\s+expect: 250\n$/);
  });

  test('Ctrl-C ends the session with 130 and leaves no file', async () => {
    const file = join(dir, 'interrupted', 'never.yaml');
    mkdirSync(join(dir, 'interrupted'));
    const terminal = await record(file);
    await terminal.command('EHLO test.com');
    await terminal.type('MAIL FROM:<half');
    await terminal.press('C-c');
    assert.equal(await terminal.exitCode(), 130);
    assert.equal(existsSync(file), false);
    assert.deepEqual(readdirSync(join(dir, 'interrupted')), []);
  });
});
