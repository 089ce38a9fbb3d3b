import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../../src/cli.js';
import { splitCommand } from '../../src/oneoff/send-options.js';

/** The flags of `send` as a plain command: swaks' spellings and habits where they mean the same. */

describe('send flags', () => {
  test('--pipe is split into argv without a shell; quotes keep a word together', () => {
    assert.deepEqual(splitCommand('exim -bh 192.0.2.1'), ['exim', '-bh', '192.0.2.1']);
    assert.deepEqual(splitCommand(`sendmail -bs -C "/etc/my mail.conf" 'a b'`), ['sendmail', '-bs', '-C', '/etc/my mail.conf', 'a b']);
    assert.equal(splitCommand('exim "-bh'), undefined);
  });

  test("swaks' forms: recipients separated by commas, --timeout in seconds, --local-interface, connect as banner", () => {
    const command = parseArgs(['send', '-t', 'a@example.test, b@example.test', '--to', 'c@example.test', '--timeout', '15', '--local-interface', '127.0.0.1', '--quit-after', 'CONNECT', '-s', '[::1]:2525']);
    assert.equal(command.command, 'send');
    if (command.command !== 'send') return;
    assert.deepEqual([...command.to].sort(), ['a@example.test', 'b@example.test', 'c@example.test']);
    assert.equal(command.timeout, '15s');
    assert.equal(command.localAddress, '127.0.0.1');
    assert.equal(command.quitAfter, 'banner');
    assert.deepEqual([command.server, command.port], [{ host: '::1' }, 2525]);
    assert.equal(command.verify, true, 'smtpspec verifies certificates unless told not to');
  });
});
