import { after, describe, test } from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { CaseInfo, CaseResult, RunResult, StepResult } from '../../src/engine/results.js';
import { BAIL_REASON, runWork } from '../../src/engine/run.js';
import { caseInfo, runCase } from '../../src/engine/run-case.js';
import { defaultHostKey } from '../../src/engine/host-limiter.js';
import { withTargets, type WorkItem } from '../../src/engine/plan.js';
import { UsageError } from '../../src/errors.js';
import type { Reporter } from '../../src/engine/events.js';
import { parseScenario } from '../../src/scenario/load.js';
import type { PlaceholderTarget, ServerTarget, TcpTarget } from '../../src/scenario/types.js';
import { SmtpError } from '../../src/smtp/types.js';
import { fakeServer, type FakeServer } from '../helpers/fake-server.js';
import { GENEROUS } from '../helpers/deadlines.js';
import { holdingServer, SessionCounter } from '../helpers/holding-server.js';

const GREET_AND_QUIT = `
    steps:
      - expect: 220
      - send: QUIT
        expect: 221`;

/** One inline scenario; `cases` is YAML for its case list. */
function scenario(file: string, cases: string) {
  return parseScenario(`name: ${file}\ntimeout: ${GENEROUS}\ncases:\n${cases}`, file, { env: {} });
}

/** `count` greet-and-quit cases named `<prefix> 0` … against one server. */
function items(file: string, count: number, server: { host: string; port: number }): WorkItem[] {
  const cases = Array.from({ length: count }, (_, i) => `  - name: ${file} ${i}${GREET_AND_QUIT}`).join('\n');
  return withTargets([scenario(file, cases)], target(server));
}

function target(server: { host: string; port: number }): TcpTarget {
  return { host: server.host, port: server.port };
}

/** Records every reporter event as a short string. */
function recorder(): { events: string[]; reporter: Reporter } {
  const events: string[] = [];
  const reporter: Reporter = {
    onBegin: (info) => events.push(`begin ${info.cases.length}`),
    onCaseBegin: (info: CaseInfo) => events.push(`case ${info.caseName}`),
    onStepEnd: (info: CaseInfo, step: StepResult) => events.push(`step ${info.caseName} ${step.index} ${step.status}`),
    onCaseEnd: (result: CaseResult) => events.push(`end ${result.caseName} ${result.status}`),
    onEnd: (result) => void events.push(`done ${result.cases.length}`),
  };
  return { events, reporter };
}

describe('runWork limits', () => {
  const servers: FakeServer[] = [];
  after(() => Promise.all(servers.map((s) => s.close())));

  test('by default one host is every port of it: two servers on 127.0.0.1 share the per-host limit', async () => {
    const counter = new SessionCounter();
    const a = await holdingServer('a', counter, 2);
    const b = await holdingServer('b', counter, 2);
    servers.push(a, b);
    const work = [...items('a.yaml', 6, a), ...items('b.yaml', 6, b)];
    const result = await runWork(work, { concurrency: 8, perHostLimit: 2 });
    assert.equal(result.counts.passed, 12, JSON.stringify(result.cases.map((c) => c.failure)));
    assert.equal(counter.peakTotal, 2, 'at most (and, with 12 cases, exactly) 2 sessions to the host');
    assert.equal(a.connectionCount + b.connectionCount, 12);
  });

  test('keyed on host:port, each server gets perHostLimit and the run as a whole stays within concurrency', async () => {
    const counter = new SessionCounter();
    const a = await holdingServer('a', counter, 4);
    const b = await holdingServer('b', counter, 4);
    servers.push(a, b);
    const work = [...items('a.yaml', 6, a), ...items('b.yaml', 6, b)];
    const hostKey = (t: ServerTarget) => ('port' in t ? `${t.host}:${t.port}` : defaultHostKey(t));
    const result = await runWork(work, { concurrency: 4, perHostLimit: 3, hostKey });
    assert.equal(result.counts.passed, 12);
    assert.equal(counter.peaks.get('a'), 3);
    assert.ok(counter.peaks.get('b')! <= 3, `b peaked at ${counter.peaks.get('b')}`);
    assert.equal(counter.peakTotal, 4);
  });

  test('concurrency 1 runs one session at a time', async () => {
    const counter = new SessionCounter();
    const a = await holdingServer('a', counter, 1);
    servers.push(a);
    const result = await runWork(items('one.yaml', 4, a), { concurrency: 1, perHostLimit: 4 });
    assert.equal(result.counts.passed, 4);
    assert.equal(counter.peakTotal, 1);
  });

  test('limits that are not whole positive numbers are refused', async () => {
    await assert.rejects(runWork([], { concurrency: 0 }), UsageError);
    await assert.rejects(runWork([], { perHostLimit: 1.5 }), UsageError);
    await assert.rejects(runWork([], { retries: -1 }), UsageError);
  });

  test('an empty batch reports begin and end and counts nothing', async () => {
    const { events, reporter } = recorder();
    const result = await runWork([], { reporter });
    assert.deepEqual(events, ['begin 0', 'done 0']);
    assert.equal(result.counts.total, 0);
    assert.equal(result.counts.flaky, 0);
  });

  test('a placeholder target is a bug in smtpspec: the run is refused before anything starts, not reported as a network error', async () => {
    const { events, reporter } = recorder();
    const placeholder: PlaceholderTarget = { kind: 'placeholder', stands: 'embedded', label: 'the embedded server', address: { host: '127.0.0.1', port: 0 } };
    const work = withTargets([scenario('shown.yaml', `  - name: shown only${GREET_AND_QUIT}`)], placeholder);
    await assert.rejects(runWork(work, { reporter }), (error: unknown) => {
      assert.ok(error instanceof Error && !(error instanceof SmtpError) && !(error instanceof UsageError), String(error));
      assert.match(error.message, /placeholder target \(the embedded server\)/);
      return true;
    });
    assert.deepEqual(events, [], 'no reporter heard of the run');
    await assert.rejects(runCase(work[0]!.scenario, work[0]!.kase, placeholder), (error: unknown) => error instanceof Error && !(error instanceof SmtpError));
  });
});

