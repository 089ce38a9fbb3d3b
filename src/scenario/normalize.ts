import { basename, extname } from 'node:path';
import type { SourceIssue } from '../errors.js';
import type { CaseAsWritten, ScenarioFile, StepAsWritten } from './as-written.js';
import { durationRangeProblem, parseDuration } from './duration.js';
import { Interpolator, type Env, type VarDefinition, type VarLayer } from './interpolate.js';
import type { DataPath, PositionFinder } from './positions.js';
import { isValidHost, parseTarget } from './target.js';
import {
  DEFAULT_PORT,
  DEFAULT_TIMEOUT_MS,
  type Case,
  type CodeAlternative,
  type ReplyExpectation,
  type Scenario,
  type Step,
  type StepAction,
  type Target,
  type TextPattern,
} from './types.js';

export interface NormalizeOptions {
  /** Command-line variables: they win over case and file variables and are used as is. */
  vars: Record<string, string>;
  env: Env;
  /** Replaces the built-in default deadline where the file sets none (`--timeout`). */
  defaultTimeoutMs?: number;
}

export interface Normalized {
  scenario: Scenario;
  /** Problems only visible after interpolation (or beyond the schema); the scenario is unusable when any exist. */
  issues: SourceIssue[];
}

/**
 * Expands shorthands, applies defaults and resolves variables. Works on data the schema has
 * already checked, but tolerates parts the schema rejected (those are reported by the schema).
 */
export function normalizeScenario(data: ScenarioFile, positions: PositionFinder, options: NormalizeOptions): Normalized {
  const normalizer = new Normalizer(positions, options);
  const scenario = normalizer.scenario(data);
  return { scenario, issues: normalizer.issues };
}

const REGEX_LITERAL = /^\/(.+)\/([A-Za-z]*)$/s;
const ALLOWED_FLAGS = 'imsu';
const CODE = /^[2-5][0-9x]{2}$/;
const ENHANCED = /^[245x]\.(x|[0-9]{1,3})\.(x|[0-9]{1,3})$/;

class Normalizer {
  readonly issues: SourceIssue[] = [];
  private readonly secrets = new Set<string>();
  private readonly commandLine: VarLayer;

  constructor(
    private readonly positions: PositionFinder,
    private readonly options: NormalizeOptions,
  ) {
    this.commandLine = new Map(Object.entries(options.vars).map(([name, value]) => [name, { value }]));
  }

  scenario(data: ScenarioFile): Scenario {
    const file = this.positions.file;
    const fileVars = this.varLayer(data.vars, ['vars']);
    const timeoutMs =
      this.timeout(data.timeout, ['timeout']) ?? this.options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const target = this.target(data.target, new Interpolator([this.commandLine, fileVars], this.options.env));
    const cases = Array.isArray(data.cases) ? data.cases : [];
    const firstUse = new Map<string, number>();
    const normalized = cases.flatMap((written, index) => {
      const result = isRecord(written) ? this.case(written, index, fileVars, timeoutMs) : undefined;
      if (result) this.checkUnique(result, firstUse);
      return result ? [result] : [];
    });
    return {
      file,
      name: typeof data.name === 'string' ? data.name : basename(file, extname(file)),
      ...(target ? { target } : {}),
      timeoutMs,
      cases: normalized,
      secrets: [...this.secrets],
    };
  }

  private case(written: CaseAsWritten, index: number, fileVars: VarLayer, fileTimeoutMs: number): Case | undefined {
    const path = ['cases', index];
    const caseVars = this.varLayer(written.vars, [...path, 'vars']);
    const interpolator = new Interpolator([this.commandLine, caseVars, fileVars], this.options.env);
    const timeoutMs = this.timeout(written.timeout, [...path, 'timeout']) ?? fileTimeoutMs;
    const steps = Array.isArray(written.steps) ? written.steps : [];
    const normalized = steps.flatMap((step, stepIndex) =>
      isRecord(step) ? [this.step(step, [...path, 'steps', stepIndex], interpolator, timeoutMs)] : [],
    );
    if (typeof written.name !== 'string') return undefined;
    const name = this.expand(interpolator, written.name, [...path, 'name']) ?? written.name;
    return { index, name, pos: this.positions.at(path), steps: normalized };
  }

  private checkUnique(normalized: Case, firstUse: Map<string, number>): void {
    const first = firstUse.get(normalized.name);
    if (first === undefined) {
      firstUse.set(normalized.name, this.positions.at(['cases', normalized.index, 'name']).line);
      return;
    }
    this.issues.push({
      pos: this.positions.at(['cases', normalized.index, 'name']),
      message: `duplicate case name "${normalized.name}" (first used on line ${first}): case names must be unique`,
    });
  }

  private step(written: StepAsWritten, path: DataPath, interpolator: Interpolator, caseTimeoutMs: number): Step {
    const index = Number(path.at(-1));
    const timeoutMs = this.timeout(written.timeout, [...path, 'timeout']) ?? caseTimeoutMs;
    const action = this.action(written, path, interpolator);
    const expect = this.expectation(written, path, interpolator);
    return {
      index,
      pos: this.positions.at(path),
      ...(typeof written.name === 'string' ? { name: written.name } : {}),
      action,
      ...(expect ? { expect } : {}),
      timeoutMs,
    };
  }

  private action(written: StepAsWritten, path: DataPath, interpolator: Interpolator): StepAction {
    if (typeof written.send === 'string') {
      const line = this.expand(interpolator, written.send, [...path, 'send'], true) ?? written.send;
      return { type: 'send', line };
    }
    if (typeof written.data === 'string') {
      return { type: 'data', body: this.expand(interpolator, written.data, [...path, 'data']) ?? written.data };
    }
    return { type: 'read' };
  }

