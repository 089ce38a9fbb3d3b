import type { SourceIssue, SourcePos } from '../errors.js';

/**
 * `${name}` is a variable, `${env:NAME}` an environment variable, `$${` a literal `${`.
 * Variable values may hold references too; they are resolved where they are used,
 * with the precedence of the layers given (command line, then case, then file).
 */

export type TemplatePart =
  | { kind: 'text'; text: string }
  | { kind: 'var'; name: string }
  | { kind: 'env'; name: string };

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENV_REFERENCE = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;

/** The parts of a template, or one sentence saying why it cannot be read. */
export function parseTemplate(text: string): TemplatePart[] | { error: string } {
  const parts: TemplatePart[] = [];
  let literal = '';
  let index = 0;
  while (index < text.length) {
    const dollar = text.indexOf('$', index);
    if (dollar < 0) {
      literal += text.slice(index);
      break;
    }
    literal += text.slice(index, dollar);
    index = dollar;
    if (text.startsWith('$${', index)) {
      literal += '${';
      index += 3;
    } else if (text.startsWith('${', index)) {
      const close = text.indexOf('}', index + 2);
      if (close < 0) return { error: 'unclosed "${": write "$${" for a literal "${"' };
      const reference = referencePart(text.slice(index + 2, close));
      if ('error' in reference) return reference;
      if (literal) parts.push({ kind: 'text', text: literal });
      parts.push(reference);
      literal = '';
      index = close + 1;
    } else {
      literal += '$';
      index += 1;
    }
  }
  if (literal) parts.push({ kind: 'text', text: literal });
  return parts;
}

function referencePart(inner: string): TemplatePart | { error: string } {
  const env = ENV_REFERENCE.exec(inner);
  if (env?.[1]) return { kind: 'env', name: env[1] };
  if (VAR_NAME.test(inner)) return { kind: 'var', name: inner };
  return {
    error: `"\${${inner}}" is not a variable reference: use \${name} or \${env:NAME}, or "$\${" for a literal "\${"`,
  };
}

/** A variable as defined; `pos` is where its value was written, absent for command-line values (used as is). */
export interface VarDefinition {
  value: string;
  pos?: SourcePos;
}

export type VarLayer = ReadonlyMap<string, VarDefinition>;

export type Env = Record<string, string | undefined>;

/** What a secret's expansion is shown as. */
export const SHOWN_SECRET = '****';

/**
 * The names of variables and environment variables whose values are secret: those the user declares
 * (`--secret NAME`, `secrets:` in the file), and those whose name says so (as Spring Boot's sanitizer
 * reads keys): PASSWORD, PASSWD, PASS, TOKEN, SECRET, KEY, CREDENTIAL anywhere in it, in any case.
 */
export class SecretNames {
  private readonly declared: ReadonlySet<string>;

  constructor(declared: Iterable<string> = []) {
    this.declared = new Set(declared);
  }

  has(name: string): boolean {
    return this.declared.has(name) || SECRET_NAME.test(name);
  }

  /** The same names with more declared. */
  with(more: Iterable<string>): SecretNames {
    return new SecretNames([...this.declared, ...more]);
  }
}

const SECRET_NAME = /pass|token|secret|key|credential/i;

/** A place in text filled only while the session runs, with a value captured from an earlier reply. */
export interface CapturePart {
  capture: string;
}

/**
 * What a reference to a name that no variable layer defines means where it is written
 * (references inside variable values excepted): a run-time placeholder, or an error sentence.
 * Undefined leaves it an undefined variable.
 */
export type UnknownNameRule = (name: string) => 'capture' | { error: string } | undefined;

export interface Expansion {
  /** The expanded text; capture placeholders are left out. */
  text: string;
  /** The expanded text with its capture placeholders, adjacent text merged. */
  parts: (string | CapturePart)[];
  /** Problems found; when there are any, `text` is incomplete. */
  issues: SourceIssue[];
  /** The text as it may be shown: each expansion of a secret variable is `****`; capture placeholders left out. */
  shown: string;
  /** The values of secret variables (and environment variables) it expanded, directly or through a variable. */
  secrets: string[];
  /** `variable "x"` or `environment variable X` when a reference brought in a CR or LF. */
  lineBreakFrom?: string;
}

