import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { main } from '../../src/cli.js';
import { REPORT_IT } from '../../src/commands/internal-error.js';
import type { ResultsDocument } from '../../src/report/json.js';
import { capture } from '../helpers/capture.js';
import { GENEROUS } from '../helpers/deadlines.js';
import { fakeServer, type FakeServer } from '../helpers/fake-server.js';
import { run } from '../helpers/cli.js';
import { sourcePath } from '../helpers/paths.js';

/**
 * Exit code 70: a fault in smtpspec itself, printed with its stack and a request to report it, after the run's
 * reports are complete. The faults are real ones: an output stream that throws a TypeError where it should write.
 */

/** A stream whose write throws a TypeError, as a broken sink does; `when` picks the writes that fail. */
function throwing(stream: PassThrough, when: (text: string) => boolean, error: () => Error): PassThrough {
  const write = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (when(String(chunk))) throw error();
    return write(chunk, ...rest);
  }) as typeof stream.write;
  return stream;
}

describe('internal errors on the command line', () => {
  let server: FakeServer;
  let dir: string;
  let file: string;
  const secret = 's3cret-token';

  before(async () => {
    server = await fakeServer(async (s) => {
      await s.write('220 ready\r\n');
      for (let line = await s.nextLine(); line !== undefined; line = await s.nextLine()) {
        await s.write(line === 'QUIT' ? '221 bye\r\n' : '250 ok\r\n');
        if (line === 'QUIT') return s.end();
      }
    });
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-internal-'));
    file = join(dir, 'noop.yaml');
    await writeFile(
      file,
      `name: noop\ntarget: ${server.host}:${server.port}\ntimeout: ${GENEROUS}\ncases:\n  - name: noop\n    steps:\n      - expect: 220\n      - send: NOOP \${env:TOKEN}\n        expect: 250\n      - send: QUIT\n        expect: 221\n`,
    );
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a reporter whose output breaks exits 70 with the stack; the other reports are complete', async () => {
    const c = capture({ TOKEN: secret });
    const json = join(dir, 'reporter.json');
    const junit = join(dir, 'reporter.xml');
    throwing(c.io.stdout as PassThrough, () => true, () => new TypeError('the console cannot take this'));
    const code = await main(['run', file, '--json', json, '--junit', junit], c.io);
    assert.equal(code, 70, c.stderr());
    const stderr = c.stderr();
    assert.match(stderr, /^smtpspec: internal error in the ConsoleReporter report: TypeError: the console cannot take this\n {4}at /m);
    assert.ok(stderr.endsWith(`smtpspec: ${REPORT_IT}\n`), stderr);
    const document = JSON.parse(await readFile(json, 'utf8')) as ResultsDocument;
    assert.equal(document.counts.passed, 1);
    assert.match(await readFile(junit, 'utf8'), /<\/testsuites>\s*$/);
  });

  test('a fault during a case exits 70 with its masked stack; the case is an internal error, run once despite --retries', async () => {
    const c = capture({ TOKEN: secret });
    const json = join(dir, 'case.json');
    const before = server.connectionCount;
    // The live transcript (--verbose) writes to stderr; its first command line breaks the stream, once.
    let broken = false;
    const fails = (text: string): boolean => !broken && text.includes('C: NOOP') && (broken = true);
    throwing(c.io.stderr as PassThrough, fails, () => new TypeError(`stderr refused a line with ${secret}`));
    const code = await main(['run', file, '--verbose', '--retries', '2', '--reporter', 'tap', '--json', json], c.io);
    assert.equal(code, 70, c.stderr());
    assert.equal(server.connectionCount - before, 1, 'no second attempt');
    const stderr = c.stderr();
    assert.match(stderr, new RegExp(`^smtpspec: internal error in ${escape(file)}#0@[^:]+:\\d+: TypeError: stderr refused a line with \\*{4}\\n {4}at `, 'm'));
    assert.ok(stderr.endsWith(`smtpspec: ${REPORT_IT}\n`), stderr);
    assert.ok(!stderr.includes(secret) && !c.stdout().includes(secret), 'the secret is masked');
    const [kase] = (JSON.parse(await readFile(json, 'utf8')) as ResultsDocument).cases;
    assert.equal(kase!.status, 'error');
    assert.equal(kase!.failure?.kind, 'internal');
    assert.equal(kase!.attempts, undefined);
    assert.ok(!JSON.stringify(kase).includes('    at '), 'the stack stays out of the reports');
  });

  test('a report the system cannot write exits 2 with one sentence and no stack', async () => {
    // Its folder, made before the run, turns into a file while the run prints: the system refuses to write the report.
    const folder = join(dir, 'vanishing');
    const c = capture({ TOKEN: secret });
    const stdout = c.io.stdout as PassThrough;
    const write = stdout.write.bind(stdout);
    stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      rmSync(folder, { recursive: true, force: true });
      writeFileSync(folder, 'a file now');
      return write(chunk, ...rest);
    }) as typeof stdout.write;
    const code = await main(['run', file, '--reporter', 'tap', '--json', join(folder, 'report.json')], c.io);
    assert.equal(code, 2, c.stderr());
    assert.match(c.stderr(), /^smtpspec: the JsonReporter report failed: onEnd: E[A-Z]+: /m);
    assert.doesNotMatch(c.stderr(), /internal error| {4}at /);
  });

  test('a fault outside any run exits 70 with the stack', async () => {
    const c = capture();
    throwing(c.io.stdout as PassThrough, () => true, () => new TypeError('stdout is not what it seems'));
    assert.equal(await main(['checks'], c.io), 70);
    assert.match(c.stderr(), /^smtpspec: internal error: TypeError: stdout is not what it seems\n {4}at .*\n/);
    assert.ok(c.stderr().endsWith(`smtpspec: ${REPORT_IT}\n`), c.stderr());
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('a fault no command caught', () => {
  const module = sourcePath('dist/src/commands/internal-error.js');
  /** A real process with smtpspec's last-resort handlers, running `body` as a module. */
  const program = (body: string) =>
    run(process.execPath, ['--input-type=module', '-e', `import { exitOnUncaughtFaults } from ${JSON.stringify(pathToFileURL(module).href)};\nexitOnUncaughtFaults(process, process.stderr);\n${body}`]);

  test('an exception thrown in a callback exits 70 with its stack, not 1 as a failed case would', async () => {
    const result = await program('setImmediate(() => { const options = undefined; options.timeout; });');
    assert.equal(result.code, 70, result.stderr);
    assert.match(result.stderr, /^smtpspec: internal error: TypeError: Cannot read properties of undefined \(reading 'timeout'\)\n {4}at /);
    assert.ok(result.stderr.trimEnd().endsWith(REPORT_IT));
  });

  test('a promise rejected with no handler exits 70 with its stack', async () => {
    const result = await program("void Promise.reject(new RangeError('a bug'));");
    assert.equal(result.code, 70, result.stderr);
    assert.match(result.stderr, /^smtpspec: internal error: RangeError: a bug\n {4}at /);
  });

  test('an error the system raised is one sentence, exit 2', async () => {
    const result = await program("import { readFile } from 'node:fs';\nreadFile('/no/such/file/here', (error) => { throw error; });");
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr, "smtpspec: ENOENT: no such file or directory, open '/no/such/file/here'\n");
  });
});
