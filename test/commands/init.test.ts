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

/** A commented-out example in a starter: lines `from` to `to`, the `#` of each at `column`. */
interface CommentedBlock {
  from: number;
  to: number;
  column: number;
}

const COMMENT = /^( *)#(?: (.*))?$/;
/** What starts a piece of YAML: a list item or a `key:` (prose has spaces before its colons). */
const YAML_START = /^(?:- |[A-Za-z_$][\w$-]*:(?: |$))/;

/**
 * The commented examples of a starter: a comment line holding a list item or a key (the
 * schema line at the top aside), and the comment lines below it, at the same column, that
 * are indented further. Fails on a comment line that looks like YAML outside any example:
 * it could not be uncommented on its own.
 */
function commentedBlocks(lines: string[]): CommentedBlock[] {
  const blocks: CommentedBlock[] = [];
  for (let i = 1; i < lines.length; i++) {
    const match = COMMENT.exec(lines[i]!);
    const text = match?.[2] ?? '';
    if (!match) continue;
    assert.ok(!YAML_START.test(text.trimStart()) || YAML_START.test(text), `line ${i + 1} is YAML outside an example: ${lines[i]}`);
    if (!YAML_START.test(text)) continue;
    const column = match[1]!.length;
    let to = i;
    while (to + 1 < lines.length && lines[to + 1]!.startsWith(`${' '.repeat(column)}#   `)) to++;
    blocks.push({ from: i, to, column });
    i = to;
  }
  return blocks;
}

/** The lines with the given examples uncommented where they stand: `#` and the space after it removed. */
function uncomment(lines: string[], blocks: CommentedBlock[]): string {
  const out = [...lines];
  for (const { from, to, column } of blocks) {
    for (let i = from; i <= to; i++) out[i] = out[i]!.slice(0, column) + out[i]!.slice(column + 2);
  }
  return out.join('\n');
}

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

  test('every commented example of every starter validates once uncommented, alone or with the others', async () => {
    const starters: { args: string[]; file: string; examples: number }[] = [
      { args: [], file: 'plain.yaml', examples: 3 },
      { args: ['--target', 'mx.example.com'], file: 'targeted.yaml', examples: 2 },
      { args: ['--manifest'], file: 'fleet.yaml', examples: 2 },
      { args: ['--manifest', '--target', 'mx.example.com:2525'], file: 'fleet-targeted.yaml', examples: 2 },
    ];
    const folder = join(dir, 'uncommented');
    await mkdir(folder);
    // The manifests run the scenario starter beside them.
    assert.equal(await main(['init', join(folder, 'smtpspec.yaml')], capture().io), 0);
    for (const starter of starters) {
      const file = join(folder, starter.file);
      assert.equal(await main(['init', file, ...starter.args], capture().io), 0);
      const lines = (await readFile(file, 'utf8')).split('\n');
      const blocks = commentedBlocks(lines);
      assert.equal(blocks.length, starter.examples, `${starter.file}: ${JSON.stringify(blocks)}`);
      for (const chosen of [...blocks.map((block) => [block]), blocks]) {
        const edited = join(folder, `edited-${starter.file}`);
        await writeFile(edited, uncomment(lines, chosen));
        const check = capture();
        const where = `${starter.file}, lines ${chosen.map((block) => `${block.from + 1}-${block.to + 1}`).join(', ')} uncommented`;
        assert.equal(await main(['validate', edited], check.io), 0, `${where}: ${check.stderr()}`);
        assert.doesNotMatch(check.stderr(), /warning/i, where);
      }
    }
  });

  test('a target that is not host[:port] is unusable input', async () => {
    const out = capture();
    assert.equal(await main(['init', join(dir, 'x.yaml'), '--target', 'not a host'], out.io), 2);
    assert.match(out.stderr(), /--target expects host\[:port\], got "not a host"/);
    assert.equal(existsSync(join(dir, 'x.yaml')), false);
  });
});