type PartValue = { text: string; shown: string; secrets: string[] } | CapturePart;

interface ResolvedVar {
  text: string;
  shown: string;
  secrets: string[];
  failed: boolean;
  /** The problems found resolving it, repeated wherever it is used again (duplicates are dropped later). */
  issues: SourceIssue[];
}

interface Expanded {
  text: string;
  shown: string;
  parts: (string | CapturePart)[];
  secrets: string[];
  lineBreakFrom?: string;
  failed: boolean;
}

/** Variables may refer to variables this deep; deeper chains are an error rather than a stack overflow. */
export const MAX_VARIABLE_NESTING = 32;

/** All the text expanded for one file may be at most this long: "billion laughs" built from variables. */
export const MAX_EXPANDED_CHARS = 64 * 1024 * 1024;

/** What each expansion costs besides its text, so that very many small ones are bounded too. */
const EXPANSION_COST = 32;

/** What expansions for one file may still produce; share one among the Interpolators of a file. */
export class ExpansionBudget {
  private left = MAX_EXPANDED_CHARS;
  private issue: SourceIssue | undefined;

  /** False, with the one issue that says so, once the budget is spent. */
  take(chars: number, pos: SourcePos, issues: SourceIssue[]): boolean {
    if (!this.issue) {
      this.left -= chars;
      if (this.left >= 0) return true;
      const megabytes = MAX_EXPANDED_CHARS / (1024 * 1024);
      this.issue = { pos, message: `variables expand to more than ${megabytes} MB of text in this file: use fewer or shorter values` };
    }
    issues.push(this.issue);
    return false;
  }
}

/** Expands templates against variable layers (highest precedence first) and an environment. */
export class Interpolator {
  private readonly resolved = new Map<string, ResolvedVar>();

  constructor(
    private readonly layers: readonly VarLayer[],
    private readonly env: Env,
    private readonly budget = new ExpansionBudget(),
    private readonly secretNames = new SecretNames(),
  ) {}

  expand(template: string, pos: SourcePos, unknownName?: UnknownNameRule): Expansion {
    const issues: SourceIssue[] = [];
    const { failed: _failed, ...result } = this.expandWith(template, pos, [], issues, unknownName);
    return { ...result, issues: distinct(issues) };
  }

  /** Whether a layer defines the name. */
  defines(name: string): boolean {
    return this.definition(name) !== undefined;
  }

  private expandWith(template: string, pos: SourcePos, stack: string[], issues: SourceIssue[], unknownName?: UnknownNameRule): Expanded {
    const parts = this.budget.take(EXPANSION_COST, pos, issues) ? parseTemplate(template) : { error: '' };
    if ('error' in parts) {
      if (parts.error) issues.push({ pos, message: parts.error });
      return { text: template, shown: template, parts: [template], secrets: [], failed: true };
    }
    let text = '';
    let shown = '';
    const expanded: (string | CapturePart)[] = [];
    const secrets: string[] = [];
    let lineBreakFrom: string | undefined;
    let failed = false;
    for (const part of parts) {
      const value = this.partValue(part, pos, stack, issues, unknownName);
      if (value === undefined) {
        failed = true;
        continue;
      }
      if ('capture' in value) {
        expanded.push(value);
        continue;
      }
      // Checked before the text grows, so no string ever gets longer than the budget. A template
      // that is one reference makes no new text (the value itself is used), so it costs nothing.
      const cost = parts.length > 1 ? value.text.length : 0;
      if (!this.budget.take(cost, pos, issues)) return { text, shown, parts: expanded, secrets, failed: true };
      text += value.text;
      shown += value.shown;
      appendText(expanded, value.text);
      pushAll(secrets, value.secrets);
      if (part.kind !== 'text' && lineBreakFrom === undefined && /[\r\n]/.test(value.text)) {
        lineBreakFrom = part.kind === 'var' ? `variable "${part.name}"` : `environment variable ${part.name}`;
      }
    }
    return { text, shown, parts: expanded, secrets, ...(lineBreakFrom === undefined ? {} : { lineBreakFrom }), failed };
  }