describe('runWork results', () => {
  const servers: FakeServer[] = [];
  after(() => Promise.all(servers.map((s) => s.close())));

  test('the sessions of one run share their replies; two runs share nothing', async () => {
    const server = await fakeServer(async (s) => {
      await s.write('220 the same greeting\r\n');
      if ((await s.nextLine()) === 'QUIT') await s.write('221 bye\r\n');
      s.end();
    });
    servers.push(server);
    const first = await runWork(items('shared.yaml', 2, server), {});
    const second = await runWork(items('shared.yaml', 1, server), {});
    const greeting = (result: RunResult, index: number) => result.cases[index]!.steps[0]!.reply;
    assert.deepEqual(greeting(first, 0), { code: 220, lines: ['the same greeting'] });
    assert.equal(greeting(first, 1), greeting(first, 0), 'one copy within a run');
    assert.notEqual(greeting(second, 0), greeting(first, 0), 'none across runs');
    assert.deepEqual(greeting(second, 0), greeting(first, 0));
  });

  test('results follow the order of the items although later cases finish first', async () => {
    // The server answers each case's NOOP only once the case meant to finish before it has ended.
    const order = ['fourth', 'third', 'second', 'first'];
    const ended = new Map<string, () => void>();
    const endings = new Map(order.map((place) => [place, new Promise<void>((resolve) => ended.set(`finishes ${place}`, resolve))]));
    const server = await fakeServer(async (s) => {
      await s.write('220 ready\r\n');
      const place = /^NOOP (\w+)$/.exec((await s.nextLine()) ?? '')?.[1] ?? '';
      const before = order[order.indexOf(place) + 1];
      if (before) await endings.get(before);
      await s.write('250 ok\r\n');
      if ((await s.nextLine()) === 'QUIT') await s.write('221 bye\r\n');
      s.end();
    });
    servers.push(server);
    const cases = order
      .map((place) => `  - name: finishes ${place}\n    steps:\n      - expect: 220\n      - send: NOOP ${place}\n        expect: 250\n      - send: QUIT\n        expect: 221`)
      .join('\n');
    const work = withTargets([scenario('order.yaml', cases)], target(server));
    const { events, reporter } = recorder();
    const tracking: Reporter = {
      ...reporter,
      onCaseEnd: (result) => {
        reporter.onCaseEnd!(result);
        ended.get(result.caseName)?.();
      },
    };
    const result = await runWork(work, { concurrency: 4, perHostLimit: 4, reporter: tracking });
    assert.deepEqual(result.cases.map((c) => c.caseName), ['finishes fourth', 'finishes third', 'finishes second', 'finishes first']);
    assert.deepEqual(result.cases.map((c) => c.id), work.map((w) => caseInfo(w.scenario, w.kase, w.target).id));
    assert.deepEqual(
      events.filter((e) => e.startsWith('end ')),
      ['end finishes first passed', 'end finishes second passed', 'end finishes third passed', 'end finishes fourth passed'],
    );
    assert.equal(events[0], 'begin 4');
    assert.equal(events.at(-1), 'done 4');
  });

  test('the same case planned twice against one target gets two ids, each reported once', async () => {
    const server = await fakeServer(async (s) => {
      await s.write('220 ready\r\n');
      if ((await s.nextLine()) === 'QUIT') await s.write('221 bye\r\n');
      s.end();
    });
    servers.push(server);
    const [once] = items('twice.yaml', 1, server);
    const planned = caseInfo(once!.scenario, once!.kase, once!.target).id;
    const begun: string[] = [];
    const result = await runWork([once!, once!, once!], { reporter: { onBegin: (info) => begun.push(...info.cases.map((c) => c.id)) } });
    const ids = [planned, `${planned} (2)`, `${planned} (3)`];
    assert.deepEqual(begun, ids);
    assert.deepEqual(result.cases.map((c) => c.id), ids);
    assert.deepEqual(result.cases.map((c) => c.status), ['passed', 'passed', 'passed']);
  });

  /** A server that greets its first session with 554 and the others with 220. */
  async function refusingFirstSession(): Promise<FakeServer> {
    let greeting = 0;
    const server = await fakeServer(async (s) => {
      await s.write(greeting++ === 0 ? '554 go away\r\n' : '220 ready\r\n');
      if ((await s.nextLine()) === 'QUIT') await s.write('221 bye\r\n');
      s.end();
    });
    servers.push(server);
    return server;
  }

  test('bail: after the first failure no new case starts; the rest are skipped as not run', async () => {
    const server = await refusingFirstSession();
    const { events, reporter } = recorder();
    const result = await runWork(items('bail.yaml', 4, server), { concurrency: 1, bail: true, reporter });
    assert.deepEqual(result.cases.map((c) => c.status), ['failed', 'skipped', 'skipped', 'skipped']);
    assert.equal(server.connectionCount, 1, 'nothing connected after the failure');
    for (const skipped of result.cases.slice(1)) {
      assert.equal(skipped.skipReason, BAIL_REASON);
      assert.deepEqual(skipped.steps.map((s) => [s.label, s.status, s.message]), [
        ['greeting', 'skipped', BAIL_REASON],
        ['send: QUIT', 'skipped', BAIL_REASON],
      ]);
      assert.deepEqual(skipped.transcript, []);
    }
    assert.deepEqual(result.counts, { passed: 0, failed: 1, errors: 0, skipped: 3, total: 4, flaky: 0 });
    assert.ok(events.includes('end bail.yaml 3 skipped'));
    assert.ok(events.includes('step bail.yaml 3 1 skipped'));
  });

  test('without bail a failure does not stop the others', async () => {
    const server = await refusingFirstSession();
    const result = await runWork(items('nobail.yaml', 3, server), { concurrency: 1 });
    assert.deepEqual(result.cases.map((c) => c.status), ['failed', 'passed', 'passed']);
  });
});

