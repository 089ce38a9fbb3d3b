import type { NormalizeContext, Scope } from './context.js';
import { codeAlternative, escapeRegExp, parseRegexLiteral, regexProblem } from './patterns.js';
import type { DataPath } from './positions.js';
import type { CodeAlternative, ReplyExpectation, TextPattern } from './types.js';

/** What a reply must be, from `expect` and `text` written in the map at path; undefined when neither is. */
export function expectation(ctx: NormalizeContext, scope: Scope, written: Record<string, unknown>, path: DataPath): ReplyExpectation | undefined {
  const text = typeof written['text'] === 'string' ? textPattern(ctx, scope, written['text'], [...path, 'text'], 'text') : undefined;
  if (written['expect'] === undefined && written['text'] === undefined) return undefined;
  const anyOf = alternatives(ctx, written['expect'], [...path, 'expect']);
  return { anyOf, ...(text ? { text } : {}) };
}

/** The code alternatives of an `expect` value (one, or a list); empty when there is none. */
export function alternatives(ctx: NormalizeContext, expect: unknown, path: DataPath): CodeAlternative[] {
  if (expect === undefined) return [];
  if (Array.isArray(expect)) return expect.flatMap((item, index) => alternative(ctx, item, [...path, index]));
  return alternative(ctx, expect, path);
}

function alternative(ctx: NormalizeContext, written: unknown, path: DataPath): CodeAlternative[] {
  const found = codeAlternative(written);
  if (!found) return []; // the schema reports it
  const { code, enhanced } = found;
  if (code && enhanced && /\d/.test(code[0]!) && /\d/.test(enhanced[0]!) && code[0] !== enhanced[0]) {
    ctx.error(
      ctx.at(path),
      `expect "${String(written)}" can never match: an enhanced status code starts with the reply code's first digit`,
    );
  }
  return [found];
}

/** `/regex/flags` or a literal substring, after variables; label names the key in messages. */
export function textPattern(ctx: NormalizeContext, scope: Scope, written: string, path: DataPath, label: string): TextPattern | undefined {
  const text = ctx.expand(scope, written, path, { label });
  if (text === undefined) return undefined;
  const literal = parseRegexLiteral(text);
  if (!literal) return { source: escapeRegExp(text), flags: '', written: text };
  const problem = regexProblem(literal.source, literal.flags);
  if (problem) {
    ctx.error(ctx.at(path), `${label} ${text} ${problem}`);
    return undefined;
  }
  return { ...literal, written: text };
}
