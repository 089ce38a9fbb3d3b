import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as smtpspec from '../src/index.js';
import { GENEROUS } from './helpers/deadlines.js';
import type { FakeServer } from './helpers/fake-server.js';
import { holdingServer, SessionCounter } from './helpers/holding-server.js';

/** The programming interface: what `smtpspec run` uses, usable from code. */

const CASES = ['the first session', 'the second session'];

describe('the programming interface', () => {
  test('offers the planner, the driver, the reporters, the sinks, the embedded server and the errors the command line uses', () => {
    const used = [
      smtpspec.planWork,
      smtpspec.runWork,
      smtpspec.planAndRun,
      smtpspec.withTargets,
      smtpspec.ConsoleReporter,
      smtpspec.TapReporter,
      smtpspec.JUnitReporter,
      smtpspec.JsonReporter,
      smtpspec.HtmlReporter,
      smtpspec.ReporterMux,
      smtpspec.fileSink,
      smtpspec.streamSink,
      smtpspec.memorySink,
      smtpspec.startEmbeddedServer,
      smtpspec.UsageError,
      smtpspec.ScenarioError,
      smtpspec.SmtpError,
    ];
    for (const [index, value] of used.entries()) assert.equal(typeof value, 'function', `export ${index}`);
  });

  describe('runs a manifest of several targets, several sessions at once', () => {
    const counter = new SessionCounter();
    const servers: FakeServer[] = [];
    let dir = '';
    const targets = ['mx1', 'mx2'];

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'smtpspec-api-'));
      // Every greeting waits until every case's session is open: the run passes only if they all are at once.
      for (const name of targets) servers.push(await holdingServer(name, counter, targets.length * CASES.length));
      const steps = '    steps:\n      - expect: 220\n      - send: QUIT\n        expect: 221';
      await writeFile(join(dir, 'greeting.yaml'), `name: greeting\ntimeout: ${GENEROUS}\ncases:\n${CASES.map((name) => `  - name: ${name}\n${steps}`).join('\n')}\n`);
      const lines = targets.map((name, i) => `  - { name: ${name}, host: 127.0.0.1, port: ${servers[i]!.port} }`);
      await writeFile(join(dir, 'fleet.yaml'), `scenarios: [greeting.yaml]\ntargets:\n${lines.join('\n')}\n`);
    });
    after(async () => {
      await Promise.all(servers.map((server) => server.close()));
      await rm(dir, { recursive: true, force: true });
    });

    test('every (target × case) pair has its result, in plan order, and the reporters hear of each', async () => {
      const sink = smtpspec.memorySink();
      const result = await smtpspec.planAndRun(
        { paths: [join(dir, 'fleet.yaml')], env: {} },
        { concurrency: 4, perHostLimit: 4, reporter: new smtpspec.ReporterMux([new smtpspec.JsonReporter(sink)]) },
      );
      assert.equal(counter.peakTotal, 4, 'four sessions were open at once');
      assert.deepEqual(
        result.cases.map((c) => `${smtpspec.formatTarget(c.target)} › ${c.caseName}: ${c.status}`),
        targets.flatMap((name, i) => CASES.map((kase) => `${name} (127.0.0.1:${servers[i]!.port}) › ${kase}: passed`)),
      );
      assert.deepEqual(result.counts, { passed: 4, failed: 0, errors: 0, skipped: 0, total: 4, flaky: 0 });
      const written = JSON.parse(sink.text) as { cases: { id: string }[] };
      assert.deepEqual(
        written.cases.map((c) => c.id),
        result.cases.map((c) => c.id),
      );
    });
  });
});
