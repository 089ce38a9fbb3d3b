import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { maskEcho, maskedOutput, secretStart } from '../../src/record/masked-echo.js';

const PROMPT = 'C: ';
const at = (line: string, cursor = line.length) => ({ line, cursor });

describe('secretStart', () => {
  test('a line typed after a 334 is secret whole; AUTH from its initial response; other lines not at all', () => {
    assert.equal(secretStart('dGVzdA==', true), 0);
    assert.equal(secretStart('AUTH PLAIN AHVzZXIAcGFzcw==', false), 11);
    assert.equal(secretStart('  auth login dXNlcg==', false), 13);
    assert.equal(secretStart('AUTH PLAIN', false), undefined);
    assert.equal(secretStart('MAIL FROM:<a@b>', false), undefined);
  });
});

describe('maskEcho', () => {
  test('a key typed at the end of a secret is shown as *', () => {
    assert.equal(maskEcho('d', PROMPT, at('d'), 0), '*');
    assert.equal(maskEcho('A', PROMPT, at('AUTH PLAIN A'), 11), '*');
    assert.equal(maskEcho(' ', PROMPT, at('AUTH PLAIN '), 11), ' ', 'the space before the credential is no secret');
  });

  test('a pasted credential is shown as one * for each character', () => {
    assert.equal(maskEcho('c2VjcmV0', PROMPT, at('AUTH PLAIN c2VjcmV0'), 11), '********');
    assert.equal(maskEcho('N c2V', PROMPT, at('AUTH PLAIN c2V'), 11), 'N ***', 'only the part from the credential on');
  });

  test('a redrawn line keeps the prompt and the command and masks the credential', () => {
    assert.equal(maskEcho(`${PROMPT}AUTH PLAIN c2VjcmV0`, PROMPT, at('AUTH PLAIN c2VjcmV0', 13), 11), `${PROMPT}AUTH PLAIN ********`);
    assert.equal(maskEcho(`${PROMPT}c2VjcmV0`, PROMPT, at('c2VjcmV0', 3), 0), `${PROMPT}********`);
  });

  test('cursor movement, line ends and lines without a secret are written as they are', () => {
    assert.equal(maskEcho('\x1b[1G', PROMPT, at('c2VjcmV0'), 0), '\x1b[1G');
    assert.equal(maskEcho('\r\n', PROMPT, at('c2VjcmV0'), 0), '\r\n');
    assert.equal(maskEcho('L', PROMPT, at('EHL'), undefined), 'L');
    assert.equal(maskEcho(`${PROMPT}EHLO x`, PROMPT, at('EHLO x'), undefined), `${PROMPT}EHLO x`);
  });
});

describe('maskedOutput', () => {
  test('writes go through the mask; everything else is the stream\'s own', () => {
    const written: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(String(chunk));
        done();
      },
    });
    const stream = Object.assign(sink, { columns: 80, isTTY: true });
    const output = maskedOutput(stream, (chunk) => chunk.toUpperCase());
    output.write('secret');
    output.write(Buffer.from('bytes'));
    assert.deepEqual(written, ['SECRET', 'bytes']);
    assert.equal(output.columns, 80);
    let resized = false;
    output.on('resize', () => (resized = true));
    stream.emit('resize');
    assert.equal(resized, true);
  });
});