  private partValue(
    part: TemplatePart,
    pos: SourcePos,
    stack: string[],
    issues: SourceIssue[],
    unknownName?: UnknownNameRule,
  ): PartValue | undefined {
    if (part.kind === 'text') return { text: part.text, shown: part.text, secrets: [] };
    if (part.kind === 'env') return this.envValue(part.name, pos, issues);
    if (unknownName && stack.length === 0 && !this.definition(part.name)) {
      const rule = unknownName(part.name);
      if (rule === 'capture') return { capture: part.name };
      if (rule) {
        issues.push({ pos, message: rule.error });
        return undefined;
      }
    }
    const resolved = this.variable(part.name, pos, stack, issues);
    return resolved && !resolved.failed ? resolved : undefined;
  }

  private envValue(name: string, pos: SourcePos, issues: SourceIssue[]) {
    const value = this.env[name];
    // Not `=== undefined`: process.env also answers names such as "constructor".
    if (typeof value !== 'string') {
      issues.push({ pos, message: `environment variable ${name} is not set` });
      return undefined;
    }
    return this.secretNames.has(name) ? secretValue(value) : { text: value, shown: value, secrets: [] };
  }

  /** Undefined (with an issue) for an unknown name; `failed` when its value has problems (reported at the value). */
  private variable(name: string, pos: SourcePos, stack: string[], issues: SourceIssue[]): ResolvedVar | undefined {
    const definition = this.definition(name);
    if (!definition) {
      issues.push({ pos, message: `undefined variable "${name}"` });
      return undefined;
    }
    if (!definition.pos) {
      const value = this.secretNames.has(name) ? secretValue(definition.value) : { text: definition.value, shown: definition.value, secrets: [] };
      return { ...value, failed: false, issues: [] };
    }
    if (stack.includes(name)) {
      const loop = [...stack.slice(stack.indexOf(name)), name].join(' → ');
      issues.push({ pos: definition.pos, message: `variables refer to each other in a loop: ${loop}` });
      return { text: '', shown: '', secrets: [], failed: true, issues: [] };
    }
    // Every result is kept, failures too: a variable in a loop fails whichever way it is reached,
    // and computing each value once keeps chains of variables that use others twice linear.
    const cached = this.resolved.get(name);
    if (cached) {
      pushAll(issues, cached.issues);
      return cached;
    }
    if (stack.length >= MAX_VARIABLE_NESTING) {
      const message = `variables refer to each other more than ${MAX_VARIABLE_NESTING} levels deep: ${stack[0]} → … → ${name}`;
      issues.push({ pos: definition.pos, message });
      return { text: '', shown: '', secrets: [], failed: true, issues: [] };
    }
    const found: SourceIssue[] = [];
    const value = this.expandWith(definition.value, definition.pos, [...stack, name], found);
    // A value that uses a failing variable twice gets its issues twice: keep each once.
    const own = [...new Set(found)];
    pushAll(issues, own);
    const secret = this.secretNames.has(name) ? secretValue(value.text) : undefined;
    const resolved = {
      text: value.text,
      shown: secret ? secret.shown : value.shown,
      secrets: [...new Set([...value.secrets, ...(secret?.secrets ?? [])])],
      failed: value.failed || own.length > 0,
      issues: own,
    };
    this.resolved.set(name, resolved);
    return resolved;
  }

  private definition(name: string): VarDefinition | undefined {
    for (const layer of this.layers) {
      const definition = layer.get(name);
      if (definition) return definition;
    }
    return undefined;
  }
}

/** A secret variable's value, shown masked (an empty value shows as nothing). */
function secretValue(value: string): { text: string; shown: string; secrets: string[] } {
  return value === '' ? { text: value, shown: value, secrets: [] } : { text: value, shown: SHOWN_SECRET, secrets: [value] };
}

/** Each problem once: a text may use the same undefined variable many times. */
function distinct(issues: SourceIssue[]): SourceIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const id = `${issue.pos.line}:${issue.pos.col}:${issue.message}`;
    return !seen.has(id) && Boolean(seen.add(id));
  });
}

/** push(...items) overflows the stack for very long lists. */
function pushAll<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item);
}

function appendText(parts: (string | CapturePart)[], text: string): void {
  if (text === '') return;
  const last = parts.at(-1);
  if (typeof last === 'string') parts[parts.length - 1] = last + text;
  else parts.push(text);
}
