import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdtemp, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { bin } from '../helpers/cli.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';
import { fakeServer } from '../helpers/fake-server.js';
import { sourcePath } from '../helpers/paths.js';
import { allReportFlags, REPORT_NAMES, reportsCompleteOrAbsent } from '../helpers/report-files.js';

/**
 * An interrupted run exits 130 and leaves each report it was asked for complete or absent, never
 * partial and never a temporary file beside it, and says on stderr which it wrote and which not:
 * for a signal while the program is still loading, and for a second Ctrl-C while reports are made.
 */

interface Started {
  child: ChildProcess;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  stderr(): string;
}

function startCli(program: string, args: string[]): Started {
  const child = spawn(process.execPath, [program, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: GENEROUS_MS, env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, exited, stderr: () => stderr };
}

/** Each report that is on the disk is named as written on stderr, and each that is not as not written. */
function assertSaysWhich(dir: string, present: string[], stderr: string): void {
  const written = /^smtpspec: reports written: (.*)$/m.exec(stderr)?.[1] ?? '';
  const missing = /^smtpspec: reports not written: (.*)$/m.exec(stderr)?.[1] ?? '';
  for (const [flag, name] of Object.entries(REPORT_NAMES)) {
    const named = `${join(dir, name)} (--${flag}`;
    if (present.includes(name)) assert.ok(written.includes(named), `${name} is said to be written:\n${stderr}`);
    else assert.ok(missing.includes(named), `${name} is said not to be written:\n${stderr}`);
  }
}

/**
 * A copy of the command whose program file is a FIFO, started with `args`: the launcher, once past its
 * first lines, waits reading the program, and `loading` resolves exactly then; `load` gives it the
 * program. (The copy is inside dist/, so that the program finds node_modules and package.json above
 * it as the installed one does.)
 */
async function startHeldAtLoading(t: { after(fn: () => Promise<void>): void }, args: string[]): Promise<Started & { load(): Promise<void> }> {
  const copy = await mkdtemp(join(sourcePath('dist'), 'launcher-'));
  t.after(() => rm(copy, { recursive: true, force: true }));
  const built = sourcePath('dist/bin');
  for (const name of await readdir(built)) if (name !== 'smtpspec-main.cjs') await copyFile(join(built, name), join(copy, name));
  const fifo = join(copy, 'smtpspec-main.cjs');
  execFileSync('mkfifo', [fifo]);
  const run = startCli(join(copy, 'smtpspec.cjs'), args);
  // Should the process end before it reads the program, opening the FIFO for reading here frees the open below.
  void run.exited.then(() => open(fifo, 'r+').then((handle) => handle.close()));
  const writer = await open(fifo, 'w');
  return {
    ...run,
    load: async () => {
      await writer.writeFile(await readFile(join(built, 'smtpspec-main.cjs')));
      await writer.close();
    },
  };
}

describe('interrupted runs and their reports', { skip: process.platform === 'win32' }, () => {
  test('SIGINT while the program is still loading: exit 130, every report complete, and says so', async (t) => {
    const server = await fakeServer(() => {});
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-early-signal-'));
    t.after(async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    });
    const run = await startHeldAtLoading(t, ['run', sourcePath('test/cli/fixtures/slow.yaml'), '--target', `127.0.0.1:${server.port}`, ...allReportFlags(dir)]);
    run.child.kill('SIGINT');
    await run.load();

    const [code, signal] = await run.exited;
    assert.equal(signal, null, `ended by ${String(signal)}, not by its own exit:\n${run.stderr()}`);
    assert.equal(code, 130, run.stderr());
    assert.match(run.stderr(), /smtpspec: SIGINT: stopping/);
    const present = await reportsCompleteOrAbsent(dir);
    assert.deepEqual(present.sort(), Object.values(REPORT_NAMES).sort(), 'every report written: its cases are reported as not run');
    assertSaysWhich(dir, present, run.stderr());
    assert.equal(server.connectionCount, 0, 'no session started');
  });

  test('a second signal before the reports are made: exit 130 at once, no report and no temporary file, and says so', async (t) => {
    const server = await fakeServer(() => {});
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-two-signals-'));
    t.after(async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    });
    const run = await startHeldAtLoading(t, ['run', sourcePath('test/cli/fixtures/slow.yaml'), '--target', `127.0.0.1:${server.port}`, ...allReportFlags(dir)]);
    // Ctrl-C, then a SIGTERM: two signals of one kind sent together can merge into one in the kernel
    // (a pending signal is not queued twice), two kinds cannot; either may be taken first. Any signal after the first quits.
    run.child.kill('SIGINT');
    run.child.kill('SIGTERM');
    await run.load();

    const [code, signal] = await run.exited;
    assert.equal(signal, null, `ended by ${String(signal)}, not by its own exit:\n${run.stderr()}`);
    assert.equal(code, 130, run.stderr());
    assert.match(run.stderr(), /smtpspec: SIG(INT|TERM) again: quitting now/);
    assert.deepEqual(await reportsCompleteOrAbsent(dir), [], 'no report: the run had not begun');
    assertSaysWhich(dir, [], run.stderr());
  });

  test('a second SIGINT while reports are made: exit 130, each report complete or absent, no temporary file, and says which', async (t) => {
    let connected!: () => void;
    const firstConnection = new Promise<void>((resolve) => (connected = resolve));
    const server = await fakeServer(() => connected());
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-second-signal-'));
    t.after(async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    });
    // Many cases make reports that take a while to make and write: the second signal comes during that work.
    const cases = Array.from({ length: 3000 }, (_, i) => `  - name: case ${i}\n    steps:\n      - expect: 220\n`).join('');
    const scenario = join(dir, 'many.yaml');
    await writeFile(scenario, `name: Many cases\ntimeout: 30s\ncases:\n${cases}`);
    const reports = join(dir, 'reports');
    const run = startCli(bin, ['run', scenario, '--target', `127.0.0.1:${server.port}`, '--concurrency', '1', ...allReportFlags(reports)]);
    await Promise.race([firstConnection, run.exited.then(() => assert.fail(`smtpspec ended before it connected:\n${run.stderr()}`))]);
    run.child.kill('SIGINT');
    const stopping = createInterface({ input: run.child.stderr! });
    for await (const line of stopping) if (line.includes('SIGINT: stopping')) break;
    // Unread, its standard output holds the run before its end: the console has a line for each of the
    // 3,000 cases to write, more than a pipe holds, and the reports are made after them.
    run.child.kill('SIGINT');
    run.child.stdout!.resume();

    const [code, signal] = await run.exited;
    assert.equal(signal, null, run.stderr());
    assert.equal(code, 130, run.stderr());
    const present = await reportsCompleteOrAbsent(reports);
    assertSaysWhich(reports, present, run.stderr());
  });
});
