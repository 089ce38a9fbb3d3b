import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cheatSheet, SWAKS_FLAGS } from '../../src/oneoff/swaks-flags.js';
import { bin } from '../helpers/cli.js';
import { sourcePath } from '../helpers/paths.js';

/** The table of smtpspec send's flags beside swaks' is data: `send --help` and the cheat sheet in docs/cli.md are held to it. */

describe('the swaks flag table', () => {
  test('names every flag of send --help, and nothing else', () => {
    const help = execFileSync(process.execPath, [bin, 'send', '--help'], { encoding: 'utf8', timeout: 30_000 });
    const inHelp = [...help.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((match) => match[1]!).filter((flag) => flag !== '--help');
    const inTable = SWAKS_FLAGS.map((pair) => pair.smtpspec);
    assert.ok(inHelp.length >= 30, inHelp.join(' '));
    for (const flag of inHelp) assert.ok(inTable.includes(flag), `${flag} of send --help is in the table (with swaks' name, or as smtpspec's own)`);
    for (const flag of inTable) assert.ok(inHelp.includes(flag), `${flag} of the table is in send --help`);
    assert.equal(new Set(inTable).size, inTable.length, 'each flag once');
  });

  test('is the cheat sheet of docs/cli.md, row for row', () => {
    const page = readFileSync(sourcePath('docs/cli.md'), 'utf8');
    const start = page.indexOf('| smtpspec send | swaks | meaning |');
    assert.ok(start >= 0, 'docs/cli.md has the cheat sheet');
    const shown = page.slice(start).split('\n\n')[0]!;
    assert.equal(shown, cheatSheet(), 'regenerate it with: node -e "import(\'./dist/src/oneoff/swaks-flags.js\').then((m) => console.log(m.cheatSheet()))"');
  });
});
