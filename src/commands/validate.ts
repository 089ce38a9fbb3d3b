import { EXIT, printWarnings, type CliIO, type ValidateCommand } from '../cli.js';
import { loadScenarios } from '../scenario/load.js';

/** Loads and checks every file; problems are thrown as ScenarioError and printed by the CLI. */
export async function validateCommand(command: ValidateCommand, io: CliIO): Promise<number> {
  const scenarios = await loadScenarios(command.paths, { vars: command.vars, env: io.env, ca: command.ca });
  printWarnings(scenarios, io);
  for (const scenario of scenarios) {
    const cases = scenario.cases.length;
    io.stdout.write(`${scenario.file}: ok (${cases} case${cases === 1 ? '' : 's'})\n`);
  }
  return EXIT.passed;
}
