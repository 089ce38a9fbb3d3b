import type { CompleterResult } from 'node:readline';
import type { Reply } from '../smtp/types.js';

/** Tab completion at the prompt: the usual verbs, plus STARTTLS and AUTH mechanisms as the last EHLO advertised them. */

const VERBS = ['EHLO ', 'HELO ', 'MAIL FROM:<', 'RCPT TO:<', 'DATA', 'RSET', 'NOOP', 'VRFY ', 'HELP', 'QUIT', '.save', '.help'];

/** The keyword lines of an EHLO (or LHLO) reply: every line after the first. */
export function capabilitiesOf(verb: string, reply: Reply): string[] | undefined {
  if ((verb !== 'EHLO' && verb !== 'LHLO') || reply.code !== 250) return undefined;
  return reply.lines.slice(1).map((line) => line.trim().toUpperCase());
}

export function candidates(capabilities: readonly string[]): string[] {
  const extra: string[] = [];
  for (const capability of capabilities) {
    const [keyword, ...parameters] = capability.split(/\s+/);
    if (keyword === 'STARTTLS') extra.push('STARTTLS');
    if (keyword === 'AUTH') extra.push(...parameters.map((mechanism) => `AUTH ${mechanism}`));
  }
  return [...VERBS, ...extra];
}

/** What readline's completer returns: the candidates that start with what was typed, whatever its case. */
export function complete(line: string, options: readonly string[]): CompleterResult {
  const typed = line.toUpperCase();
  return [options.filter((option) => option.toUpperCase().startsWith(typed)), line];
}
