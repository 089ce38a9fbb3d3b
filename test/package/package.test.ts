import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { run } from '../helpers/cli.js';
import { sourcePath } from '../helpers/paths.js';

interface PackageJson {
  bin: Record<string, string>;
  exports: Record<string, unknown>;
  scripts: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(sourcePath('package.json'), 'utf8')) as PackageJson;

/** What `npm pack` would put in the package, without running any script. */
function packedFiles(): string[] {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: sourcePath(),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.status, 0, result.stderr);
  const [packed] = JSON.parse(result.stdout) as [{ files: { path: string }[] }];
  return packed.files.map((file) => file.path);
}

describe('the package', () => {
  test('ships the schemas at stable paths, the bundled program, the checks, the examples and the certificate and key of the embedded server', () => {
    const files = packedFiles();
    const expected = [
      'schema/scenario.schema.json',
      'schema/steps.schema.json',
      'schema/manifest.schema.json',
      pkg.bin.smtpspec!,
      'dist/src/index.js',
      'scenarios/checks/open-relay.yaml',
      'examples/bdat.yaml',
      'examples/files/hello.eml',
      'src/server/tls/embedded-cert.pem',
      'src/server/tls/embedded-key.pem',
    ];
    for (const file of expected) assert.ok(files.includes(file.replace(/^\.\//, '')), `${file} is in the package`);
    const notShipped = files.filter((file) => /^(dist\/)?(test|bench)\//.test(file));
    assert.deepEqual(notShipped, [], 'no tests or benchmarks in the package');
  });

  test('exports each schema under its own path, and every exported file exists', () => {
    for (const name of ['scenario', 'steps', 'manifest']) {
      assert.equal(pkg.exports[`./schema/${name}.schema.json`], `./schema/${name}.schema.json`);
    }
    for (const target of Object.values(pkg.exports)) {
      const paths = typeof target === 'string' ? [target] : Object.values(target as Record<string, string>);
      for (const path of paths) assert.ok(existsSync(sourcePath(path)), `${path} exists`);
    }
  });

  test('npm start runs the bundled scenarios against the embedded server, and all pass', async () => {
    // `npm test` has just built: run what npm start runs after its build, through the shell as npm does.
    const [build, command] = pkg.scripts.start!.split(' && ');
    assert.equal(build, 'npm run build --silent');
    const result = await run('sh', ['-c', command!], { cwd: sourcePath() });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^(\d+) passed, 0 failed/m);
    assert.ok(Number(/^(\d+) passed/m.exec(result.stdout)![1]) >= 10, result.stdout);
  });
});