describe('runWork retries', () => {
  const servers: FakeServer[] = [];
  after(() => Promise.all(servers.map((s) => s.close())));

  /** Resets the first `resets` connections, then greets and answers QUIT. */
  async function resettingServer(resets: number): Promise<FakeServer> {
    let seen = 0;
    const server = await fakeServer(async (s) => {
      if (seen++ < resets) return s.reset();
      await s.write('220 ready\r\n');
      if ((await s.nextLine()) === 'QUIT') await s.write('221 bye\r\n');
      s.end();
    });
    servers.push(server);
    return server;
  }

  test('a case that passes after a reset is flaky, with its attempts; reporters see one attempt', async () => {
    const server = await resettingServer(1);
    const { events, reporter } = recorder();
    const result = await runWork(items('retry.yaml', 1, server), { retries: 2, reporter });
    const [only] = result.cases;
    assert.equal(only!.status, 'passed');
    assert.equal(only!.flaky, true);
    assert.equal(only!.attempts, 2);
    // Why it ran again is kept: the first attempt's network failure, with its time.
    assert.equal(only!.earlierAttempts?.length, 1);
    const [first] = only!.earlierAttempts!;
    assert.ok(['reset', 'closed'].includes(first!.failure.kind), first!.failure.kind);
    assert.match(first!.failure.message, /^step 1 \(greeting\): /);
    assert.ok(Date.parse(first!.startedAt) <= Date.parse(only!.startedAt));
    assert.equal(typeof first!.durationMs, 'number');
    assert.equal(server.connectionCount, 2);
    assert.equal(result.counts.flaky, 1);
    assert.equal(result.counts.passed, 1);
    assert.deepEqual(events, [
      'begin 1',
      'case retry.yaml 0',
      'step retry.yaml 0 0 passed',
      'step retry.yaml 0 1 passed',
      'end retry.yaml 0 passed',
      'done 1',
    ]);
  });

  test('without retries the reset is the result', async () => {
    const server = await resettingServer(1);
    const result = await runWork(items('noretry.yaml', 1, server), {});
    assert.equal(result.cases[0]!.status, 'error');
    assert.equal(result.cases[0]!.attempts, undefined);
    assert.equal(result.cases[0]!.earlierAttempts, undefined);
    assert.equal(server.connectionCount, 1);
  });

  test('retries run out: the last error stands, not flaky', async () => {
    const server = await resettingServer(10);
    const result = await runWork(items('always.yaml', 1, server), { retries: 2 });
    const [only] = result.cases;
    assert.equal(only!.status, 'error');
    assert.ok(['reset', 'closed'].includes(only!.failure!.kind), only!.failure!.kind);
    assert.equal(only!.attempts, 3);
    assert.equal(only!.earlierAttempts?.length, 2);
    assert.equal(only!.flaky, undefined);
    assert.equal(server.connectionCount, 3);
    assert.equal(result.counts.flaky, 0);
  });

  /** Greets the first connection with 421 and closes it; later ones are greeted with 220 and answer QUIT. */
  async function busyFirstServer(): Promise<FakeServer> {
    let seen = 0;
    const server = await fakeServer(async (s) => {
      if (seen++ === 0) {
        await s.write('421 4.3.2 busy, try later\r\n');
        return s.end();
      }
      await s.write('220 ready\r\n');
      if ((await s.nextLine()) === 'QUIT') await s.write('221 bye\r\n');
      s.end();
    });
    servers.push(server);
    return server;
  }

  // RFC 5321 §3.8, §4.2.5: a 421 greeting is a transient refusal, whichever step reads it.
  for (const [shape, steps] of [
    ['a greeting step that expects 220', GREET_AND_QUIT],
    ['a first step that sends', '\n    steps:\n      - send: QUIT\n        expect: 221'],
  ] as const) {
    test(`a 421 greeting is retried, read by ${shape}: the case passes as flaky, and the attempt before shows the 421`, async () => {
      const server = await busyFirstServer();
      const work = withTargets([scenario('busy.yaml', `  - name: busy${steps}`)], target(server));
      const result = await runWork(work, { retries: 1 });
      const [only] = result.cases;
      assert.equal(only!.status, 'passed', only!.failure?.message);
      assert.equal(only!.flaky, true);
      assert.equal(only!.attempts, 2);
      const [first] = only!.earlierAttempts!;
      assert.equal(first!.failure.kind, 'closed');
      assert.match(first!.failure.message, /^step 1 \((greeting|send: QUIT)\): .*the server greeted with 421 4\.3\.2 busy, try later: it is not taking sessions now$/);
      assert.equal(server.connectionCount, 2);
    });
  }

  test('an expectation failure is never retried', async () => {
    const server = await fakeServer(async (s) => {
      await s.write('554 no service\r\n');
      if ((await s.nextLine()) === 'QUIT') await s.write('221 bye\r\n');
      s.end();
    });
    servers.push(server);
    const result = await runWork(items('expect.yaml', 1, server), { retries: 3 });
    const [only] = result.cases;
    assert.equal(only!.status, 'failed');
    assert.equal(only!.failure!.kind, 'expectation');
    assert.equal(only!.attempts, undefined);
    assert.equal(server.connectionCount, 1);
  });
});

