import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'tap-parser';
import { main } from '../../src/cli.js';
import { LiveTranscript } from '../../src/report/live-transcript.js';
import type { CaseInfo } from '../../src/engine/results.js';
import { Transcript } from '../../src/smtp/transcript.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { capture } from '../helpers/capture.js';
import { GENEROUS } from '../helpers/deadlines.js';

const PASSWORD = 'pa55-word';

function scenario(port: number, cases: string[]): string {
  const body = cases
    .map(
      (name) => `
  - name: ${name}
    steps:
      - expect: 220
      - send: EHLO client.test
        expect: 250
      - auth:
          mechanism: PLAIN
          username: alice
          password: \${env:SMTP_PASSWORD}
        expect: 235
      - send: QUIT
        expect: 221`,
    )
    .join('\n');
  return `target: 127.0.0.1:${port}\ntimeout: ${GENEROUS}\ncases:${body}\n`;
}

/** The transcript part of a live line: the timestamp and session prefix left out. */
const withoutTime = (line: string) => line.replace(/^(\[\d+\] )?\[\+\d+\.\d{3}s\] /, '$1');

describe('run --verbose', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-verbose-'));
    server = await startTestServer({
      authMethods: ['PLAIN'],
      allowInsecureAuth: true,
      onAuth: (auth, _session, callback) =>
        auth.password === PASSWORD ? callback(null, { user: auth.username }) : callback(new Error('Invalid username or password')),
    });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('streams the session to stderr as it happens, masked, while stdout stays TAP', async () => {
    const file = join(dir, 'one.yaml');
    await writeFile(file, scenario(server.port, ['signs in']));
    const out = capture({ SMTP_PASSWORD: PASSWORD });
    assert.equal(await main(['run', file, '--verbose', '--reporter', 'tap'], out.io), 0, out.stderr());
    const lines = out.stderr().trimEnd().split('\n');
    assert.equal(lines[0], `--- ${file} › signs in`);
    for (const line of lines.slice(1)) assert.match(line, /^\[\+\d+\.\d{3}s\] (C|S|\*)[: ]/);
    const said = lines.slice(1).map(withoutTime).filter((line) => !line.startsWith('*'));
    const order = ['S: 220 ', 'C: EHLO client.test', 'S: 250 ', 'C: AUTH PLAIN ****', 'S: 235 ', 'C: QUIT', 'S: 221 '];
    let at = -1;
    for (const start of order) {
      const found = said.findIndex((line, i) => i > at && line.startsWith(start));
      assert.ok(found > at, `"${start}" after line ${at} in:\n${said.join('\n')}`);
      at = found;
    }
    const stamps = lines.slice(1).map((line) => Number(/\[\+(\d+\.\d{3})s\]/.exec(line)?.[1]));
    assert.deepEqual(stamps, [...stamps].sort((a, b) => a - b), 'times only go forward');
    assert.ok(!out.stderr().includes(PASSWORD));
    assert.ok(!out.stderr().includes(Buffer.from(`\0alice\0${PASSWORD}`).toString('base64')));
    // stdout is untouched TAP.
    const parsed = await new Promise<{ ok: boolean; count: number }>((resolve) => new Parser((r) => resolve(r)).end(out.stdout()));
    assert.equal(parsed.ok, true);
    assert.equal(parsed.count, 1);
    assert.doesNotMatch(out.stdout(), /C: EHLO/);
  });

  test('with several sessions at once, every line names its session', async () => {
    const file = join(dir, 'two.yaml');
    await writeFile(file, scenario(server.port, ['first', 'second']));
    const out = capture({ SMTP_PASSWORD: PASSWORD });
    assert.equal(await main(['run', file, '--verbose', '--concurrency', '2', '--reporter', 'json'], out.io), 0, out.stderr());
    const lines = out.stderr().trimEnd().split('\n');
    for (const line of lines) assert.match(line, /^\[[12]\] /);
    const headings = lines.filter((line) => / --- /.test(line)).map((line) => line.replace(/^\[\d\] --- .* › /, '')).sort();
    assert.deepEqual(headings, ['first', 'second']);
    for (const session of ['[1]', '[2]']) {
      const own = lines.filter((line) => line.startsWith(`${session} `)).map((line) => withoutTime(line.slice(4)));
      assert.match(own[0]!, /^--- /);
      assert.ok(own.includes('C: AUTH PLAIN ****'));
      assert.equal(own.filter((line) => line.startsWith('C: QUIT')).length, 1);
    }
    assert.ok(!out.stderr().includes(PASSWORD));
  });

  test('without --verbose nothing is streamed', async () => {
    const file = join(dir, 'quiet.yaml');
    await writeFile(file, scenario(server.port, ['quiet']));
    const out = capture({ SMTP_PASSWORD: PASSWORD });
    assert.equal(await main(['run', file, '--reporter', 'tap'], out.io), 0);
    assert.equal(out.stderr(), '');
  });
});

describe('LiveTranscript', () => {
  const info = (id: string, target = { host: 'mx.test', port: 25 }): CaseInfo => ({
    id,
    file: 'a.yaml',
    scenarioName: 'A',
    caseName: `case ${id}`,
    caseIndex: 0,
    pos: { file: 'a.yaml', line: 1, col: 1 },
    target,
  });

  test('escapes control characters a server sends, names targets and retried attempts', () => {
    const lines: string[] = [];
    const live = new LiveTranscript((line) => lines.push(line), { concurrent: false, showTarget: true });
    live.listener(info('1'), { atMs: 5, dir: 'S', text: '220 hi\x1b[2J' }, 1);
    live.listener(info('1'), { atMs: 0, dir: 'S', text: '220 again' }, 2);
    assert.deepEqual(lines, [
      '--- a.yaml › case 1 @ mx.test:25',
      '[+0.005s] S: 220 hi\\x1B[2J',
      '--- a.yaml › case 1 @ mx.test:25 (attempt 2)',
      '[+0.000s] S: 220 again',
    ]);
  });

  test('a transcript reports each kept entry once, masked, and says once that it stopped keeping them', () => {
    const seen: string[] = [];
    const transcript = new Transcript({ secrets: ['hunter2'], maxEntries: 2, onEntry: (entry) => seen.push(`${entry.dir} ${entry.text}`) });
    transcript.client('AUTH hunter2');
    transcript.server('235 ok');
    transcript.client('NOOP');
    transcript.client('NOOP');
    assert.deepEqual(seen, ['C AUTH ****', 'S 235 ok', '* … more lines not kept']);
    assert.deepEqual(transcript.entries.map((e) => e.text), ['AUTH ****', '235 ok', '… 2 more lines not kept']);
  });
});
