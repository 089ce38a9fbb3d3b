import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SaxesParser } from 'saxes';
import { Parser } from 'tap-parser';
import { PROMPTLY_MS } from '../helpers/deadlines.js';
import { fakeServer } from '../helpers/fake-server.js';
import { sourcePath } from '../helpers/paths.js';

const bin = sourcePath('dist/bin/smtpspec.cjs');

interface Testcase {
  name: string;
  children: string[];
  type?: string;
}

function junitCases(xml: string): Testcase[] {
  const cases: Testcase[] = [];
  const parser = new SaxesParser();
  parser.on('opentag', (tag) => {
    const attributes = tag.attributes as Record<string, string>;
    if (tag.name === 'testcase') cases.push({ name: attributes.name!, children: [] });
    else if (cases.length > 0 && ['error', 'failure', 'skipped'].includes(tag.name)) {
      const last = cases.at(-1)!;
      last.children.push(tag.name);
      if (attributes.type) last.type = attributes.type;
    }
  });
  parser.write(xml).close();
  return cases;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  describe(`${signal} during a run`, () => {
    test('starts no new case, closes the session, writes complete reports and exits 130', async (t) => {
      let connected!: () => void;
      const firstConnection = new Promise<void>((resolve) => (connected = resolve));
      const server = await fakeServer(() => connected());
      const dir = await mkdtemp(join(tmpdir(), 'smtpspec-interrupt-'));
      t.after(async () => {
        await server.close();
        await rm(dir, { recursive: true, force: true });
      });
      const junit = join(dir, 'report.xml');
      const tap = join(dir, 'report.tap');
      const child = spawn(
        process.execPath,
        [bin, 'run', sourcePath('test/cli/fixtures/slow.yaml'), '--target', `127.0.0.1:${server.port}`,
          '--concurrency', '1', '--junit', junit, '--tap', tap],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout!.resume();
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      await Promise.race([firstConnection, exited.then(() => assert.fail(`smtpspec ended before it connected:\n${stderr}`))]);
      assert.equal(server.connectionCount, 1, 'the first case is waiting for its greeting');

      const sentAt = performance.now();
      child.kill(signal);
      // Were the signal to wait for the case's deadline (30 s), the run would be stopped here instead. (A run
      // that does not close its sessions ends after the grace of 5 s, with 130, but leaves no reports.)
      const stopping = setTimeout(() => child.kill('SIGKILL'), PROMPTLY_MS);
      const [code, killedBy] = await exited;
      clearTimeout(stopping);
      assert.equal(killedBy, null, `smtpspec did not stop within ${PROMPTLY_MS} ms of ${signal}:\n${stderr}`);
      assert.equal(code, 130, stderr);
      assert.ok(performance.now() - sentAt < PROMPTLY_MS, 'stopped promptly, not at the 30 s deadline');
      assert.equal(server.connectionCount, 1, 'no new case started');
      assert.match(stderr, new RegExp(`${signal}: stopping`));
      assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');

      const cases = junitCases(await readFile(junit, 'utf8'));
      assert.deepEqual(cases.map((c) => [c.name, c.children.join(), c.type ?? '']), [
        ['waits for a greeting that never comes', 'error', 'Interrupted'],
        ['never starts', 'skipped', ''],
      ]);
      const tapText = await readFile(tap, 'utf8');
      const parsed = await new Promise<{ ok: boolean; count: number; fail: number; skip: number }>((resolve) => {
        new Parser({ strict: true }, resolve).end(tapText);
      });
      assert.deepEqual([parsed.count, parsed.fail, parsed.skip], [2, 1, 1], tapText);
      assert.deepEqual((await readdir(dir)).sort(), ['report.tap', 'report.xml'], 'no temporary files left behind');
      assert.ok(stderr.includes(`smtpspec: reports written: ${junit} (--junit), ${tap} (--tap)\n`), `says which reports it wrote:\n${stderr}`);
      assert.doesNotMatch(stderr, /not written/);
    });
  });
}
