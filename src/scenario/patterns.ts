import type { CodeAlternative } from './types.js';

/** `/source/flags` as written in a scenario. */
const REGEX_LITERAL = /^\/(.+)\/([A-Za-z]*)$/s;
const ALLOWED_FLAGS = 'imsu';
const CODE = /^[2-5][0-9x]{2}$/;
const ENHANCED = /^[245x]\.(x|[0-9]{1,3})\.(x|[0-9]{1,3})$/;

/** The parts of a `/regex/flags` literal, or undefined when the text is not one. */
export function parseRegexLiteral(text: string): { source: string; flags: string } | undefined {
  const literal = REGEX_LITERAL.exec(text);
  if (!literal) return undefined;
  const [, source = '', flags = ''] = literal;
  return { source, flags };
}

/** Why a regular expression cannot be used (a clause after the pattern), or undefined. */
export function regexProblem(source: string, flags: string): string | undefined {
  return flagProblem(flags) ?? compileProblem(source, flags);
}

function flagProblem(flags: string): string | undefined {
  for (const [index, flag] of [...flags].entries()) {
    if (flag === 'g' || flag === 'y') return `has the flag "${flag}", which means nothing here: use i, m, s or u`;
    if (!ALLOWED_FLAGS.includes(flag)) return `has an unknown flag "${flag}": use i, m, s or u`;
    if (flags.indexOf(flag) !== index) return `has the flag "${flag}" twice`;
  }
  return undefined;
}

function compileProblem(source: string, flags: string): string | undefined {
  try {
    new RegExp(source, flags);
    return undefined;
  } catch (error) {
    const reason = (error as Error).message.split(': ').at(-1) ?? '';
    return `is not a valid regular expression: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`;
  }
}

/** How many capture groups (named or not) a valid regular expression has. */
export function captureGroupCount(source: string, flags: string): number {
  // An alternative that matches the empty string makes every group take part in the result.
  return (new RegExp(`${source}|`, flags).exec('')?.length ?? 1) - 1;
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The normalised form of one written alternative: codes and enhanced codes with lowercase x. */
export function codeAlternative(written: unknown): CodeAlternative | undefined {
  if (typeof written === 'number') return Number.isInteger(written) ? { code: String(written) } : undefined;
  if (typeof written !== 'string') return undefined;
  const [first = '', second, ...rest] = written.toLowerCase().split(' ');
  if (rest.length > 0) return undefined;
  if (second === undefined) {
    if (CODE.test(first)) return { code: first };
    return ENHANCED.test(first) ? { enhanced: normalizeEnhanced(first) } : undefined;
  }
  return CODE.test(first) && ENHANCED.test(second) ? { code: first, enhanced: normalizeEnhanced(second) } : undefined;
}

/** `5.01.1` → `5.1.1`: RFC 3463 sub-codes have no leading zeros. */
function normalizeEnhanced(enhanced: string): string {
  return enhanced
    .split('.')
    .map((part) => (part === 'x' ? part : String(Number(part))))
    .join('.');
}
