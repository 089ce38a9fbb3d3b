import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFolder, prepareFolderFor, writeFileAtomically } from '../src/atomic-file.js';

describe('writeFileAtomically', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smtpspec-atomic-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('writes the file and leaves no temporary file', async () => {
    const path = join(dir, 'a.yaml');
    writeFileAtomically(path, 'one\n', { replace: false });
    assert.equal(readFileSync(path, 'utf8'), 'one\n');
    assert.deepEqual(readdirSync(dir), ['a.yaml']);
  });

  test('never replaces an existing file without replace, and replaces it with replace', async () => {
    const path = join(dir, 'b.yaml');
    writeFileSync(path, 'theirs\n');
    assert.throws(() => writeFileAtomically(path, 'mine\n', { replace: false }), { code: 'EEXIST' });
    assert.equal(readFileSync(path, 'utf8'), 'theirs\n');
    writeFileAtomically(path, 'mine\n', { replace: true });
    assert.equal(readFileSync(path, 'utf8'), 'mine\n');
    assert.deepEqual(readdirSync(dir).sort(), ['a.yaml', 'b.yaml']);
  });

  test('writes text given in pieces in order, a character split between two pieces whole, past the size of one write', () => {
    const path = join(dir, 'pieces.html');
    const smile = '\u{1F600}';
    const big = 'x'.repeat((1 << 20) - 1);
    const pieces = ['<p>', big, smile[0]!, smile[1]!, ' ', smile, '</p>\n', ''];
    writeFileAtomically(path, pieces, { replace: false });
    assert.equal(readFileSync(path, 'utf8'), pieces.join(''));
    assert.deepEqual(readdirSync(dir).filter((name) => name.startsWith('.')), [], 'no temporary file');
    assert.throws(() => writeFileAtomically(path, ['again'], { replace: false }), { code: 'EEXIST' });
    assert.equal(readFileSync(path, 'utf8'), pieces.join(''));
  });

  test('creates missing folders only when asked', async () => {
    const path = join(dir, 'c', 'd', 'e.xml');
    assert.throws(() => writeFileAtomically(path, '<e/>\n', { replace: true }), { code: 'ENOENT' });
    writeFileAtomically(path, '<e/>\n', { replace: true, createFolder: true });
    assert.equal(readFileSync(path, 'utf8'), '<e/>\n');
    assert.deepEqual(readdirSync(join(dir, 'c', 'd')), ['e.xml']);
  });

  test('a folder that cannot be made fails with the system\'s error, never loops', { skip: !existsSync('/proc/self') }, () => {
    // Node's recursive mkdir retries such a path for ever.
    assert.throws(() => createFolder('/proc/nope/deeper'), { code: 'ENOENT', syscall: 'mkdir' });
    assert.throws(() => prepareFolderFor('/proc/nope/r.xml'), { code: 'ENOENT', syscall: 'mkdir' });
  });

  test('a file where a folder should be fails as not a folder', () => {
    writeFileSync(join(dir, 'plain'), 'x');
    assert.throws(() => createFolder(join(dir, 'plain', 'sub')), { code: 'ENOTDIR', syscall: 'mkdir' });
    assert.throws(() => createFolder(join(dir, 'plain')), { code: 'ENOTDIR', syscall: 'mkdir' });
  });

  test('prepareFolderFor makes the folder and leaves no file in it', () => {
    const path = join(dir, 'made', 'here', 'r.xml');
    prepareFolderFor(path);
    assert.deepEqual(readdirSync(join(dir, 'made', 'here')), []);
  });
});