  private expectation(written: StepAsWritten, path: DataPath, interpolator: Interpolator): ReplyExpectation | undefined {
    const text = typeof written.text === 'string' ? this.textPattern(written.text, [...path, 'text'], interpolator) : undefined;
    if (written.expect === undefined && written.text === undefined) return undefined;
    const anyOf = this.alternatives(written.expect, [...path, 'expect']);
    return { anyOf, ...(text ? { text } : {}) };
  }

  private alternatives(expect: unknown, path: DataPath): CodeAlternative[] {
    if (expect === undefined) return [];
    if (Array.isArray(expect)) return expect.flatMap((item, index) => this.alternative(item, [...path, index]));
    return this.alternative(expect, path);
  }

  private alternative(written: unknown, path: DataPath): CodeAlternative[] {
    const alternative = codeAlternative(written);
    if (!alternative) return []; // the schema reports it
    const { code, enhanced } = alternative;
    if (code && enhanced && /\d/.test(code[0]!) && /\d/.test(enhanced[0]!) && code[0] !== enhanced[0]) {
      this.issues.push({
        pos: this.positions.at(path),
        message: `expect "${String(written)}" can never match: an enhanced status code starts with the reply code's first digit`,
      });
    }
    return [alternative];
  }

  private textPattern(written: string, path: DataPath, interpolator: Interpolator): TextPattern | undefined {
    const text = this.expand(interpolator, written, path);
    if (text === undefined) return undefined;
    const literal = REGEX_LITERAL.exec(text);
    if (!literal) return { source: escapeRegExp(text), flags: '', written: text };
    const [, source = '', flags = ''] = literal;
    const problem = flagProblem(flags) ?? regexProblem(source, flags);
    if (problem) {
      this.issues.push({ pos: this.positions.at(path), message: `text ${text} ${problem}` });
      return undefined;
    }
    return { source, flags, written: text };
  }

  private target(written: unknown, interpolator: Interpolator): Target | undefined {
    const path = ['target'];
    if (typeof written === 'string') {
      const text = this.expand(interpolator, written, path);
      if (text === undefined) return undefined;
      const target = parseTarget(text, DEFAULT_PORT);
      if (!target) this.issues.push({ pos: this.positions.at(path), message: targetMessage(written, text) });
      return target;
    }
    if (!isRecord(written) || typeof written['host'] !== 'string') return undefined;
    const host = this.expand(interpolator, written['host'], [...path, 'host'])?.replace(/^\[(.*)\]$/, '$1');
    if (host === undefined) return undefined;
    if (!isValidHost(host)) {
      const shown = host === written['host'] ? `"${host}"` : `"${written['host']}" (once its variables are replaced)`;
      this.issues.push({ pos: this.positions.at([...path, 'host']), message: `host ${shown} is not a host name or an IP address` });
      return undefined;
    }
    const port = written['port'];
    return { host, port: typeof port === 'number' ? port : DEFAULT_PORT };
  }

  private timeout(written: unknown, path: DataPath): number | undefined {
    if (typeof written !== 'string') return undefined;
    const ms = parseDuration(written);
    if (ms === undefined) return undefined; // the schema reports it
    const problem = durationRangeProblem(ms);
    if (problem) this.issues.push({ pos: this.positions.at(path), message: `timeout ${problem}` });
    return ms;
  }

  private varLayer(written: unknown, path: DataPath): VarLayer {
    const layer = new Map<string, VarDefinition>();
    if (!isRecord(written)) return layer;
    for (const [name, value] of Object.entries(written)) {
      const usable = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
      // Values the schema rejected stand in as empty, so their uses add no second complaint.
      layer.set(name, { value: usable ? String(value) : '', pos: this.positions.at([...path, name]) });
    }
    return layer;
  }

  /** The expanded text, or undefined (with issues recorded) when a reference cannot be resolved. */
  private expand(interpolator: Interpolator, template: string, path: DataPath, isLine = false): string | undefined {
    const pos = this.positions.at(path);
    const expansion = interpolator.expand(template, pos);
    this.issues.push(...expansion.issues);
    for (const secret of expansion.secrets) this.secrets.add(secret);
    if (isLine && expansion.lineBreakFrom) {
      this.issues.push({ pos, message: `send must be one line: ${expansion.lineBreakFrom} contains a line break` });
    }
    return expansion.issues.length > 0 ? undefined : expansion.text;
  }
}

/** Expanded values are left out: they may come from the environment and be secret. */
function targetMessage(written: string, expanded: string): string {
  const after = written === expanded ? '' : ' once its variables are replaced';
  return `target "${written}" is not "host", "host:port" or "[ipv6]:port" with a port from 1 to 65535${after}`;
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

function flagProblem(flags: string): string | undefined {
  for (const [index, flag] of [...flags].entries()) {
    if (flag === 'g' || flag === 'y') return `has the flag "${flag}", which means nothing here: use i, m, s or u`;
    if (!ALLOWED_FLAGS.includes(flag)) return `has an unknown flag "${flag}": use i, m, s or u`;
    if (flags.indexOf(flag) !== index) return `has the flag "${flag}" twice`;
  }
  return undefined;
}

function regexProblem(source: string, flags: string): string | undefined {
  try {
    new RegExp(source, flags);
    return undefined;
  } catch (error) {
    const reason = (error as Error).message.split(': ').at(-1) ?? '';
    return `is not a valid regular expression: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

