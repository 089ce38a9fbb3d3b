import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as runCommand, type CliResult } from '../helpers/cli.js';
import { projectRoot } from '../helpers/paths.js';

const windows = process.platform === 'win32';
const npm = windows ? 'npm.cmd' : 'npm';
const npx = windows ? 'npx.cmd' : 'npx';
const version = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
const versionLine = new RegExp(`^smtpspec/${version.replace(/\./g, '\\.')} `);

/** Deadlines wide enough for a busy machine: an install takes seconds when idle. */
const INSTALL_MS = 180_000;
const RUN_MS = 60_000;

/** Runs a command in a folder of the test; npm and npx need the shell on Windows. */
function run(command: string, args: string[], cwd: string, timeoutMs = RUN_MS): Promise<CliResult> {
  return runCommand(command, args, { cwd, timeoutMs, shell: windows });
}

function succeeded(outcome: CliResult, what: string): void {
  assert.equal(outcome.code, 0, `${what} failed:\n${outcome.stderr}\n${outcome.stdout}`);
}

// The package as a user gets it: `npm pack` in a clone, then `npm install` of the tarball.
// The suite has just built dist/, so packing skips the scripts (they would build it again).
describe('smtpspec installed from the tarball npm pack makes', () => {
  const work = mkdtempSync(join(tmpdir(), 'smtpspec-install-'));
  const project = join(work, 'project');
  let tarball = '';

  before(async () => {
    const packed = await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], projectRoot);
    succeeded(packed, 'npm pack');
    tarball = join(work, (JSON.parse(packed.stdout) as [{ filename: string }])[0].filename);
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), '{}\n');
    const installed = await run(npm, ['install', '--save-dev', '--no-audit', '--no-fund', '--prefer-offline', tarball], project, INSTALL_MS);
    succeeded(installed, 'npm install of the tarball');
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  test('npx finds the installed program, which prints the version of its package.json', async () => {
    const shown = await run(npx, ['--no', '--', 'smtpspec', '--version'], project);
    succeeded(shown, 'npx smtpspec --version');
    assert.match(shown.stdout, versionLine);
    const saved = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
    assert.match(saved.devDependencies?.smtpspec ?? '', /^file:.*smtpspec-.*\.tgz$/, 'saved as a development dependency');
  });

  test('the installed program runs bundled scenarios against its embedded server, STARTTLS included', async () => {
    const files = ['basic-conversation.yaml', 'starttls.yaml'].map((name) => `node_modules/smtpspec/scenarios/${name}`);
    const ran = await run(npx, ['--no', '--', 'smtpspec', 'run', ...files, '--embedded'], project);
    succeeded(ran, 'npx smtpspec run --embedded');
    for (const file of files) assert.ok(ran.stdout.includes(file), `the report names ${file}`);
    assert.match(ran.stdout, /\b[1-9]\d* passed, 0 failed\b/);
  });

  test('the installed program starts from the code cache the build made', async () => {
    const launcher = join(project, 'node_modules', 'smtpspec', 'dist', 'bin', 'smtpspec.cjs');
    const probe = await run(process.execPath, ['-e', 'process.stdout.write(require(process.argv[1]).codeCache())', launcher], project);
    succeeded(probe, 'reading the code cache');
    assert.equal(probe.stdout, 'used');
  });

  test('installed globally, smtpspec is a command in the bin folder of the prefix', async () => {
    const prefix = join(work, 'global');
    const installed = await run(npm, ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', tarball], work, INSTALL_MS);
    succeeded(installed, 'npm install --global of the tarball');
    const command = windows ? join(prefix, 'smtpspec.cmd') : join(prefix, 'bin', 'smtpspec');
    const shown = await run(command, ['--version'], work);
    succeeded(shown, 'smtpspec --version');
    assert.match(shown.stdout, versionLine);
  });
});
