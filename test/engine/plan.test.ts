import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planWork, type Plan } from '../../src/engine/plan.js';
import { UsageError } from '../../src/errors.js';
import { isTcpTarget, type Scenario, type Target } from '../../src/scenario/types.js';
import { GENEROUS } from '../helpers/deadlines.js';
import { startDnsResponder, type DnsResponder } from '../manifest/dns-responder.js';

/** The planner alone: what each case is paired with, what is started, what is looked up. */

const GREETING = `timeout: ${GENEROUS}
cases:
  - name: the greeting arrives
    tags: [smoke]
    steps:
      - expect: 220
  - name: EHLO is answered
    steps:
      - send: EHLO \${env:CLIENT_NAME}
        expect: 250
`;

function targets(plan: Plan): Target[] {
  return plan.items.map((item) => item.target);
}

/** Resolves with the error code of a connection to the port: ECONNREFUSED once nothing listens. */
async function connectError(port: number): Promise<string | undefined> {
  const socket = net.connect(port, '127.0.0.1');
  // once() rejects on 'error': the error is the answer here.
  const code = await once(socket, 'connect').then(
    () => undefined,
    (error: NodeJS.ErrnoException) => error.code,
  );
  socket.destroy();
  return code;
}

describe('planWork', () => {
  let dir = '';
  let dns: DnsResponder;
  const env = { CLIENT_NAME: 'client.test' };
  const file = (name: string) => join(dir, name);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-plan-'));
    dns = await startDnsResponder({ 'example.test': { mx: [[10, 'localhost']] }, localhost: { a: ['127.0.0.1'] } });
    await writeFile(file('targeted.yaml'), `name: targeted\ntarget: 127.0.0.1:2525\n${GREETING}`);
    await writeFile(file('untargeted.yaml'), `name: untargeted\n${GREETING}`);
    await writeFile(
      file('fleet.yaml'),
      [
        'scenarios: [untargeted.yaml]',
        `dns_server: ${dns.host}:${dns.port}`,
        'targets:',
        '  - { name: relay, host: 127.0.0.1, port: 2526 }',
        '  - { domain: example.test, port: 2527 }',
        '',
      ].join('\n'),
    );
  });
  after(async () => {
    await dns.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('pairs each case with --target over its file, else with the file’s own; a file without one is unusable input', async () => {
    const own = await planWork({ paths: [file('targeted.yaml')], env });
    assert.deepEqual(targets(own), [
      { host: '127.0.0.1', port: 2525 },
      { host: '127.0.0.1', port: 2525 },
    ]);
    const given = await planWork({ paths: [file('targeted.yaml'), file('untargeted.yaml')], targets: ['mx.example.com:25'], env });
    assert.deepEqual(new Set(targets(given).map((t) => JSON.stringify(t))), new Set([JSON.stringify({ host: 'mx.example.com', port: 25 })]));
    assert.equal(given.items.length, 4);
    await assert.rejects(planWork({ paths: [file('untargeted.yaml')], env }), (error: unknown) => error instanceof UsageError && /no target for/.test(error.message));
    await assert.rejects(planWork({ paths: [file('targeted.yaml')], targets: ['not a host'], env }), UsageError);
    await assert.rejects(planWork({ paths: [file('targeted.yaml')], targets: ['a.test', 'b.test'], env }), UsageError);
  });

  test('a preview plans placeholders: the embedded server, and no target where a list may show one', async () => {
    const embedded = await planWork({ paths: [file('untargeted.yaml')], embedded: true, preview: true, env });
    assert.equal(embedded.server, undefined, 'nothing started');
    assert.deepEqual(new Set(targets(embedded).map((t) => t.kind)), new Set(['placeholder']));
    const [shown] = targets(embedded);
    assert.ok(shown?.kind === 'placeholder' && shown.stands === 'embedded');
    assert.deepEqual(shown.address, { host: '127.0.0.1', port: 0 });

    const listed = await planWork({ paths: [file('targeted.yaml'), file('untargeted.yaml')], preview: true, requireTarget: false, env });
    const kinds = listed.items.map((item) => `${item.scenario.name}: ${item.target.kind === 'placeholder' ? item.target.stands : 'server'}`);
    assert.deepEqual(kinds, ['targeted: server', 'targeted: server', 'untargeted: none', 'untargeted: none']);
    await assert.rejects(planWork({ paths: [file('untargeted.yaml')], preview: true, env }), UsageError, 'a dry run needs targets');
  });

  test('--embedded starts the embedded server for the run, and the plan’s close() stops it', async () => {
    const plan = await planWork({ paths: [file('untargeted.yaml')], embedded: true, env });
    const server = plan.server;
    assert.ok(server, 'started');
    try {
      assert.deepEqual(targets(plan), [
        { host: server.host, port: server.port },
        { host: server.host, port: server.port },
      ]);
      assert.equal(await connectError(server.port), undefined, 'it listens');
    } finally {
      await plan.close();
    }
    assert.equal(await connectError(server.port), 'ECONNREFUSED', 'it is stopped');
  });

  test('a manifest: hosts as written; a domain’s MX hosts looked up for a run, a placeholder for a preview', async () => {
    const run = await planWork({ paths: [file('fleet.yaml')], env });
    assert.equal(run.manifest, file('fleet.yaml'));
    assert.deepEqual(
      targets(run).map((t) => (isTcpTarget(t) ? `${t.name} ${t.host}:${t.port}` : t.kind)),
      ['relay 127.0.0.1:2526', 'relay 127.0.0.1:2526', 'example.test MX localhost localhost:2527', 'example.test MX localhost localhost:2527'],
    );
    const asked = dns.queries.length;
    assert.ok(asked > 0, 'the run looked the domain up');

    const preview = await planWork({ paths: [file('fleet.yaml')], preview: true, env });
    assert.equal(dns.queries.length, asked, 'a preview looks nothing up');
    const mx = targets(preview)[2];
    assert.ok(mx?.kind === 'placeholder' && mx.stands === 'mx');
    assert.equal(mx.label, 'MX of example.test, port 2527 (resolved at run time)');
    assert.deepEqual(mx.address, { host: 'example.test', port: 2527 });
    await assert.rejects(planWork({ paths: [file('fleet.yaml')], embedded: true, env }), UsageError);
    await assert.rejects(planWork({ paths: [file('fleet.yaml'), file('targeted.yaml')], env }), UsageError);
    await assert.rejects(planWork({ paths: [file('fleet.yaml')], targets: ['nothing-called-this'], env }), UsageError);
  });

  test('--grep, --tag and --shard select; filters that leave nothing are unusable input, told after the files are loaded', async () => {
    const tagged = await planWork({ paths: [file('targeted.yaml')], tags: ['smoke'], env });
    assert.deepEqual(tagged.items.map((item) => item.kase.name), ['the greeting arrives']);
    const grepped = await planWork({ paths: [file('targeted.yaml')], grep: /EHLO/, env });
    assert.deepEqual(grepped.items.map((item) => item.kase.name), ['EHLO is answered']);
    const shards = await Promise.all([1, 2].map((index) => planWork({ paths: [file('targeted.yaml')], shard: { index, total: 2 }, env })));
    assert.equal(shards[0]!.items.length + shards[1]!.items.length, 2, 'each case in exactly one shard');

    const loaded: Scenario[][] = [];
    await assert.rejects(planWork({ paths: [file('targeted.yaml')], grep: /nothing matches this/, env, onLoaded: (scenarios) => loaded.push(scenarios) }), UsageError);
    assert.deepEqual(loaded.map((scenarios) => scenarios.map((s) => s.name)), [['targeted']]);
  });

  test('--embedded with --shard: a shard holds the same cases whatever port the server gets, and the ones a preview shows', async () => {
    const cases = Array.from({ length: 12 }, (_, i) => `  - name: case ${i + 1}\n    steps:\n      - expect: 220\n`).join('');
    await writeFile(file('many.yaml'), `name: many\ncases:\n${cases}`);
    const names = (plan: Plan) => plan.items.map((item) => item.kase.name);
    const shard = { index: 1, total: 2 };
    const preview = await planWork({ paths: [file('many.yaml')], embedded: true, preview: true, shard, env });
    const runs: string[][] = [];
    const ports = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const plan = await planWork({ paths: [file('many.yaml')], embedded: true, shard, env });
      try {
        runs.push(names(plan));
        ports.add(plan.server!.port);
        assert.deepEqual(new Set(targets(plan).map((t) => JSON.stringify(t))), new Set([JSON.stringify({ host: plan.server!.host, port: plan.server!.port })]));
      } finally {
        await plan.close();
      }
    }
    assert.ok(ports.size > 1, 'the servers had different ports');
    for (const run of runs) assert.deepEqual(run, names(preview));
    assert.ok(names(preview).length > 0 && names(preview).length < 12, 'the shard is a part of the cases');
  });

  test('the environment is data: an unset variable fails, or is collected for a list', async () => {
    await assert.rejects(planWork({ paths: [file('targeted.yaml')], env: {} }));
    const missing = new Set<string>();
    const plan = await planWork({ paths: [file('targeted.yaml')], env: {}, preview: true, lenientEnv: missing });
    assert.deepEqual([...missing], ['CLIENT_NAME']);
    assert.equal(plan.items.length, 2);
  });
});
