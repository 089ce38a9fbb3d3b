// Bundles the command-line program into dist/bin/: the entry and the modules every command
// needs in one file, each command's own modules in a chunk loaded when that command runs.
// A run starts by reading a handful of files instead of a hundred (yaml alone is 70 modules).
// Run after tsc and build-validators: it bundles the compiled JavaScript in dist/src.
import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const outdir = join(root, 'dist', 'bin');

/** Packages loaded from node_modules at run time: only some commands need them. */
const EXTERNAL = ['smtp-server', 'ajv', 'ajv/*', 'ajv-formats', 'junit-report-builder'];

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
await build({
  entryPoints: { smtpspec: join(root, 'dist', 'src', 'bin.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  plugins: [inlineYaml],
  // Bundled CommonJS code (yaml) may call require(); ES modules have none of their own.
  banner: { js: "import { createRequire as smtpspecRequire } from 'node:module'; const require = smtpspecRequire(import.meta.url);" },
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
});

// The precompiled validators sit beside the module that loads them, which is now a chunk.
for (const folder of ['scenario', 'manifest']) {
  const from = join(root, 'dist', 'src', folder);
  for (const name of readdirSync(from).filter((file) => file.endsWith('-validator.cjs'))) {
    copyFileSync(join(from, name), join(outdir, 'chunks', name));
  }
}
