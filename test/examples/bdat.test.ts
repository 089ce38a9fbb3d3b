import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer } from '../helpers/test-server.js';
import { chunkingServer } from '../helpers/chunking-server.js';
import { assertAllPassed, example, EXAMPLES, runExample, stepStatuses } from './fixtures/examples.js';

/** The message file with CRLF line endings: what goes over the wire, before any dot-stuffing. */
const MESSAGE = readFileSync(join(EXAMPLES, 'files/hello.eml'), 'utf8').replace(/\r?\n/g, '\r\n');

async function withChunking(t: TestContext) {
  const server = await chunkingServer();
  t.after(() => server.close());
  return server;
}

describe('examples/bdat.yaml', () => {
  test('passes against a server with CHUNKING: one BDAT LAST chunk, no DATA, the file as it is', async (t) => {
    const server = await withChunking(t);
    const result = await runExample(example('bdat.yaml'), { target: { host: server.host, port: server.port } });
    assertAllPassed(result);
    await server.done();
    assert.deepEqual(server.commands, [
      'EHLO client.example.com',
      'MAIL FROM:<tester@example.com>',
      'RCPT TO:<postmaster@example.com>',
      `BDAT ${Buffer.byteLength(MESSAGE)} LAST`,
      'QUIT',
    ]);
    assert.equal(server.messages.length, 1);
    assert.equal(server.messages[0]!.toString('utf8'), MESSAGE, 'no dot-stuffing: the line starting with a dot is sent once');
    const statuses = stepStatuses(result.cases[0]!);
    assert.deepEqual(statuses, ['passed', 'passed', 'passed', 'passed', 'passed', 'skipped', 'skipped', 'passed']);
  });

  test('falls back to DATA on a server without CHUNKING, and the message arrives the same', async (t) => {
    const server = await startTestServer();
    t.after(() => server.close());
    const result = await runExample(example('bdat.yaml'), { target: { host: server.host, port: server.port } });
    assertAllPassed(result);
    const statuses = stepStatuses(result.cases[0]!);
    assert.deepEqual(statuses, ['passed', 'passed', 'passed', 'passed', 'skipped', 'passed', 'passed', 'passed']);
    assert.match(result.cases[0]!.steps[4]!.message ?? '', /CHUNKING/, 'the skip names the capability');
    assert.equal(server.messages.length, 1);
    assert.equal(server.messages[0]!.body, MESSAGE);
  });

  test('with smaller chunks, every chunk is framed and answered and the message is whole', async (t) => {
    const server = await withChunking(t);
    const dir = mkdtempSync(join(tmpdir(), 'smtpspec-bdat-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const yaml = readFileSync(example('bdat.yaml'), 'utf8');
    const step = /^( +)bdat: 65536$/m;
    assert.match(yaml, step);
    writeFileSync(join(dir, 'bdat.yaml'), yaml.replace(step, '$1bdat: 100'));
    cpSync(join(EXAMPLES, 'files'), join(dir, 'files'), { recursive: true });

    const result = await runExample(join(dir, 'bdat.yaml'), { target: { host: server.host, port: server.port } });
    assertAllPassed(result);
    const size = Buffer.byteLength(MESSAGE);
    const last = size % 100 || 100;
    const bdat = server.commands.filter((command) => command.startsWith('BDAT'));
    assert.deepEqual(bdat, [...Array.from({ length: (size - last) / 100 }, () => 'BDAT 100'), `BDAT ${last} LAST`]);
    assert.equal(server.messages[0]!.toString('utf8'), MESSAGE);
    const data = result.cases[0]!.steps[4]!;
    assert.equal(data.replies?.length, bdat.length, 'one reply per chunk');
  });
});
