import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { loadScenarios } from '../../src/scenario/load.js';
import { embeddedCaFile, startEmbeddedServer } from '../../src/server/embedded.js';
import { smtpspec } from '../helpers/cli.js';
import { blocks } from '../docs/markdown.js';
import { projectRoot, sourcePath } from '../helpers/paths.js';

/** The bundled scenarios (scenarios/, scenarios/checks/): what a first run of smtpspec meets. */

const SCENARIOS = sourcePath('scenarios');
const SCHEMA = sourcePath('schema/scenario.schema.json');

/** Every YAML file below scenarios/, as a path relative to the project ('scenarios/checks/greeting.yaml'). */
function bundledFiles(dir = SCENARIOS): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? bundledFiles(join(dir, entry.name)) : entry.name.endsWith('.yaml') ? [join(dir, entry.name)] : []))
    .map((file) => relative(projectRoot, file).split('\\').join('/'))
    .sort();
}

/** The first example of `smtpspec run --help`: the command a new user is shown first. */
async function firstRunExample(): Promise<string> {
  const help = await smtpspec(['run', '--help']);
  assert.equal(help.code, 0, help.stderr);
  const examples = help.stdout.split(/^Examples:\n/m)[1] ?? '';
  return examples.split('\n')[0]!.trim();
}

/** The first command in a console block of the README, without its prompt. */
function readmeFirstCommand(): string {
  const readme = { path: 'README.md', text: readFileSync(sourcePath('README.md'), 'utf8') };
  const block = blocks(readme).find((found) => found.lang === 'console');
  return block?.lines.find((line) => line.startsWith('$ '))?.slice(2) ?? '';
}

describe('the bundled scenarios', () => {
  test('every file in scenarios/ and scenarios/checks/ passes validation without warnings, needing no file, variable or environment', async () => {
    const missingFiles = new Set<string>();
    const scenarios = await loadScenarios([SCENARIOS], { env: {}, missingFiles });
    assert.deepEqual([...missingFiles], []);
    assert.deepEqual(scenarios.map((s) => relative(projectRoot, s.file).split('\\').join('/')).sort(), bundledFiles());
    assert.ok(scenarios.length >= 18, `${scenarios.length} files`);
    for (const scenario of scenarios) assert.deepEqual(scenario.warnings, [], `warnings in ${scenario.file}`);
  });

  test('each file starts with the schema line, then a comment saying what it shows', () => {
    for (const file of bundledFiles()) {
      const lines = readFileSync(sourcePath(file), 'utf8').split('\n');
      const schema = relative(dirname(sourcePath(file)), SCHEMA).split('\\').join('/');
      assert.equal(lines[0], `# yaml-language-server: $schema=${schema}`, file);
      assert.equal(lines[1], '#', file);
      assert.match(lines[2] ?? '', /^# \S/, file);
    }
  });

  test('no file takes "nobody" for an unknown user: it is a real account on most systems', () => {
    for (const file of bundledFiles()) assert.doesNotMatch(readFileSync(sourcePath(file), 'utf8'), /<nobody@/i, file);
  });

  test("the first command of run --help and of the README runs every file against the embedded server and exits 0", async (t) => {
    const command = await firstRunExample();
    assert.match(command, /^smtpspec run scenarios\/ --target \S+$/);
    const anyHost = (text: string): string => text.replace(/--target \S+$/, '--target HOST');
    assert.equal(anyHost(readmeFirstCommand()), anyHost(command), 'the README starts with the command run --help shows first');
    const server = await startEmbeddedServer();
    t.after(() => server.close());
    // The command as it stands, pointed at the server. Like a real MX, the server presents a
    // certificate the machine trusts: Node.js adds NODE_EXTRA_CA_CERTS to its trust store, so
    // the command needs no --ca (smtpspec itself trusts the embedded certificate only with --embedded).
    const args = command.replace(/--target \S+$/, `--target 127.0.0.1:${server.port}`).split(' ').slice(1);
    const { code, stdout, stderr } = await smtpspec(args, { cwd: projectRoot, env: { NODE_EXTRA_CA_CERTS: embeddedCaFile() } });
    assert.equal(code, 0, stdout + stderr);
    const ran = [...stdout.matchAll(/^(\S+\.yaml) {2}\(127\.0\.0\.1:(\d+)\)$/gm)].map((match) => match[1]!);
    assert.deepEqual(ran.sort(), bundledFiles(), 'every file of scenarios/ ran');
    assert.match(stdout, /^\d+ passed, 0 failed(, \d+ skipped)?$/m);
    assert.ok(server.messages.length >= 5, 'the messages reached the server');
  });
});
