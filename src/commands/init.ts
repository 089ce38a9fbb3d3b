import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { writeFileAtomically } from '../atomic-file.js';
import { EXIT, type CliIO } from './io.js';
import type { InitCommand } from './types.js';
import { DEFAULT_SCENARIO_FILE } from '../cli-options.js';
import { InputError, isSystemError } from '../errors.js';
import { parseTarget } from '../scenario/target.js';
import { isTcpTarget } from '../scenario/types.js';
import { portable, schemaReference } from '../schema-reference.js';
import { starterManifest, starterScenario } from '../templates/starters.js';

/** `smtpspec init`: a starter scenario or manifest whose first line points editors at the schema. */

/** A YAML scalar for a host or target: plain when that is safe, else double-quoted. */
function yamlScalar(text: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._-]*(:[0-9]+)?$/.test(text) ? text : JSON.stringify(text);
}

function contents(command: InitCommand, dir: string): string {
  const file = command.file;
  if (!command.manifest) {
    return starterScenario({ schema: schemaReference(dir, 'scenario'), file, ...(command.target ? { target: yamlScalar(command.target) } : {}) });
  }
  const target = command.target === undefined ? undefined : parseTarget(command.target);
  const host = target && isTcpTarget(target) ? { host: yamlScalar(target.host), port: target.port } : {};
  return starterManifest({ schema: schemaReference(dir, 'manifest'), file, scenario: DEFAULT_SCENARIO_FILE, ...host });
}

/** A system error writing the file as one sentence; anything else is a fault in smtpspec, and stays as it is. */
function writeProblem(file: string, error: unknown): unknown {
  if (!isSystemError(error)) return error;
  const code = error.code;
  if (code === 'EEXIST') return new InputError(`${file} already exists: pass --force to overwrite it`);
  if (code === 'EACCES' || code === 'EPERM') return new InputError(`cannot write ${file}: permission denied`);
  if (code === 'EISDIR') return new InputError(`cannot write ${file}: it is a folder`);
  return new InputError(`cannot write ${file}: ${error.message}`);
}

export async function initCommand(command: InitCommand, io: CliIO): Promise<number> {
  const path = resolve(command.file);
  const dir = dirname(path);
  const text = contents(command, dir);
  try {
    writeFileAtomically(path, text, { replace: command.force, createFolder: true });
  } catch (error) {
    throw writeProblem(command.file, error);
  }
  io.stdout.write(`wrote ${command.file}\n`);
  if (command.manifest && !existsSync(join(dir, DEFAULT_SCENARIO_FILE))) {
    io.stdout.write(`it runs ${DEFAULT_SCENARIO_FILE} beside it, which does not exist yet: write one with "smtpspec init ${portable(relative(process.cwd(), join(dir, DEFAULT_SCENARIO_FILE)))}"\n`);
  }
  io.stdout.write(`next: smtpspec validate ${command.file}\n`);
  return EXIT.passed;
}
