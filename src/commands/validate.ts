import { EXIT, printWarnings, type CliIO, type ValidateCommand } from '../cli.js';
import { loadScenarios } from '../scenario/load.js';

/**
 * The environment as `validate` sees it: files are checked where the secrets are not
 * (a lint job in CI), so an unset variable reads as a placeholder and is listed instead of
 * failing the check. `run` still refuses to start without it.
 */
function lenientEnv(env: CliIO['env'], missing: Set<string>): CliIO['env'] {
  return new Proxy(env, {
    get(target, name) {
      if (typeof name !== 'string' || target[name] !== undefined) return target[name as string];
      missing.add(name);
      return `<${name}>`;
    },
  });
}

/** Loads and checks every file; problems are thrown as ScenarioError and printed by the CLI. */
export async function validateCommand(command: ValidateCommand, io: CliIO): Promise<number> {
  const missing = new Set<string>();
  const env = lenientEnv(io.env, missing);
  const scenarios = await loadScenarios(command.paths, { vars: command.vars, env, ca: command.ca });
  printWarnings(scenarios, io);
  for (const scenario of scenarios) {
    const cases = scenario.cases.length;
    io.stdout.write(`${scenario.file}: ok (${cases} case${cases === 1 ? '' : 's'})\n`);
  }
  if (missing.size > 0) {
    io.stderr.write(`note: not set in this environment, needed to run: ${[...missing].sort().join(', ')}\n`);
  }
  return EXIT.passed;
}
