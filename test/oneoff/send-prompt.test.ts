import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { bin } from '../helpers/cli.js';
import { Terminal } from '../record/terminal.js';

/** `smtpspec send --auth` on a terminal, with no password in the environment: it asks, and never shows what is typed. */
describe('send asks for the AUTH password on a terminal', () => {
  const terminals: Terminal[] = [];
  after(() => Promise.all(terminals.map((terminal) => terminal.kill())));

  test('the password is typed at a prompt, echoed as stars, used for AUTH, and never shown', async () => {
    const password = 'wonderland';
    const terminal = await Terminal.start([process.execPath, bin, 'send', '--embedded', '--tls', '--auth', 'PLAIN', '--auth-user', 'alice', '--to', 'bob@example.test']);
    terminals.push(terminal);
    await terminal.waitFor((screen) => /^Password:/m.test(screen), 'the password prompt');
    await terminal.type(`${password}\r`);
    const code = await terminal.exitCode();
    const screen = await terminal.screen();
    assert.equal(code, 0, screen);
    assert.match(screen, new RegExp(`Password: \\*{${password.length}}`));
    assert.match(screen, /\] S: 235 /, 'the server took the login');
    for (const form of [password, Buffer.from(`\0alice\0${password}`).toString('base64')]) assert.ok(!screen.includes(form), `the screen shows ${form}`);
  });
});
