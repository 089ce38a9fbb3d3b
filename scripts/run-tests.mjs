// Runs every compiled test file with Node's built-in test runner.
// Files are listed explicitly so the same command works on Node 20 and later
// (Node 21+ treats positional arguments as globs, Node 20 does not).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const testDir = join(root, 'dist', 'test');

function findTests(dir) {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return findTests(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

const filter = process.argv.slice(2);
// Only compiled tests whose source still exists: a test deleted or renamed in test/ may
// have left its old output in dist/.
const hasSource = (file) => existsSync(join(root, 'test', relative(testDir, file)).replace(/\.js$/, '.ts'));
const files = findTests(testDir)
  .filter(hasSource)
  .map((f) => relative(root, f))
  .filter((f) => filter.length === 0 || filter.some((part) => f.includes(part)));
if (files.length === 0) {
  console.error('no test files found under dist/test (run "npm run build" first)');
  process.exit(1);
}
const reporter = ['--test-reporter=spec'];
// Files run side by side, two per core: a file's process spends much of its time starting up or
// waiting for sockets and child processes, and Node's default (one file fewer than there are cores)
// would leave a small machine half idle.
const concurrency = [`--test-concurrency=${Math.max(2, availableParallelism()) * 2}`];
const result = spawnSync(process.execPath, ['--test', ...concurrency, ...reporter, ...files], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
