import type { CodeAlternative, ReplyExpectation } from '../scenario/types.js';
import type { Reply } from '../smtp/types.js';
import { orList, plural } from '../words.js';

/**
 * Reply-code patterns: exact (`250`), digit wildcards (`2xx`, `25x`), any-of lists,
 * RFC 3463 enhanced status codes (`5.7.1`, `5.1.x`) and a regular expression on the text.
 */

export type MatchResult = { ok: true } | { ok: false; reason: string };

/** `x` in a pattern part matches any digit(s) in that place; everything else must be equal. */
function codeMatches(pattern: string, code: number): boolean {
  // Reply codes are three digits: compared digit by digit, without making a string of the code.
  if (pattern.length === 3 && code >= 100 && code <= 999) {
    return digitMatches(pattern, 0, Math.floor(code / 100)) && digitMatches(pattern, 1, Math.floor(code / 10) % 10) && digitMatches(pattern, 2, code % 10);
  }
  const digits = String(code);
  if (pattern.length !== digits.length) return false;
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== 'x' && pattern[i] !== digits[i]) return false;
  }
  return true;
}

const X = 0x78;
const ZERO = 0x30;
const digitMatches = (pattern: string, at: number, digit: number): boolean => {
  const char = pattern.charCodeAt(at);
  return char === X || char === ZERO + digit;
};

function enhancedMatches(pattern: string, enhanced: string | undefined): boolean {
  if (enhanced === undefined) return false;
  const want = pattern.split('.');
  const got = enhanced.split('.');
  return want.length === got.length && want.every((p, i) => p === 'x' || p === got[i]);
}

function alternativeMatches(alt: CodeAlternative, reply: Reply): boolean {
  if (alt.code !== undefined && !codeMatches(alt.code, reply.code)) return false;
  if (alt.enhanced !== undefined && !enhancedMatches(alt.enhanced, reply.enhanced)) return false;
  return true;
}

function anyAlternativeMatches(alternatives: CodeAlternative[], reply: Reply): boolean {
  for (const alt of alternatives) if (alternativeMatches(alt, reply)) return true;
  return false;
}

/** The whole reply text, one line per reply line, codes left out. */
export function replyText(reply: Reply): string {
  return reply.lines.join('\n');
}

/** Checks a reply against an expectation; the reason is phrased for a failure message. */
const MATCHED: MatchResult = Object.freeze({ ok: true });

export function matchReply(expect: ReplyExpectation | undefined, reply: Reply): MatchResult {
  if (!expect) return MATCHED;
  const codesOk = expect.anyOf.length === 0 || anyAlternativeMatches(expect.anyOf, reply);
  const textOk = !expect.text || new RegExp(expect.text.source, expect.text.flags).test(replyText(reply));
  if (codesOk && textOk) return MATCHED;
  return { ok: false, reason: `expected ${describeExpectation(expect)}, got ${describeReply(reply)}` };
}

function describeAlternative(alt: CodeAlternative): string {
  return [alt.code, alt.enhanced].filter((part) => part !== undefined).join(' ') || 'any reply';
}

/** The expectation in words: `250 or 251`, `550 5.1.1`, `2xx with text /ESMTP/i`. */
export function describeExpectation(expect: ReplyExpectation | undefined): string {
  if (!expect) return 'any reply';
  const alternatives = expect.anyOf.map(describeAlternative);
  const codes = alternatives.length > 0 ? orList(alternatives) : undefined;
  if (!expect.text) return codes ?? 'any reply';
  const text = `text ${expect.text.written}`;
  return codes ? `${codes} with ${text}` : `a reply with ${text}`;
}

/** A reply in one line: `550 5.1.1 No such user`, with a note when it had more lines. */
export function describeReply(reply: Reply): string {
  const first = reply.lines[0] ?? '';
  const head = first === '' ? String(reply.code) : `${reply.code} ${first}`;
  const more = reply.lines.length - 1;
  return more > 0 ? `${head} (+${plural(more, 'more line')})` : head;
}
