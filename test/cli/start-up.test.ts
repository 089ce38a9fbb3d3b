import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENEROUS_MS } from '../helpers/deadlines.js';
import { bin } from '../helpers/cli.js';
import { sourcePath } from '../helpers/paths.js';

/** What a short command loads: `validate` of one file needs no TLS, crypto, sockets or DNS, and starts without them. */

const UNNEEDED = ['crypto', 'tls', 'net', 'dns/promises', 'fs/promises'];

describe('start-up', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-start-'));
    // Says, as the process ends, which of the modules above it loaded.
    const probe = `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'loaded.json'))}, JSON.stringify(${JSON.stringify(UNNEEDED)}.filter((name) => process.moduleLoadList.includes('NativeModule ' + name)))));`;
    await writeFile(join(dir, 'probe.cjs'), probe);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('validate of one scenario file loads none of node:crypto, node:tls, node:net, node:dns/promises or node:fs/promises', () => {
    // Output to files: a pipe would have Node.js load node:net for it.
    const out = join(dir, 'out.txt');
    const fd = openSync(out, 'w');
    const errors = openSync(join(dir, 'errors.txt'), 'w');
    const result = spawnSync(process.execPath, ['--require', join(dir, 'probe.cjs'), bin, 'validate', sourcePath('scenarios', 'basic-conversation.yaml')], {
      encoding: 'utf8',
      timeout: GENEROUS_MS,
      stdio: ['ignore', fd, errors],
    });
    closeSync(fd);
    closeSync(errors);
    assert.equal(result.status, 0, readFileSync(join(dir, 'errors.txt'), 'utf8'));
    assert.match(readFileSync(out, 'utf8'), /basic-conversation\.yaml: ok/);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'loaded.json'), 'utf8')), []);
  });
});
