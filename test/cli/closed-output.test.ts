import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bin } from '../helpers/cli.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';
import { fakeServer } from '../helpers/fake-server.js';
import { allReportFlags, assertCompleteReport, REPORT_NAMES } from '../helpers/report-files.js';

/**
 * Standard output that closes (`smtpspec run … | head -n 1`) or fills (`> /dev/full`) mid-run: the
 * console stops quietly, every report file is still written, and the exit code is the run's verdict.
 */

const SCENARIO = `name: Two cases
timeout: 30s
cases:
  - name: greeted
    steps:
      - expect: 220
  - name: expects a refusal that never comes
    steps:
      - expect: 554
`;

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/**
 * Runs the two cases against a fake server with every report file. The second case's greeting waits
 * for `secondGreeting`, so that the console still has lines to write after the test closed its output.
 */
async function runTwoCases(dir: string, stdout: 'pipe' | number, onStarted: (child: ReturnType<typeof spawn>) => Promise<void>): Promise<Outcome> {
  let connections = 0;
  let release!: () => void;
  const secondGreeting = new Promise<void>((resolve) => (release = resolve));
  const server = await fakeServer(async (s) => {
    connections += 1;
    if (connections > 1) await secondGreeting;
    await s.write('220 hi\r\n');
  });
  try {
    const scenario = join(dir, 'two.yaml');
    await writeFile(scenario, SCENARIO);
    const child = spawn(process.execPath, [bin, 'run', scenario, '--target', `127.0.0.1:${server.port}`, '--concurrency', '1', ...allReportFlags(dir)], {
      stdio: ['ignore', stdout, 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
      timeout: GENEROUS_MS,
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    await onStarted(child);
    release();
    const [code, signal] = await exited;
    return { code, signal, stderr };
  } finally {
    release();
    await server.close();
  }
}

async function assertEveryReport(dir: string): Promise<void> {
  for (const [kind, name] of Object.entries(REPORT_NAMES) as [keyof typeof REPORT_NAMES, string][]) {
    await assertCompleteReport(kind, await readFile(join(dir, name), 'utf8'), kind === 'html' ? undefined : 2);
  }
}

describe('standard output closed or full', () => {
  test('stdout closed after its first chunk (| head -n 1): every report written, exit 1 for the failed case', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-closed-stdout-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const outcome = await runTwoCases(dir, 'pipe', async (child) => {
      await once(child.stdout!, 'data');
      child.stdout!.destroy(); // the reader is gone: the next write meets EPIPE
    });
    assert.equal(outcome.signal, null, outcome.stderr);
    assert.equal(outcome.code, 1, outcome.stderr);
    assert.equal(outcome.stderr, '', 'nothing said: no EPIPE, no stack');
    await assertEveryReport(dir);
  });

  test('stdout on a full device (> /dev/full): every report written, exit 1 for the failed case', { skip: !existsSync('/dev/full') }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-full-stdout-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const full = openSync('/dev/full', 'w');
    t.after(() => closeSync(full));
    const outcome = await runTwoCases(dir, full, async () => {});
    assert.equal(outcome.signal, null, outcome.stderr);
    assert.equal(outcome.code, 1, outcome.stderr);
    assert.equal(outcome.stderr, '', 'nothing said: no ENOSPC, no stack');
    await assertEveryReport(dir);
  });
});
