/**
 * EHLO/LHLO capabilities (RFC 5321 §4.1.1.1) and the small language that checks them:
 * `STARTTLS` (advertised), `SIZE >= 10485760` (first parameter compared as a number),
 * `AUTH PLAIN LOGIN` (every parameter advertised). Keywords are case-insensitive.
 */

/**
 * One check in that language, as `capabilities.has` / `lacks` and `when.capability` write it:
 * `STARTTLS` (advertised), `SIZE >= 10485760` (numeric parameter), `AUTH PLAIN LOGIN` (parameters included).
 */
export type CapabilitySpec =
  | { keyword: string; kind: 'present' }
  | { keyword: string; kind: 'compare'; op: '>=' | '<=' | '=' | '>' | '<'; value: number }
  | { keyword: string; kind: 'includes'; params: string[] };

export interface Capabilities {
  /** KEYWORD (upper case) → its parameters, as sent. */
  keywords: Map<string, string[]>;
}

type CompareOp = Extract<CapabilitySpec, { kind: 'compare' }>['op'];

/** RFC 5321 ehlo-keyword: a letter or digit, then letters, digits and hyphens. */
const KEYWORD = /^[A-Za-z0-9][A-Za-z0-9-]*$/;
const COMPARISON = /^([^\s<>=]+)\s*(>=|<=|=|>|<)\s*(.*)$/s;

/** Reads one capability spec; the error is a clause such as `a whole number must follow ">="`. */
export function parseCapabilitySpec(text: string): CapabilitySpec | { error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { error: 'it is empty: write an EHLO keyword such as STARTTLS' };
  const comparison = COMPARISON.exec(trimmed);
  if (comparison) {
    const [, keyword = '', op = '', value = ''] = comparison;
    return keywordError(keyword) ?? compareSpec(keyword, op as CompareOp, value);
  }
  const [keyword = '', ...params] = trimmed.split(/\s+/);
  const error = keywordError(keyword);
  if (error) return error;
  const upper = keyword.toUpperCase();
  return params.length === 0 ? { keyword: upper, kind: 'present' } : { keyword: upper, kind: 'includes', params };
}

function keywordError(keyword: string): { error: string } | undefined {
  if (KEYWORD.test(keyword)) return undefined;
  return { error: `"${keyword}" is not an EHLO keyword: use letters, digits and -` };
}

function compareSpec(keyword: string, op: CompareOp, value: string): CapabilitySpec | { error: string } {
  if (!/^[0-9]+$/.test(value)) return { error: `a whole number must follow "${op}"` };
  return { keyword: keyword.toUpperCase(), kind: 'compare', op, value: Number(value) };
}

/**
 * The capabilities of an EHLO/LHLO reply, given its lines (`Reply.lines`). The first line is
 * the server's domain and greeting, not a keyword. The old form `AUTH=PLAIN LOGIN` counts as AUTH.
 */
export function parseEhloReply(lines: readonly string[]): Capabilities {
  const keywords = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const [first = '', ...rest] = line.trim().split(/\s+/);
    const equals = first.indexOf('=');
    const keyword = equals > 0 ? first.slice(0, equals) : first;
    if (!KEYWORD.test(keyword)) continue;
    const params = equals > 0 ? [first.slice(equals + 1), ...rest].filter((param) => param !== '') : rest;
    const upper = keyword.toUpperCase();
    const known = keywords.get(upper) ?? [];
    keywords.set(upper, [...known, ...params.filter((param) => !includesIgnoringCase(known, param))]);
  }
  return { keywords };
}

/** Whether the capabilities satisfy the spec; a comparison fails when the first parameter is not a number. */
export function checkCapability(caps: Capabilities, spec: CapabilitySpec): boolean {
  const params = caps.keywords.get(spec.keyword.toUpperCase());
  if (!params) return false;
  switch (spec.kind) {
    case 'present':
      return true;
    case 'includes':
      return spec.params.every((param) => includesIgnoringCase(params, param));
    case 'compare':
      return compare(params[0], spec.op, spec.value);
  }
}

function compare(param: string | undefined, op: CompareOp, value: number): boolean {
  if (param === undefined || !/^[0-9]+$/.test(param)) return false;
  const actual = Number(param);
  switch (op) {
    case '>=':
      return actual >= value;
    case '<=':
      return actual <= value;
    case '=':
      return actual === value;
    case '>':
      return actual > value;
    case '<':
      return actual < value;
  }
}

/** The spec in its written form, normalised: `SIZE >= 10485760`, `AUTH PLAIN LOGIN`. */
export function describeSpec(spec: CapabilitySpec): string {
  switch (spec.kind) {
    case 'present':
      return spec.keyword;
    case 'compare':
      return `${spec.keyword} ${spec.op} ${spec.value}`;
    case 'includes':
      return [spec.keyword, ...spec.params].join(' ');
  }
}

function includesIgnoringCase(list: string[], item: string): boolean {
  const upper = item.toUpperCase();
  return list.some((entry) => entry.toUpperCase() === upper);
}
