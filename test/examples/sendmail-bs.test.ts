import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sourcePath } from '../helpers/paths.js';
import { assertAllPassed, example, runExample } from './fixtures/examples.js';

const SMTP_CHILD = sourcePath('test/smtp/fixtures/smtp-child.mjs');

/** Single-quoted for sh: nothing inside is expanded. */
function shellQuote(text: string): string {
  return `'${text.split("'").join(`'\\''`)}'`;
}

/**
 * A stand-in for /usr/sbin/sendmail: an executable that notes its arguments and then speaks
 * SMTP on its standard input and output (the SMTP server of the exec transport tests).
 */
function fakeSendmail(t: TestContext): { program: string; argv(): string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'smtpspec-sendmail-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const program = join(dir, 'sendmail');
  const argvFile = join(dir, 'argv');
  const script = [
    '#!/bin/sh',
    `printf '%s\\n' "$@" > ${shellQuote(argvFile)}`,
    `exec ${shellQuote(process.execPath)} ${shellQuote(SMTP_CHILD)} "$@"`,
    '',
  ].join('\n');
  writeFileSync(program, script);
  chmodSync(program, 0o755);
  return { program, argv: () => readFileSync(argvFile, 'utf8').split('\n').slice(0, -1) };
}

describe('examples/sendmail-bs.yaml', () => {
  test('passes against a program that speaks SMTP on its standard input and output', async (t) => {
    const sendmail = fakeSendmail(t);
    const result = await runExample(example('sendmail-bs.yaml'), { vars: { sendmail: sendmail.program } });
    assertAllPassed(result);
    assert.deepEqual(sendmail.argv(), ['-bs'], 'the program got -bs as its one argument');
    const kase = result.cases[0]!;
    assert.deepEqual(kase.target, { kind: 'exec', argv: [sendmail.program, '-bs'] });
    const notes = kase.transcript.filter((entry) => entry.dir === '*').map((entry) => entry.text);
    assert.match(notes[0] ?? '', /^started \S+\/sendmail -bs \(pid \d+\)$/);
    const data = kase.steps.find((step) => step.label.startsWith('data'))!;
    assert.match(data.reply?.lines[0] ?? '', /^2\.0\.0 queued \(\d+ bytes\)$/);
  });

  test('a program that is not there fails the session with its name', async () => {
    const missing = join(tmpdir(), 'smtpspec-no-such-dir', 'sendmail');
    const result = await runExample(example('sendmail-bs.yaml'), { vars: { sendmail: missing } });
    const kase = result.cases[0]!;
    assert.equal(kase.status, 'error');
    assert.match(kase.failure?.message ?? '', /cannot run ".*sendmail": command not found/);
  });
});
