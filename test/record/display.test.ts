import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { SessionDisplay } from '../../src/record/display.js';

function shown(color: boolean, draw: (display: SessionDisplay) => void): string {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  draw(new SessionDisplay(out, color));
  return text;
}

describe('SessionDisplay', () => {
  test('a multiline reply is shown whole, each line marked S:', () => {
    const text = shown(false, (d) => d.reply({ code: 250, lines: ['mx hello', 'PIPELINING', 'SIZE 10'] }));
    assert.equal(text, 'S: 250-mx hello\nS: 250-PIPELINING\nS: 250 SIZE 10\n');
  });

  test('colour by reply class only when asked', () => {
    assert.equal(shown(true, (d) => d.reply({ code: 550, lines: ['no'] })), '\x1b[31mS: 550 no\x1b[0m\n');
    assert.equal(shown(false, (d) => d.client('EHLO x')), 'C: EHLO x\n');
    assert.match(shown(true, (d) => d.client('EHLO x')), /^\x1b\[1mC: \x1b\[0mEHLO x\n$/);
  });

  test('control characters from the server cannot reach the terminal', () => {
    const text = shown(false, (d) => d.reply({ code: 250, lines: ['ok \x1b[2J'] }));
    assert.equal(text, 'S: 250 ok \\x1B[2J\n');
  });
});