describe('a fault in smtpspec during a case', () => {
  test('ends the case as an internal error, masked, never retried, its stack handed on', async (t) => {
    const server = await fakeServer(async (s) => {
      await s.write('220 ready\r\n');
      for (let line = await s.nextLine(); line !== undefined; line = await s.nextLine()) {
        await s.write(line === 'QUIT' ? '221 bye\r\n' : '250 ok\r\n');
      }
    });
    t.after(() => server.close());
    const secret = 's3cret-token';
    const [item] = withTargets(
      [parseScenario(`name: fault.yaml\ntimeout: ${GENEROUS}\ncases:\n  - name: fault\n    steps:\n      - expect: 220\n      - send: NOOP \${env:TOKEN}\n        expect: 250\n      - send: QUIT\n        expect: 221\n`, 'fault.yaml', { env: { TOKEN: secret } })],
      target(server),
    );
    let thrown = 0;
    const faults: { id: string; stack: string }[] = [];
    const result = await runWork([item!], {
      retries: 2,
      // A listener of smtpspec's own that breaks on the first command line: a TypeError, as a bug would throw.
      onTranscript: (_info, entry) => {
        if (entry.dir === 'C' && thrown++ === 0) throw new TypeError(`cannot show the command with ${secret}`);
      },
      onInternalFault: (info, fault) => faults.push({ id: info.id, stack: fault.stack }),
    });
    const [only] = result.cases;
    assert.equal(only!.status, 'error');
    assert.equal(only!.failure?.kind, 'internal');
    assert.equal(only!.failure?.message, 'step 2 (send: NOOP ****): internal error: TypeError: cannot show the command with ****');
    assert.deepEqual(only!.steps.map((step) => step.status), ['passed', 'error', 'skipped']);
    assert.equal(only!.attempts, undefined, 'a fault in smtpspec is not the network: no second attempt');
    assert.equal(server.connectionCount, 1);
    assert.equal(faults.length, 1);
    assert.equal(faults[0]!.id, only!.id);
    assert.match(faults[0]!.stack, /^TypeError: cannot show the command with \*\*\*\*\n {4}at /);
    assert.ok(!JSON.stringify({ result, faults }).includes(secret), 'the secret is masked everywhere');
  });
});

