import type { NormalizeContext, Scope } from './context.js';
import { parseTemplate } from './interpolate.js';
import { codeAlternative, escapeRegExp, parseRegexLiteral, regexProblem } from './patterns.js';
import type { DataPath } from './positions.js';
import type { CodeAlternative, ReplyExpectation, TextPattern } from './types.js';

/** What a reply must be, from `expect` and `text` written in the map at path; undefined when neither is. */
export function expectation(ctx: NormalizeContext, scope: Scope, written: Record<string, unknown>, path: DataPath): ReplyExpectation | undefined {
  const text = typeof written['text'] === 'string' ? textPattern(ctx, scope, written['text'], [...path, 'text'], 'text') : undefined;
  if (written['expect'] === undefined && written['text'] === undefined) return undefined;
  const anyOf = alternatives(ctx, scope, written['expect'], [...path, 'expect']);
  return { anyOf, ...(text ? { text } : {}) };
}

/** The code alternatives of an `expect` value (one, or a list); empty when there is none. */
export function alternatives(ctx: NormalizeContext, scope: Scope, expect: unknown, path: DataPath): CodeAlternative[] {
  if (expect === undefined) return [];
  if (Array.isArray(expect)) return expect.flatMap((item, index) => alternative(ctx, scope, item, [...path, index]));
  return alternative(ctx, scope, expect, path);
}

function alternative(ctx: NormalizeContext, scope: Scope, written: unknown, path: DataPath): CodeAlternative[] {
  const found = typeof written === 'string' && written.includes('${') ? expandedAlternative(ctx, scope, written, path) : codeAlternative(written);
  if (!found) return []; // the schema reports it, or expandedAlternative did
  const { code, enhanced } = found;
  if (code && enhanced && /\d/.test(code[0]!) && /\d/.test(enhanced[0]!) && code[0] !== enhanced[0]) {
    ctx.error(
      ctx.at(path),
      `expect "${String(written)}" can never match: an enhanced status code starts with the reply code's first digit`,
    );
  }
  return [found];
}

/**
 * An alternative written with variables, so that one scenario serves servers that answer differently:
 * it must be a code or pattern once they are replaced.
 */
function expandedAlternative(ctx: NormalizeContext, scope: Scope, written: string, path: DataPath): CodeAlternative | undefined {
  const text = ctx.expand(scope, written, path, { label: 'expect', oneLine: true });
  if (text === undefined) return undefined;
  const found = codeAlternative(text);
  if (!found) {
    const names = referenceNames(written);
    const from = names ? `"${written}" is "${text}" with ${names}` : `"${text}"`;
    ctx.error(ctx.at(path), `expect ${from}, which is not a reply code (250) or a pattern ("2xx", "550 5.1.1", "5.7.1")`);
  }
  return found;
}

/** `variable "code"`, `environment variable CODE`, … : the references a template makes. */
function referenceNames(template: string): string {
  const parts = parseTemplate(template);
  const names = 'error' in parts ? [] : parts.flatMap((part) => (part.kind === 'var' ? [`variable "${part.name}"`] : part.kind === 'env' ? [`environment variable ${part.name}`] : []));
  return [...new Set(names)].join(' and ');
}

/** `/regex/flags` or a literal substring, after variables; label names the key in messages. */
export function textPattern(ctx: NormalizeContext, scope: Scope, written: string, path: DataPath, label: string): TextPattern | undefined {
  const expanded = ctx.expandBoth(scope, written, path, { label });
  if (expanded === undefined) return undefined;
  // `written` is what messages show: a secret variable's expansion stays masked there.
  const { text, shown } = expanded;
  const literal = parseRegexLiteral(text);
  if (!literal) return { source: escapeRegExp(text), flags: '', written: shown };
  const problem = regexProblem(literal.source, literal.flags);
  if (problem) {
    ctx.error(ctx.at(path), `${label} ${shown} ${problem}`);
    return undefined;
  }
  return { ...literal, written: shown };
}
