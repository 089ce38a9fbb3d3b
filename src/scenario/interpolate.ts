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
      literal += text[index];
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
  /** Values that came from the environment, directly or through a variable. */
  secrets: string[];
  /** `variable "x"` or `environment variable X` when a reference brought in a CR or LF. */
  lineBreakFrom?: string;
}

type PartValue = { text: string; secrets: string[] } | CapturePart;

interface ResolvedVar {
  text: string;
  secrets: string[];
  failed: boolean;
}

/** Expands templates against variable layers (highest precedence first) and an environment. */
export class Interpolator {
  private readonly resolved = new Map<string, ResolvedVar>();

  constructor(
    private readonly layers: readonly VarLayer[],
    private readonly env: Env,
  ) {}

  expand(template: string, pos: SourcePos, unknownName?: UnknownNameRule): Expansion {
    const issues: SourceIssue[] = [];
    const result = this.expandWith(template, pos, [], issues, unknownName);
    return { ...result, issues };
  }

  /** Whether a layer defines the name. */
  defines(name: string): boolean {
    return this.definition(name) !== undefined;
  }

  private expandWith(template: string, pos: SourcePos, stack: string[], issues: SourceIssue[], unknownName?: UnknownNameRule) {
    const parts = parseTemplate(template);
    if ('error' in parts) {
      issues.push({ pos, message: parts.error });
      return { text: template, parts: [template], secrets: [] };
    }
    let text = '';
    const expanded: (string | CapturePart)[] = [];
    const secrets: string[] = [];
    let lineBreakFrom: string | undefined;
    for (const part of parts) {
      const value = this.partValue(part, pos, stack, issues, unknownName);
      if (value === undefined) continue;
      if ('capture' in value) {
        expanded.push(value);
        continue;
      }
      text += value.text;
      appendText(expanded, value.text);
      secrets.push(...value.secrets);
      if (part.kind !== 'text' && lineBreakFrom === undefined && /[\r\n]/.test(value.text)) {
        lineBreakFrom = part.kind === 'var' ? `variable "${part.name}"` : `environment variable ${part.name}`;
      }
    }
    return { text, parts: expanded, secrets, ...(lineBreakFrom === undefined ? {} : { lineBreakFrom }) };
  }

  private partValue(
    part: TemplatePart,
    pos: SourcePos,
    stack: string[],
    issues: SourceIssue[],
    unknownName?: UnknownNameRule,
  ): PartValue | undefined {
    if (part.kind === 'text') return { text: part.text, secrets: [] };
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
    if (value === undefined) {
      issues.push({ pos, message: `environment variable ${name} is not set` });
      return undefined;
    }
    return { text: value, secrets: value === '' ? [] : [value] };
  }

  /** Undefined (with an issue) for an unknown name; `failed` when its value has problems (reported at the value). */
  private variable(name: string, pos: SourcePos, stack: string[], issues: SourceIssue[]): ResolvedVar | undefined {
    const definition = this.definition(name);
    if (!definition) {
      issues.push({ pos, message: `undefined variable "${name}"` });
      return undefined;
    }
    if (!definition.pos) return { text: definition.value, secrets: [], failed: false };
    if (stack.includes(name)) {
      const loop = [...stack.slice(stack.indexOf(name)), name].join(' → ');
      issues.push({ pos: definition.pos, message: `variables refer to each other in a loop: ${loop}` });
      return { text: '', secrets: [], failed: true };
    }
    const cached = this.resolved.get(name);
    if (cached) return cached;
    const own: SourceIssue[] = [];
    const value = this.expandWith(definition.value, definition.pos, [...stack, name], own);
    issues.push(...own);
    const resolved = { text: value.text, secrets: value.secrets, failed: own.length > 0 };
    // A result computed inside a loop depends on the path taken, so only cache clean ones.
    if (!resolved.failed) this.resolved.set(name, resolved);
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

function appendText(parts: (string | CapturePart)[], text: string): void {
  if (text === '') return;
  const last = parts.at(-1);
  if (typeof last === 'string') parts[parts.length - 1] = last + text;
  else parts.push(text);
}