describe('a message that cannot be read while it is sent', () => {
  test('ends the case as an error of kind message, never retried: the input, not the network', async (t) => {
    const server = await fakeServer(async (s) => {
      await s.write('220 ready\r\n');
      for (let line = await s.nextLine(); line !== undefined; line = await s.nextLine()) {
        await s.write(line === 'DATA' ? '354 go on\r\n' : line === 'QUIT' ? '221 bye\r\n' : '250 ok\r\n');
      }
    });
    t.after(() => server.close());
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-message-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const message = join(dir, 'message.eml');
    await writeFile(message, 'Subject: gone\r\n\r\nbody\r\n');
    const yaml = `name: gone\ntimeout: ${GENEROUS}\ncases:\n  - name: sends a file\n    steps:\n      - expect: 220\n      - send: MAIL FROM:<a@example.test>\n        expect: 250\n      - send: RCPT TO:<b@example.test>\n        expect: 250\n      - send: DATA\n        expect: 354\n      - data: { file: message.eml }\n        expect: 250\n`;
    const [item] = withTargets([parseScenario(yaml, join(dir, 'gone.yaml'))], target(server));
    // Loaded while the file was there, gone when the message is sent.
    await rm(message);
    const result = await runWork([item!], { retries: 2 });
    const [only] = result.cases;
    assert.equal(only!.status, 'error');
    assert.equal(only!.failure?.kind, 'message');
    assert.match(only!.failure!.message, /cannot read message file/);
    assert.equal(only!.attempts, undefined, 'not retried');
    assert.equal(server.connectionCount, 1);
  });
});

describe('defaultHostKey', () => {
  test('a TCP host whatever its port and case; sockets and commands by themselves', () => {
    assert.equal(defaultHostKey({ host: 'MX.example.com', port: 25 }), defaultHostKey({ host: 'mx.example.com', port: 587 }));
    assert.notEqual(defaultHostKey({ host: '127.0.0.1', port: 25 }), defaultHostKey({ host: '127.0.0.2', port: 25 }));
    assert.notEqual(defaultHostKey({ kind: 'unix', path: '/run/a' }), defaultHostKey({ kind: 'unix', path: '/run/b' }));
    assert.equal(defaultHostKey({ kind: 'exec', argv: ['sendmail', '-bs'] }), 'exec:sendmail -bs');
  });
});
