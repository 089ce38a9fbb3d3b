import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planWork } from '../../src/engine/plan.js';
import { planManifest } from '../../src/engine/plan-manifest.js';
import { ScenarioError, formatIssue } from '../../src/errors.js';
import { detectManifest, loadManifest } from '../../src/manifest/manifest.js';
import { LoadCache } from '../../src/scenario/load-cache.js';
import { parseYamlDocument } from '../../src/scenario/positions.js';

/** A manifest's scenario files are read, parsed and checked once per run, however many targets name them. */

const SCENARIO = `vars:
  helo: client.\${domain}
cases:
  - name: EHLO names the domain
    steps:
      - include: steps.yaml
      - send: EHLO \${helo}
        expect: 250
`;

const STEPS = `steps:
  - expect: 220
`;

const OTHER = `cases:
  - name: the greeting arrives
    steps:
      - expect: 220
`;

/** 50 targets on one file and another; every tenth has a domain of its own, the others share the default. */
function manifest(targets: number): string {
  const lines = ['defaults:', '  vars:', '    domain: shared.test', 'scenarios: [greeting.yaml, other.yaml]', 'targets:'];
  for (let i = 0; i < targets; i++) {
    lines.push(`  - name: t${i}`, '    host: 127.0.0.1', '    port: 1');
    if (i % 10 === 0) lines.push('    vars:', `      domain: d${i}.test`);
  }
  return `${lines.join('\n')}\n`;
}

describe('planning a manifest: each file once per run', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-once-'));
    await writeFile(join(dir, 'greeting.yaml'), SCENARIO);
    await writeFile(join(dir, 'other.yaml'), OTHER);
    await writeFile(join(dir, 'steps.yaml'), STEPS);
    await writeFile(join(dir, 'fleet.yaml'), manifest(50));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a file 50 targets use is read and parsed once, normalised once per distinct set of variables, each target with its own', async () => {
    const cache = new LoadCache();
    const plan = await planManifest(join(dir, 'fleet.yaml'), { vars: {}, env: {}, ca: [], only: [], preview: true, cache });
    assert.equal(plan.items.length, 100);
    assert.equal(cache.counts.reads, 2, 'each scenario file read once');
    assert.equal(cache.counts.parses, 2, 'each scenario file parsed once');
    assert.equal(cache.counts.includeReads, 1, 'the included file read once');
    // greeting.yaml: the shared domain and 5 of their own; other.yaml: the same 6 sets of variables.
    assert.equal(cache.counts.normalizations, 12);
    const helo = (name: string) => {
      const item = plan.items.find((it) => it.target.kind === 'tcp' && it.target.name === name && it.scenario.file.endsWith('greeting.yaml'))!;
      const step = item.kase.steps[1]!;
      return step.action.type === 'send' ? step.action.line : undefined;
    };
    assert.equal(helo('t0'), 'EHLO client.d0.test');
    assert.equal(helo('t1'), 'EHLO client.shared.test');
    assert.equal(helo('t10'), 'EHLO client.d10.test');
    assert.equal(helo('t49'), 'EHLO client.shared.test');
    const greeting = (name: string) => plan.items.find((it) => it.target.kind === 'tcp' && it.target.name === name && it.scenario.file.endsWith('greeting.yaml'))!;
    assert.equal(greeting('t1').scenario, greeting('t2').scenario, 'targets with the same variables share the scenario');
    assert.notEqual(greeting('t0').scenario, greeting('t1').scenario);
  });

  test('a problem in a file many targets use is the same problem, said as before', async () => {
    await writeFile(join(dir, 'broken.yaml'), 'cases:\n  - name: x\n    steps:\n      - send: HELO ${nowhere}\n');
    await writeFile(join(dir, 'broken-fleet.yaml'), manifest(20).replace('[greeting.yaml, other.yaml]', '[broken.yaml]'));
    const messages: string[][] = [];
    for (const cache of [new LoadCache(), undefined]) {
      await assert.rejects(planManifest(join(dir, 'broken-fleet.yaml'), { vars: {}, env: {}, ca: [], only: [], preview: true, ...(cache ? { cache } : {}) }), (error: unknown) => {
        assert.ok(error instanceof ScenarioError);
        messages.push(error.issues.map(formatIssue));
        return true;
      });
    }
    assert.match(messages[0]![0]!, /broken\.yaml:4:\d+: .*nowhere/);
    assert.deepEqual(messages[0], messages[1]);
  });

  test('planWork plans a manifest with one cache: targets that share their variables share the scenario object', async () => {
    const plan = await planWork({ paths: [join(dir, 'fleet.yaml')], env: {}, preview: true });
    const scenarios = plan.scenarios.filter((s) => s.file.endsWith('greeting.yaml'));
    assert.equal(scenarios.length, 50, 'one scenario per target, as before');
    assert.equal(new Set(scenarios).size, 6);
  });

  test('the manifest is parsed once: what was parsed to tell it from a scenario file is what is loaded', async () => {
    const path = join(dir, 'fleet.yaml');
    const detected = detectManifest(path);
    assert.ok(detected?.text !== undefined && detected.document);
    // Stand another document in for the one parsed: loading uses it rather than parsing the text again.
    const other = parseYamlDocument(manifest(3), path);
    assert.ok(!('problem' in other));
    const loaded = await loadManifest(path, { detected: { ...detected, document: other } });
    assert.equal(loaded.targets.length, 3);
    assert.equal((await loadManifest(path, { detected })).targets.length, 50);
    assert.equal((await loadManifest(path)).targets.length, 50);
  });
});
