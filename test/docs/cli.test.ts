import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { bin } from '../helpers/cli.js';
import { sourcePath } from '../helpers/paths.js';
import { blocks } from './markdown.js';

/** docs/cli.md lists every command and its options: the program's own --help is the authority. */

const help = (...args: string[]): string => execFileSync(process.execPath, [bin, ...args, '--help'], { encoding: 'utf8', timeout: 30_000 });

const page = { path: 'docs/cli.md', text: readFileSync(sourcePath('docs/cli.md'), 'utf8') };
const synopsis = blocks(page).find((block) => block.lang === 'text' && block.lines[0]?.startsWith('smtpspec run'));

/** The lines of the synopsis about one command: its own lines, and the indented ones under them. */
function linesOf(command: string): string {
  const lines: string[] = [];
  let current = '';
  for (const line of synopsis?.lines ?? []) {
    const named = /^smtpspec (\w+)/.exec(line);
    if (named) current = named[1]!;
    if (current === command) lines.push(line);
  }
  return lines.join('\n');
}

describe('the command-line page', () => {
  const commands = [...help().matchAll(/^ {2}(\w+) /gm)].map((match) => match[1]!);

  test('has a synopsis that names every command', () => {
    assert.ok(synopsis, 'docs/cli.md has a ```text block starting with "smtpspec run"');
    assert.ok(commands.length >= 8, commands.join(', '));
    for (const command of commands) assert.notEqual(linesOf(command), '', `${command} is in the synopsis`);
  });

  test("lists every option of every command, as the command's --help does", () => {
    for (const command of commands) {
      const options = [...help(command).matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((match) => match[1]!).filter((option) => option !== '--help');
      assert.ok(command === 'checks' || options.length > 0, `${command} has options`);
      for (const option of options) assert.ok(linesOf(command).includes(option), `${option} of ${command} is in the synopsis`);
    }
  });
});
