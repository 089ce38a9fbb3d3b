import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, parseArgs } from '../../src/cli.js';
import { schemaReference } from '../../src/schema-reference.js';
import { GENEROUS } from '../helpers/deadlines.js';
import { sourcePath } from '../helpers/paths.js';
import { startTestServer } from '../helpers/test-server.js';
import { capture } from '../helpers/capture.js';

const HEADER = /^# yaml-language-server: \$schema=(\S+)\n/;

describe('smtpspec init', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-init-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('default file names: smtpspec.yaml, and fleet.yaml with --manifest', () => {
    assert.deepEqual(parseArgs(['init']), { command: 'init', file: 'smtpspec.yaml', manifest: false, force: false });
    assert.deepEqual(parseArgs(['init', '--manifest', '--target', 'mx.example.com:2525', '--force']), {
      command: 'init',
      file: 'fleet.yaml',
      manifest: true,
      target: 'mx.example.com:2525',
      force: true,
    });
  });

  test('writes a scenario that validates, with a schema header editors can follow', async () => {
    const file = join(dir, 'starter.yaml');
    const out = capture();
    assert.equal(await main(['init', file], out.io), 0);
    const text = await readFile(file, 'utf8');
    const schema = HEADER.exec(text)?.[1];
    assert.ok(schema, 'the first line names the schema');
    // Outside any project with smtpspec installed: this installation's schema, as a file URL.
    assert.ok(existsSync(fileURLToPath(schema)));
    assert.equal(JSON.parse(readFileSync(fileURLToPath(schema), 'utf8')).title, JSON.parse(readFileSync(sourcePath('schema/scenario.schema.json'), 'utf8')).title);
    assert.match(text, /^# target: /m, 'without --target the target is left as a comment');
    assert.match(out.stdout(), /wrote .*starter\.yaml/);
    const check = capture();
    assert.equal(await main(['validate', file], check.io), 0, check.stderr());
    assert.match(check.stdout(), /starter\.yaml: ok \(1 case\)/);
  });

  test('refuses to overwrite a file without --force, in one sentence', async () => {
    const file = join(dir, 'mine.yaml');
    await writeFile(file, 'my own work\n');
    const out = capture();
    assert.equal(await main(['init', file], out.io), 2);
    assert.equal(out.stderr(), `smtpspec: ${file} already exists: pass --force to overwrite it\n`);
    assert.equal(await readFile(file, 'utf8'), 'my own work\n');
    assert.equal(await main(['init', file, '--force'], capture().io), 0);
    assert.match(await readFile(file, 'utf8'), HEADER);
  });

  test('refers to a local install in node_modules by a relative path', async () => {
    const project = join(dir, 'project');
    const installed = join(project, 'node_modules', 'smtpspec', 'schema');
    await mkdir(installed, { recursive: true });
    await writeFile(join(installed, 'scenario.schema.json'), '{}');
    await writeFile(join(installed, 'manifest.schema.json'), '{}');
    assert.equal(await main(['init', join(project, 'smtp', 'mx.yaml')], capture().io), 0);
    assert.equal(HEADER.exec(await readFile(join(project, 'smtp', 'mx.yaml'), 'utf8'))?.[1], '../node_modules/smtpspec/schema/scenario.schema.json');
    assert.equal(schemaReference(project, 'manifest'), './node_modules/smtpspec/schema/manifest.schema.json');
  });

  test("inside smtpspec's own folder the reference is relative, like the bundled examples'", () => {
    assert.equal(schemaReference(sourcePath('scenarios'), 'scenario'), '../schema/scenario.schema.json');
  });

  test('with --target the starter runs as it is', async () => {
    const server = await startTestServer();
    try {
      const file = join(dir, 'runnable.yaml');
      assert.equal(await main(['init', file, '--target', `127.0.0.1:${server.port}`], capture().io), 0);
      assert.match(await readFile(file, 'utf8'), new RegExp(`^target: 127\\.0\\.0\\.1:${server.port} `, 'm'));
      const run = capture();
      assert.equal(await main(['run', file, '--timeout', GENEROUS, '--reporter', 'tap'], run.io), 0, run.stdout() + run.stderr());
      assert.equal(server.messages.length, 1);
      assert.deepEqual(server.messages[0]!.to, ['postmaster@example.com']);
      assert.match(server.messages[0]!.body, /Subject: smtpspec test message/);
    } finally {
      await server.close();
    }
  });

  test('an IPv6 target is quoted so that YAML reads it as text', async () => {
    const file = join(dir, 'v6.yaml');
    assert.equal(await main(['init', file, '--target', '[::1]:2525'], capture().io), 0);
    assert.match(await readFile(file, 'utf8'), /^target: "\[::1\]:2525" /m);
    assert.equal(await main(['validate', file], capture().io), 0);
  });

  test('a starter manifest validates with the starter scenario beside it', async () => {
    const fleet = join(dir, 'fleet');
    const manifest = join(fleet, 'fleet.yaml');
    const first = capture();
    assert.equal(await main(['init', '--manifest', manifest, '--target', 'mx1.example.net:587'], first.io), 0);
    assert.match(first.stdout(), /smtpspec\.yaml beside it, which does not exist yet/);
    const text = await readFile(manifest, 'utf8');
    assert.match(text, /\$schema=\S+manifest\.schema\.json\n/);
    assert.match(text, /host: mx1\.example\.net\n\s+port: 587\n/);
    assert.equal(await main(['init', join(fleet, 'smtpspec.yaml')], capture().io), 0);
    const check = capture();
    assert.equal(await main(['validate', manifest], check.io), 0, check.stderr());
    assert.match(check.stdout(), /fleet\.yaml: ok \(1 target\)/);
  });

  test('a target that is not host[:port] is unusable input', async () => {
    const out = capture();
    assert.equal(await main(['init', join(dir, 'x.yaml'), '--target', 'not a host'], out.io), 2);
    assert.match(out.stderr(), /--target expects host\[:port\], got "not a host"/);
    assert.equal(existsSync(join(dir, 'x.yaml')), false);
  });
});
