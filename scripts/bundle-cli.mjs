// Bundles the command-line program into dist/bin/: smtpspec-main.cjs holds the whole program
// (each command's modules are initialised only when that command runs), smtpspec.cjs is the
// command that runs it through a V8 code cache, made here by running `validate` once. A start
// then reads a few files instead of a hundred (yaml alone is 70 modules) and compiles little.
// Run after tsc and build-validators: it bundles the compiled JavaScript in dist/src.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const outdir = join(root, 'dist', 'bin');

/** Packages loaded from node_modules at run time: only some commands need them. */
const EXTERNAL = ['smtp-server', 'ajv', 'ajv/*', 'ajv-formats', 'junit-report-builder', 'imapflow', 'mailparser', 'dns-packet'];

/** yaml-lib loads yaml with require() to spare unbundled ES module start-up; bundled, a plain import is inlined. */
const inlineYaml = {
  name: 'inline-yaml',
  setup(builder) {
    builder.onLoad({ filter: /[\\/]yaml-lib\.js$/ }, () => ({
      contents: "import * as yaml from 'yaml';\nexport { yaml };\n",
      loader: 'js',
      resolveDir: root,
    }));
  },
};

rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: [join(root, 'dist', 'src', 'bin.js')],
  outfile: join(outdir, 'smtpspec-main.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  plugins: [inlineYaml],
  // The modules find their files (validators, schemas, package.json) from their own URL.
  define: { 'import.meta.url': 'smtpspecModuleUrl' },
  banner: { js: "const smtpspecModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
copyFileSync(join(root, 'src', 'launcher.cjs'), join(outdir, 'smtpspec.cjs'));

// The precompiled validators sit beside the module that loads them, which is now the bundle.
for (const folder of ['scenario', 'manifest']) {
  const from = join(root, 'dist', 'src', folder);
  for (const name of readdirSync(from).filter((file) => file.endsWith('-validator.cjs'))) {
    copyFileSync(join(from, name), join(outdir, name));
  }
}

const warm = spawnSync(
  process.execPath,
  ['-e', "require(process.argv[1]).writeCodeCache(['validate', process.argv[2]])", join(outdir, 'smtpspec.cjs'), join(root, 'scenarios', 'basic-conversation.yaml')],
  { stdio: ['ignore', 'ignore', 'inherit'], timeout: 30_000 },
);
if (warm.status !== 0) throw new Error(`making the code cache failed (exit ${String(warm.status)})`);
