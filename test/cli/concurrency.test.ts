import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { smtpspec } from '../helpers/cli.js';
import { GENEROUS } from '../helpers/deadlines.js';

/** More sessions at once than a listening socket holds by default (511) before they are accepted. */
const SESSIONS = 1200;

function manyCases(count: number): string {
  const lines = ['name: many sessions at once', `timeout: ${GENEROUS}`, 'cases:'];
  for (let i = 1; i <= count; i++) {
    lines.push(`  - name: session ${i}`, '    steps:', '      - expect: 220', '      - send: QUIT', '        expect: 221');
  }
  return `${lines.join('\n')}\n`;
}

/** A scenario file of `count` short sessions, in a folder removed after the test. */
async function manyCasesFile(t: TestContext, count: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'smtpspec-load-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'many.yaml');
  await writeFile(file, manyCases(count));
  return file;
}

test('a run of 50 sessions at once prints no warning from Node.js', async (t) => {
  const file = await manyCasesFile(t, 60);
  const result = await smtpspec(['run', file, '--embedded', '--concurrency', '50', '--per-host', '50']);
  assert.doesNotMatch(result.stderr, /Warning/);
  assert.equal(result.code, 0, result.stderr);
});

test(`--embedded holds ${SESSIONS} sessions opened at once: every greeting comes`, async (t) => {
  const file = await manyCasesFile(t, SESSIONS);
  const concurrency = String(SESSIONS);
  const result = await smtpspec(['run', file, '--embedded', '--concurrency', concurrency, '--per-host', concurrency], { timeoutMs: 120_000 });
  const lost = result.stdout.match(/no reply within \d+ ms \(waiting for the greeting\)/g)?.length ?? 0;
  assert.equal(lost, 0, `${lost} sessions got no greeting`);
  assert.match(result.stdout, new RegExp(`\\b${SESSIONS} passed, 0 failed\\b`));
  assert.equal(result.code, 0, result.stderr);
});
