import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScenarioError, formatIssue } from '../../src/errors.js';
import { loadScenarioFile } from '../../src/scenario/load.js';
import { smtpspec } from '../helpers/cli.js';

/**
 * A path too long for the system (a name over 255 bytes, a path of 2 MB) is one problem at the
 * position that names it, with the path shortened: never the system's message with the whole path.
 */

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'smtpspec-long-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const LONG_NAME = `${'n'.repeat(300)}.yaml`;
const HUGE_PATH = `${'d/'.repeat(1024 * 1024)}x.eml`;

const STEPS = 'target: 127.0.0.1:25\ncases:\n  - name: c\n    steps:\n      - expect: 220\n';

/** Each place a scenario names a file, as the step or setting that names `path`. */
const NAMED: Record<string, (path: string) => string> = {
  include: (path) => `${STEPS}      - include: ${path}\n`,
  'message file': (path) => `${STEPS}      - data: { file: ${path} }\n`,
  attachment: (path) => `${STEPS}      - data: { headers: { Subject: x }, body: y, attachments: [{ file: ${path} }] }\n`,
  'CA certificate': (path) => `tls: { ca: ${path} }\n${STEPS}`,
};

async function problems(text: string): Promise<string[]> {
  const file = join(dir, 'named.yaml');
  writeFileSync(file, text);
  const error = await loadScenarioFile(file, { env: {} }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ScenarioError, `refused as a scenario problem, not ${String(error).slice(0, 200)}`);
  return error.issues.map(formatIssue);
}

describe('paths too long for the system', () => {
  for (const [kind, named] of Object.entries(NAMED)) {
    for (const [what, path] of [
      ['a 300-byte name', LONG_NAME],
      ['a 2 MB path', HUGE_PATH],
    ] as const) {
      test(`${kind}: ${what} is a problem at its position, the path shortened`, async () => {
        const lines = await problems(named(path));
        assert.equal(lines.length, 1, lines.join('\n').slice(0, 2000));
        const line = lines[0]!;
        assert.match(line, /^\/\S+named\.yaml:\d+:\d+: /);
        assert.match(line, /: the name is too long$/);
        assert.ok(line.length < 250 + dir.length, `${line.length} characters: ${line.slice(0, 400)}`);
        assert.match(line, /…/);
      });
    }
  }

  test('a scenario named on the command line with a 300-byte name: one short sentence, exit 2', async () => {
    const result = await smtpspec(['validate', join(dir, LONG_NAME)]);
    assert.equal(result.code, 2, result.stderr);
    const first = result.stderr.split('\n')[0]!;
    assert.match(first, /^smtpspec: cannot read ".+….+": the name is too long$/);
    assert.ok(first.length < 200, first);
  });

  test('validate with a 2 MB include path prints a short problem with its position', async () => {
    const file = join(dir, 'huge-include.yaml');
    writeFileSync(file, NAMED['include']!(HUGE_PATH));
    const result = await smtpspec(['validate', file]);
    assert.equal(result.code, 2, result.stderr.slice(0, 500));
    assert.ok(result.stderr.length < 1000, `${result.stderr.length} characters on stderr`);
    assert.match(result.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:6:\\d+: cannot include ".+….+": the name is too long$`, 'm'));
  });
});
