// Precompiles the JSON schemas into standalone ajv validators, so the CLI starts without
// loading and running ajv's compiler. Run after tsc: it reads each spec from the compiled
// module that uses it and writes the validator beside that module.
// Usage: node scripts/build-validators.mjs [outDir]   (default: dist)
import { writeFileSync } from 'node:fs';
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
  ['src/scenario/validate.js', 'stepsValidatorSpec'],
  ['src/manifest/schema.js', 'manifestValidatorSpec'],
];

const { precompiledPath, specSources } = await import(pathToFileURL(join(outDir, 'src/scenario/validate.js')).href);

for (const [module, name] of SPECS) {
  const spec = (await import(pathToFileURL(join(outDir, module)).href))[name];
  const { schema, refs, recordedText } = specSources(spec);
  const ajv = new Ajv2020({ ...spec.options, code: { source: true } });
  for (const ref of refs) ajv.addSchema(JSON.parse(ref));
  const validate = ajv.compile(JSON.parse(schema));
  const code = `${linearErrors(standaloneCode(ajv, validate))}\nmodule.exports.schemaText = ${JSON.stringify(recordedText)};\n`;
  const target = precompiledPath(spec);
  writeFileSync(target, code);
}

/**
 * ajv's generated code gathers the errors of each referenced schema with
 * `vErrors = vErrors === null ? v.errors : vErrors.concat(v.errors)`, copying every error
 * gathered so far at each call: quadratic on a file with thousands of invalid steps.
 * Appending in place gives the same list in linear time.
 */
function linearErrors(code) {
  const gather = /vErrors = vErrors === null \? ([\w.]+) : vErrors\.concat\(\1\);/g;
  return code.replace(gather, (_, errors) => `if (vErrors === null) vErrors = ${errors}; else for (const e of ${errors}) vErrors.push(e);`);
}
