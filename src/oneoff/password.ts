import { createInterface } from 'node:readline';
import { maskEcho, maskedOutput } from '../record/masked-echo.js';

type Input = NodeJS.ReadableStream & { isTTY?: boolean };

/**
 * The AUTH password for `send`: from the environment (SMTP_PASSWORD, or SMTP_TOKEN for XOAUTH2), from
 * `--auth-password`, or typed on the terminal with every character echoed as `*`. Undefined when there
 * is none of them (no terminal to ask on).
 */
export async function passwordFor(variable: string, given: string | undefined, env: Record<string, string | undefined>, input: Input, output: NodeJS.WritableStream): Promise<string | undefined> {
  if (given !== undefined) return given;
  const fromEnv = env[variable];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (input.isTTY !== true) return undefined;
  const prompt = 'Password: ';
  // readline has edited its line when it echoes: what it shows is masked from the line as it is then.
  let edited: { line: string; cursor: number } = { line: '', cursor: 0 };
  const rl = createInterface({
    input,
    output: maskedOutput(output, (chunk) => maskEcho(chunk, prompt, edited, 0)),
    terminal: true,
  });
  edited = rl;
  try {
    return await new Promise<string>((resolve) => rl.question(prompt, resolve));
  } finally {
    rl.close();
  }
}
