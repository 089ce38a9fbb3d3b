import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { floorSession } from '../../bench/floor-client.js';
import { runCommand } from '../../bench/processes.js';
import { profileSummary } from '../../bench/profile.js';
import { startSink } from '../../bench/sink-server.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';

let dir: string;
before(async () => (dir = await mkdtemp(join(tmpdir(), 'bench-measure-'))));
after(() => rm(dir, { recursive: true, force: true }));

describe('the sink window', () => {
  it('counts connections, messages and the most open at once, from the first connection to the last close, then starts again', async () => {
    const sink = await startSink();
    try {
      const envelope = { host: '127.0.0.1', port: sink.port, from: 'a@example.test', to: 'b@example.test', timeoutMs: GENEROUS_MS };
      const idle = net.connect({ host: '127.0.0.1', port: sink.port });
      await new Promise((resolve) => idle.once('data', resolve));
      await floorSession({ ...envelope, message: { text: 'one' } });
      idle.destroy();
      await new Promise((resolve) => idle.once('close', resolve));
      // The sink sees the closes a moment after the client does.
      for (let turn = 0; sink.open > 0; turn++) {
        assert.ok(turn < 100_000, 'the sink never saw the closes');
        await new Promise((resolve) => setImmediate(resolve));
      }
      const window = sink.window();
      assert.equal(window.connections, 2);
      assert.equal(window.messages, 1);
      assert.equal(window.peakOpen, 2);
      assert.ok(window.firstConnectAt! <= window.lastCloseAt!);
      const next = sink.window();
      assert.deepEqual([next.connections, next.messages, next.firstConnectAt], [0, 0, undefined]);
    } finally {
      await sink.close();
    }
  });
});

describe('runCommand', () => {
  it("reports a whole process's own CPU time and peak RSS, and refuses an unexpected exit code", async () => {
    const script = join(dir, 'busy.mjs');
    await writeFile(script, 'const until = process.cpuUsage().user + 150_000; const keep = Buffer.alloc(64 << 20, 1); while (process.cpuUsage().user < until); process.exitCode = keep[0] === 1 ? Number(process.argv[2]) : 9;\n');
    const result = await runCommand(script, ['0'], { timeoutMs: GENEROUS_MS, usageDir: dir });
    assert.ok(result.cpuMs >= 150, `CPU ${result.cpuMs} ms`);
    assert.ok(result.peakRssMb >= 64, `peak RSS ${result.peakRssMb} MB`);
    assert.ok(result.wallMs >= result.cpuMs * 0.5 && result.endedAt >= result.startedAt);
    await assert.rejects(runCommand(script, ['3'], { timeoutMs: GENEROUS_MS, usageDir: dir }), /exited with 3/);
  });
});

describe('profileSummary', () => {
  it('tells the modules of a bundled file apart by the bundler\'s module lines', async () => {
    const bundle = join(dir, 'bundle.cjs');
    const spin = (name: string) => `function ${name}() { const until = process.cpuUsage().user + 200_000; let n = 0; while (process.cpuUsage().user < until) for (let i = 0; i < 100000; i++) n = (n * 31 + i) | 0; return n; }\n`;
    await writeFile(bundle, `// dist/src/alpha/one.js\n${spin('alphaWork')}\n// node_modules/beta/dist/two.js\n${spin('betaWork')}\nalphaWork(); betaWork();\n`);
    const profiles = join(dir, 'profiles');
    await mkdir(profiles);
    const ran = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profiles}`, bundle], { timeout: GENEROUS_MS });
    assert.equal(ran.status, 0);
    const summary = (await profileSummary(profiles)).join('\n');
    assert.match(summary, /%\s+src\/alpha\n/);
    assert.match(summary, /%\s+node_modules\/beta\n/);
    assert.match(summary, /alphaWork \[src\/alpha\/one\.ts\]/);
  });
});
