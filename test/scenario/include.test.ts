import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli.js';
import { ScenarioError, formatIssue } from '../../src/errors.js';
import { runCase } from '../../src/engine/run-case.js';
import { MAX_INCLUDE_DEPTH } from '../../src/scenario/include.js';
import { loadScenarioFile, parseScenario } from '../../src/scenario/load.js';
import type { Scenario } from '../../src/scenario/types.js';
import { smtpspec } from '../helpers/cli.js';
import { sourcePath } from '../helpers/paths.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const fixture = (...parts: string[]) => sourcePath('test/scenario/fixtures/include', ...parts);
const prelude = (name: string) => fixture('preludes', name);

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(() => server.close());

/** The problems of a file that does not load, one `file:line:col: message` line each. */
async function problems(path: string, vars: Record<string, string> = {}): Promise<string[]> {
  const error = await loadScenarioFile(path, { env: {}, vars }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ScenarioError, `${path} is refused`);
  return error.issues.map(formatIssue);
}

function sentLines(scenario: Scenario, caseIndex: number): string[] {
  return scenario.cases[caseIndex]!.steps.flatMap((step) => (step.action.type === 'send' ? [String(step.action.line)] : []));
}

describe('include', () => {
  test('an included prelude runs against a server and passes; its steps point into the included files', async () => {
    const scenario = await loadScenarioFile(fixture('passing.yaml'), { env: {} });
    const result = await runCase(scenario, scenario.cases[0]!, { host: server.host, port: server.port });
    assert.equal(result.status, 'passed', result.failure?.message);
    assert.deepEqual(
      result.steps.map((step) => [step.index, step.pos.file, step.pos.line, step.status]),
      [
        [0, prelude('greeting.yaml'), 4, 'passed'],
        [1, prelude('ehlo.yaml'), 7, 'passed'],
        [2, fixture('passing.yaml'), 9, 'passed'],
        [3, fixture('passing.yaml'), 11, 'passed'],
      ],
    );
    assert.ok(result.transcript.some((entry) => entry.dir === 'C' && entry.text === 'EHLO prelude.example.test'));
  });

  test("a failing step inside an included file is reported at the included file's position", async () => {
    const scenario = await loadScenarioFile(fixture('failing.yaml'), { env: {} });
    const result = await runCase(scenario, scenario.cases[0]!, { host: server.host, port: server.port });
    assert.equal(result.status, 'failed');
    assert.deepEqual(result.failure?.pos, { file: prelude('refused-ehlo.yaml'), line: 4, col: 5 });
    assert.match(result.failure?.message ?? '', /^step 2 \(send: EHLO client\.example\.test\): expected 554/);
    assert.deepEqual(
      result.steps.map((step) => step.status),
      ['passed', 'failed', 'skipped'],
    );
  });

  test('vars of an included file are defaults: the file, the case and --var override them', async () => {
    const scenario = await loadScenarioFile(fixture('passing.yaml'), { env: {} });
    assert.deepEqual(sentLines(scenario, 0)[0], 'EHLO prelude.example.test');
    assert.deepEqual(sentLines(scenario, 1)[0], 'EHLO case.example.test');
    const overridden = await loadScenarioFile(fixture('passing.yaml'), { env: {}, vars: { client: 'cli.example.test' } });
    assert.deepEqual(sentLines(overridden, 0)[0], 'EHLO cli.example.test');
    assert.deepEqual(sentLines(overridden, 1)[0], 'EHLO cli.example.test');
    const fileWide = parseScenario(
      `vars: { client: file.example.test }\ncases:\n  - name: c\n    steps:\n      - include: ${prelude('ehlo.yaml')}\n`,
      fixture('inline.yaml'),
      { env: {} },
    );
    assert.deepEqual(sentLines(fileWide, 0), ['EHLO file.example.test']);
    assert.equal(fileWide.cases[0]!.vars['client'], 'file.example.test');
  });

  test('includes nest: an included file may include another, relative to itself', async () => {
    const scenario = await loadScenarioFile(fixture('passing.yaml'), { env: {} });
    const first = scenario.cases[0]!.steps[0]!;
    assert.equal(first.action.type, 'read');
    assert.equal(first.pos.file, prelude('greeting.yaml'));
  });

  test('a schema error inside the included file is reported at its own position by validate', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let errors = '';
    stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    const code = await main(['validate', fixture('misspelt.yaml')], { stdout, stderr, env: {} });
    assert.equal(code, 2);
    assert.match(errors, new RegExp(`^${escape(prelude('misspelt.yaml'))}:3:5: unknown key "sned" in a step \\(did you mean "send"\\?\\)$`, 'm'));
    assert.doesNotMatch(errors, /\n\s+at /, 'no stack trace');
  });

  test('a missing file is an error at the include', async () => {
    assert.deepEqual(await problems(fixture('missing.yaml')), [
      `${fixture('missing.yaml')}:4:18: cannot include "preludes/nowhere.yaml": no such file`,
    ]);
  });

  test('a cycle is an error naming the cycle', async () => {
    assert.deepEqual(await problems(fixture('cycle.yaml')), [
      `${prelude('cycle-b.yaml')}:3:14: cannot include "cycle-a.yaml": the includes form a cycle (${prelude('cycle-a.yaml')} → ${prelude('cycle-b.yaml')} → ${prelude('cycle-a.yaml')})`,
    ]);
  });

  test('an include step has no other key', async () => {
    const source = `cases:\n  - name: c\n    steps:\n      - include: ${prelude('greeting.yaml')}\n        expect: 250\n`;
    assert.throws(
      () => parseScenario(source, fixture('inline.yaml'), { env: {} }),
      (error: unknown) =>
        error instanceof ScenarioError &&
        error.issues.length === 1 &&
        /^.*inline\.yaml:4:9: a step with "include" has no other key/.test(formatIssue(error.issues[0]!)),
    );
  });

  test('an undefined variable in an included file is reported where it is written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-include-'));
    try {
      const needs = join(dir, 'needs.yaml');
      await writeFile(needs, 'steps:\n  - send: MAIL FROM:<${sender}>\n');
      const source = 'cases:\n  - name: c\n    steps:\n      - include: needs.yaml\n';
      assert.throws(
        () => parseScenario(source, join(dir, 'main.yaml'), { env: {} }),
        (error: unknown) => error instanceof ScenarioError && formatIssue(error.issues[0]!) === `${needs}:2:11: undefined variable "sender"`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("paths in an included step are relative to the included file's folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-include-'));
    try {
      await mkdir(join(dir, 'shared'));
      await writeFile(join(dir, 'shared', 'message.yaml'), 'steps:\n  - data: { file: message.eml }\n    expect: 250\n');
      // Looked for beside the included file: the load fails if the path is taken from main.yaml's folder.
      await writeFile(join(dir, 'shared', 'message.eml'), 'Subject: hi\r\n\r\nhello\r\n');
      const source = 'cases:\n  - name: c\n    steps:\n      - include: shared/message.yaml\n';
      const action = parseScenario(source, join(dir, 'main.yaml'), { env: {} }).cases[0]!.steps[0]!.action;
      assert.deepEqual(action, { type: 'data', source: { kind: 'file', path: join(dir, 'shared', 'message.eml') } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test(`includes may nest at most ${MAX_INCLUDE_DEPTH} deep`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-include-'));
    try {
      for (let level = 0; level <= MAX_INCLUDE_DEPTH; level++) {
        await writeFile(join(dir, `level-${level}.yaml`), `steps:\n  - include: level-${level + 1}.yaml\n`);
      }
      await writeFile(join(dir, `level-${MAX_INCLUDE_DEPTH + 1}.yaml`), 'steps:\n  - expect: 220\n');
      const source = 'cases:\n  - name: deep\n    steps:\n      - include: level-1.yaml\n';
      assert.throws(
        () => parseScenario(source, join(dir, 'main.yaml'), { env: {} }),
        (error: unknown) =>
          error instanceof ScenarioError &&
          formatIssue(error.issues[0]!) ===
            `${join(dir, `level-${MAX_INCLUDE_DEPTH}.yaml`)}:2:14: cannot include "level-${MAX_INCLUDE_DEPTH + 1}.yaml": includes may nest at most ${MAX_INCLUDE_DEPTH} deep`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('what may be included', () => {
  const MARKER = 'UNIQUE-MARKER-7f3a9c';
  let dir: string;
  let folder: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-include-root-'));
    folder = join(dir, 'checks');
    await mkdir(folder);
    await writeFile(join(folder, 'shadow'), `root:$6$${MARKER}$abc:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n`);
    await writeFile(join(folder, 'map.yaml'), `${MARKER}: 1\nother: ${MARKER}\n`);
    await writeFile(join(folder, 'text.txt'), `just ${MARKER} text\n`);
    await writeFile(join(folder, 'broken.yaml'), `${MARKER}: [unclosed\n  ${MARKER}: {\n`);
    await writeFile(join(folder, 'binary.bin'), Buffer.from([0xff, 0xfe, 0x41, 0x00, 0xc3]));
    await writeFile(join(dir, 'outside.yaml'), 'steps:\n  - send: NOOP\n    expect: 250\n');
    await symlink(join(dir, 'outside.yaml'), join(folder, 'link.yaml'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function scenario(name: string, include: string): Promise<string> {
    const file = join(folder, name);
    await writeFile(file, `target: 127.0.0.1:25\ncases:\n  - name: c\n    steps:\n      - include: ${JSON.stringify(include)}\n`);
    return file;
  }

  test('a file that is not a fragment of steps is refused for what it is not; nothing it says is shown', async () => {
    for (const [include, why] of [
      ['shadow', 'it has no "steps:"'],
      ['broken.yaml', 'it is not YAML with "steps:"'],
      ['map.yaml', 'it has no "steps:"'],
      ['text.txt', 'it is not a YAML map'],
      ['binary.bin', 'it is not UTF-8 text'],
    ] as const) {
      const file = await scenario('not-fragment.yaml', include);
      const result = await smtpspec(['validate', file]);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr, `${file}:5:18: cannot include "${include}": it is not a scenario fragment (${why})\n`);
      assert.ok(!`${result.stdout}${result.stderr}`.includes(MARKER), 'the content is never shown');
    }
  });

  test('an include outside the folder of the scenario file is refused at its position; --include-root allows more', async () => {
    const file = await scenario('escape.yaml', '../outside.yaml');
    const refused = `${file}:5:18: cannot include "../outside.yaml": it is outside ${folder}, the folder of the scenario file (--include-root DIR allows another)`;
    assert.deepEqual(await problems(file), [refused]);
    const absolute = await scenario('absolute.yaml', '/etc/shadow');
    assert.deepEqual(await problems(absolute), [`${absolute}:5:18: cannot include "/etc/shadow": it is outside ${folder}, the folder of the scenario file (--include-root DIR allows another)`]);
    // A symbolic link inside the folder that leads out of it is outside too.
    const linked = await scenario('linked.yaml', 'link.yaml');
    assert.match((await problems(linked))[0]!, /^.*linked\.yaml:5:18: cannot include "link\.yaml": it is outside /);

    const cli = await smtpspec(['validate', file]);
    assert.equal(cli.code, 2);
    assert.equal(cli.stderr, `${refused}\n`);
    const allowed = await smtpspec(['validate', file, '--include-root', dir]);
    assert.equal(allowed.code, 0, allowed.stderr);
    const elsewhere = await smtpspec(['validate', file, '--include-root', join(dir, 'checks')]);
    assert.match(elsewhere.stderr, /cannot include "\.\.\/outside\.yaml": it is outside the --include-root folder /);
  });
});
