// Precompiles the JSON schemas into standalone ajv validators, so the CLI starts without
// loading and running ajv's compiler. Run after tsc: it reads each spec from the compiled
// module that uses it and writes the validator beside that module.
// Usage: node scripts/build-validators.mjs [outDir]   (default: dist)
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const outDir = resolve(root, process.argv[2] ?? 'dist');
const require = createRequire(import.meta.url);
const { Ajv2020 } = require('ajv/dist/2020.js');
const standaloneCode = require('ajv/dist/standalone/index.js').default;

/** The compiled modules and the name of the spec each exports. */
const SPECS = [
  ['src/scenario/validate.js', 'scenarioValidatorSpec'],
  ['src/manifest/schema.js', 'manifestValidatorSpec'],
];

const { precompiledPath, schemaDigest } = await import(pathToFileURL(join(outDir, 'src/scenario/validate.js')).href);

for (const [module, name] of SPECS) {
  const spec = (await import(pathToFileURL(join(outDir, module)).href))[name];
  const schemaText = readFileSync(join(root, spec.schemaFile), 'utf8');
  const ajv = new Ajv2020({ ...spec.options, code: { source: true } });
  const validate = ajv.compile(JSON.parse(schemaText));
  const code = `${standaloneCode(ajv, validate)}\nmodule.exports.schemaDigest = ${JSON.stringify(schemaDigest(schemaText))};\n`;
  const target = precompiledPath(spec);
  writeFileSync(target, code);
}
