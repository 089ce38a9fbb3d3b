import { resolve } from 'node:path';
import { EXIT, printWarnings, type CliIO } from './io.js';
import type { ValidateCommand } from './types.js';
import { detectManifest, loadManifest } from '../manifest/manifest.js';
import { UsageError } from '../errors.js';
import { lenientEnv } from '../engine/lenient-env.js';
import { loadTargetScenarios } from '../engine/plan-manifest.js';
import { caProblem, distinctFiles, findFiles } from '../scenario/files.js';
import { CertificateFiles } from '../smtp/certificate-files.js';
import { loadScenarios } from '../scenario/load.js';
import { LoadCache } from '../scenario/load-cache.js';
import { printMissing } from './lenient-env.js';
import { plural } from '../words.js';

/** Loads and checks every file; problems are thrown as ScenarioError and printed by the CLI. */
export async function validateCommand(command: ValidateCommand, io: CliIO): Promise<number> {
  const certificates = new CertificateFiles();
  const unreadable = await caProblem(command.ca, certificates);
  if (unreadable) throw new UsageError(unreadable);
  const missing = new Set<string>();
  const missingFiles = new Set<string>();
  const options = { vars: command.vars, env: lenientEnv(io.env, missing), ca: command.ca, missingFiles, certificates, cache: new LoadCache(), ...(command.includeRoot !== undefined ? { includeRoot: command.includeRoot } : {}) };
  // Each manifest named is parsed once: what was parsed to tell it from a scenario file is loaded.
  const detected = new Map(command.paths.flatMap((path) => {
    const manifest = detectManifest(path);
    return manifest ? [[path, manifest] as const] : [];
  }));
  const named = [...detected.keys()];
  // Manifests met in folders and patterns are checked too: they are left out of the scenarios.
  const found = await findFiles(command.paths.filter((path) => !named.includes(path)));
  const scenarios = found.scenarios.length === 0 ? [] : await loadScenarios(found.scenarios, options);
  const manifests = distinctFiles([...named, ...found.manifests]);
  for (const path of manifests) {
    // A manifest is checked with every scenario it names, each loaded as that target would run it.
    const told = detected.get(path);
    const manifest = await loadManifest(path, { missingFiles, certificates, ...(told ? { detected: told } : {}) });
    for (const target of manifest.targets) scenarios.push(...(await loadTargetScenarios(target, options)));
    io.stdout.write(`${path}: ok (${plural(manifest.targets.length, 'target')})\n`);
  }
  printWarnings(scenarios, io);
  const reported = new Set<string>();
  for (const scenario of scenarios) {
    // The same file may come from a folder and from a manifest, written differently.
    const file = resolve(scenario.file);
    if (reported.has(file)) continue;
    reported.add(file);
    const cases = scenario.cases.length;
    io.stdout.write(`${scenario.file}: ok (${plural(cases, 'case')})\n`);
  }
  printMissing(io, missing, missingFiles);
  return EXIT.passed;
}
