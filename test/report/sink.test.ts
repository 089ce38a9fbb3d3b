import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { fileSink, memorySink, streamSink } from '../../src/report/sink.js';

async function tempFolder(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'smtpspec-sink-'));
  t.after(() => rm(folder, { recursive: true, force: true }));
  return folder;
}

describe('streamSink', () => {
  test('writes through and never ends the stream', async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    const sink = streamSink(stream);
    sink.write('one\n');
    sink.write('two\n');
    await sink.close();
    assert.equal(chunks.join(''), 'one\ntwo\n');
    assert.equal(stream.writableEnded, false);
    assert.equal(stream.write('still open\n'), true);
  });

  test('close waits until a full stream has drained', async () => {
    let release: (() => void) | undefined;
    const stream = new Writable({
      highWaterMark: 4,
      write(_chunk, _encoding, callback) {
        release = () => callback();
      },
    });
    const sink = streamSink(stream);
    sink.write('more than four bytes');
    let closed = false;
    const closing = sink.close().then(() => (closed = true));
    await nextTurn();
    assert.equal(closed, false, 'still waiting for the drain');
    release!();
    await closing;
    assert.equal(closed, true);
    assert.equal(stream.writableEnded, false);
  });

  test('close does not wait for a drain that already happened', async () => {
    const stream = new Writable({
      highWaterMark: 4,
      write(_chunk, _encoding, callback) {
        setImmediate(callback);
      },
    });
    const sink = streamSink(stream);
    sink.write('more than four bytes');
    await once(stream, 'drain');
    await sink.close();
    assert.equal(stream.writableNeedDrain, false);
  });

  test('close does not hang on a stream that failed instead of draining', async () => {
    const stream = new Writable({
      highWaterMark: 1,
      write(_chunk, _encoding, callback) {
        callback(new Error('broken pipe'));
      },
    });
    const sink = streamSink(stream);
    sink.write('data');
    const [error] = (await once(stream, 'error')) as [Error];
    assert.equal(error.message, 'broken pipe');
    await sink.close();
    assert.equal(stream.destroyed, true);
  });
  test('after its stream fails (a closed pipe, a full disk) it writes nothing more, quietly, and closes at once', async () => {
    let writes = 0;
    // Like process.stdout: a failed write does not destroy the stream, and each later write fails again.
    const stream = new Writable({
      highWaterMark: 1,
      autoDestroy: false,
      write(_chunk, _encoding, callback) {
        writes += 1;
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' }));
      },
    });
    const sink = streamSink(stream); // its error listener keeps the failure from being an uncaught one
    sink.write('first line\n');
    await once(stream, 'error');
    sink.write('second line\n');
    sink.write('third line\n');
    await sink.close();
    assert.equal(writes, 1, 'nothing written after the failure');
  });
});

describe('fileSink', () => {
  test('writes the whole text only on close, creating missing folders, leaving no temp file', async (t) => {
    const folder = await tempFolder(t);
    const path = join(folder, 'reports', 'nested', 'junit.xml');
    const sink = fileSink(path);
    sink.write('<a>');
    sink.write('</a>\n');
    await assert.rejects(readFile(path), { code: 'ENOENT' });
    await sink.close();
    assert.equal(await readFile(path, 'utf8'), '<a></a>\n');
    assert.deepEqual(await readdir(join(folder, 'reports', 'nested')), ['junit.xml']);
  });

  test('replaces an existing report in one step: the old text stays until close', async (t) => {
    const folder = await tempFolder(t);
    const path = join(folder, 'report.tap');
    await writeFile(path, 'old report\n');
    const sink = fileSink(path);
    sink.write('new ');
    assert.equal(await readFile(path, 'utf8'), 'old report\n');
    sink.write('report\n');
    await sink.close();
    assert.equal(await readFile(path, 'utf8'), 'new report\n');
    assert.deepEqual(await readdir(folder), ['report.tap']);
  });

  test('close is idempotent and later writes are refused', async (t) => {
    const folder = await tempFolder(t);
    const path = join(folder, 'out.txt');
    const sink = fileSink(path);
    sink.write('once\n');
    await Promise.all([sink.close(), sink.close()]);
    assert.throws(() => sink.write('late'), /already closed/);
    assert.equal(await readFile(path, 'utf8'), 'once\n');
  });

  test('a failed write rejects and leaves no temp file behind', async (t) => {
    const folder = await tempFolder(t);
    const path = join(folder, 'taken');
    // A folder where the report should go: rename fails after the temp file was written.
    await writeFile(join(folder, 'keep.txt'), 'x');
    await mkdir(path);
    await writeFile(join(path, 'inside'), 'x');
    const sink = fileSink(path);
    sink.write('report');
    await assert.rejects(sink.close());
    assert.deepEqual((await readdir(folder)).sort(), ['keep.txt', 'taken']);
  });
});

describe('memorySink', () => {
  test('collects text and records that it was closed', async () => {
    const sink = memorySink();
    sink.write('a');
    sink.write('b');
    assert.equal(sink.closed, false);
    await sink.close();
    assert.equal(sink.text, 'ab');
    assert.equal(sink.closed, true);
  });
});
