import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ReceivedLog } from '../../src/smtp/received-log.js';
import { Transcript } from '../../src/smtp/transcript.js';
import { SmtpError } from '../../src/smtp/types.js';

const serverLines = (transcript: Transcript): string[] => transcript.entries.filter((entry) => entry.dir === 'S').map((entry) => entry.text);

describe('ReceivedLog', () => {
  test('logs the lines of a reply in progress as they come, and each line once', () => {
    const transcript = new Transcript();
    const log = new ReceivedLog(transcript);
    log.pending(['250-a']);
    log.pending(['250-a', '250-b']);
    log.ended(['250-a', '250-b', '250 c']);
    log.ended(['220 next']);
    assert.deepEqual(serverLines(transcript), ['250-a', '250-b', '250 c', '220 next']);
  });

  test('reset forgets the reply in progress', () => {
    const transcript = new Transcript();
    const log = new ReceivedLog(transcript);
    log.pending(['250-a']);
    log.reset();
    log.ended(['220 ready']);
    assert.deepEqual(serverLines(transcript), ['250-a', '220 ready']);
  });

  test('masks a secret before cutting a long line, so no part of it is left', () => {
    const secret = 'hunter2hunter2';
    const transcript = new Transcript({ secrets: [secret] });
    const log = new ReceivedLog(transcript);
    // The secret straddles the cut: cutting first would leave its first characters.
    log.ended([`535 ${'x'.repeat(994)}${secret}`]);
    const [logged] = serverLines(transcript);
    // The secret that straddles the cut is masked whole, and the cut falls after the mask.
    assert.equal(logged, `535 ${'x'.repeat(994)}****…`);
  });

  test('masks the message and lines of an error', () => {
    const log = new ReceivedLog(new Transcript({ secrets: ['s3cret'] }));
    const masked = log.masked(new SmtpError('closed', 'reply', 'closed after s3cret', ['334 s3cret']));
    assert.equal(masked.kind, 'closed');
    assert.equal(masked.phase, 'reply');
    assert.equal(masked.message, 'closed after ****');
    assert.deepEqual(masked.partialLines, ['334 ****']);
  });
});
