import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomically } from '../src/atomic-file.js';

describe('writeFileAtomically', () => {
  const dir = mkdtempSync(join(tmpdir(), 'smtpspec-atomic-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('writes the file and leaves no temporary file', async () => {
    const path = join(dir, 'a.yaml');
    await writeFileAtomically(path, 'one\n', { replace: false });
    assert.equal(readFileSync(path, 'utf8'), 'one\n');
    assert.deepEqual(readdirSync(dir), ['a.yaml']);
  });

  test('never replaces an existing file without replace, and replaces it with replace', async () => {
    const path = join(dir, 'b.yaml');
    writeFileSync(path, 'theirs\n');
    await assert.rejects(writeFileAtomically(path, 'mine\n', { replace: false }), { code: 'EEXIST' });
    assert.equal(readFileSync(path, 'utf8'), 'theirs\n');
    await writeFileAtomically(path, 'mine\n', { replace: true });
    assert.equal(readFileSync(path, 'utf8'), 'mine\n');
    assert.deepEqual(readdirSync(dir).sort(), ['a.yaml', 'b.yaml']);
  });

  test('creates missing folders only when asked', async () => {
    const path = join(dir, 'c', 'd', 'e.xml');
    await assert.rejects(writeFileAtomically(path, '<e/>\n', { replace: true }), { code: 'ENOENT' });
    await writeFileAtomically(path, '<e/>\n', { replace: true, createFolder: true });
    assert.equal(readFileSync(path, 'utf8'), '<e/>\n');
    assert.deepEqual(readdirSync(join(dir, 'c', 'd')), ['e.xml']);
  });
});
