import { basename, extname } from 'node:path';
import type { CertificateFiles } from '../smtp/certificate-files.js';
import type { SourceIssue, SourcePos } from '../errors.js';
import { normalizeAction, verbOf, type ActionKey, type StepInput } from './actions.js';
import { ACTION_KEYS, CHECK_KEYS, stepKeys, type CaseAsWritten, type ScenarioFile } from './as-written.js';
import { normalizeCondition } from './conditions.js';
import { isRecord, NormalizeContext, presentKeys, type Scope } from './context.js';
import { durationRangeProblem, parseDuration } from './duration.js';
import { alternatives, expectation } from './expectations.js';
import type { IncludedFile, IncludeResolver, StepSource } from './include.js';
import { captureScopes, type CapturePlan } from './captures.js';
import { ExpansionBudget, Interpolator, SecretNames, type Env, type VarDefinition, type VarLayer } from './interpolate.js';
import { comparePos, type DataPath, type PositionFinder } from './positions.js';
import { normalizeCapabilities, normalizeCapture, normalizeTlsAssertions } from './reply-checks.js';
import { normalizeProxy, normalizeTarget, normalizeTls } from './settings.js';
import { normalizeMailboxes } from './mailboxes.js';
import { isDnsCheckKey, writtenUsesDane } from './dns-checks.js';
import {
  DEFAULT_TIMEOUT_MS,
  type Case,
  type Protocol,
  type ReplyExpectation,
  type Scenario,
  type Step,
  type StepAction,
  type TextPattern,
} from './types.js';

export { codeAlternative } from './patterns.js';

export interface NormalizeOptions {
  /** Command-line variables: they win over case and file variables and are used as is. */
  vars: Record<string, string>;
  /** Names of variables and environment variables whose values are secret (`--secret`), besides the file's own. */
  secrets?: readonly string[];
  env: Env;
  /** Replaces the built-in default deadline where the file sets none (`--timeout`). */
  defaultTimeoutMs?: number;
  /** CA files (absolute paths) added to every scenario's TLS settings (`--ca`). */
  ca?: string[];
  /** Reads the files that steps include; its problems are its own to report. */
  includes: IncludeResolver;
  /** Collects referenced files (messages, attachments, certificates) that do not exist, instead of failing on them. */
  missingFiles?: Set<string>;
  /** Certificate files read so far in this run or check; each is read once. */
  certificates?: CertificateFiles;
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
  const normalizer = new Normalizer(new NormalizeContext(positions, undefined, options.missingFiles, options.certificates), options);
  const scenario = normalizer.scenario(data);
  return { scenario, issues: normalizer.ctx.issues };
}

const GREETINGS = new Set(['EHLO', 'LHLO']);
/** How long a mailbox step waits by default (longer when the case's deadline is). */
const MAILBOX_TIMEOUT_MS = 60_000;
const NO_EHLO_AFTER_STARTTLS =
  'no EHLO after STARTTLS: the server has forgotten the session (RFC 3207), so most commands will be refused';
const NOTHING_TO_DO =
  'a step needs an action (send, data, mail, rcpt, auth, starttls, pipeline, raw, mailbox or a DNS check: fcrdns, dane, mta_sts, tls_rpt, dnsbl) or a check of the reply (expect, text, capture, capabilities, tls or within)';

class Normalizer {
  private readonly commandLine: VarLayer;
  /** One for the whole file: every case has its own Interpolator. */
  private readonly budget = new ExpansionBudget();
  private protocol: Protocol = 'smtp';
  private readonly contexts = new Map<PositionFinder, NormalizeContext>();
  private readonly includeLayers = new WeakMap<IncludedFile, VarLayer>();
  /** Set from the command line and the file's `secrets:` before any text is expanded. */
  private secretNames = new SecretNames();
  /** The names of the file's mailboxes, for its mailbox steps. */
  private mailboxNames: ReadonlySet<string> = new Set();

  constructor(
    readonly ctx: NormalizeContext,
    private readonly options: NormalizeOptions,
  ) {
    this.commandLine = new Map(Object.entries(options.vars).map(([name, value]) => [name, { value }]));
  }

  scenario(data: ScenarioFile): Scenario {
    const file = this.ctx.positions.file;
    this.secretNames = new SecretNames([...(this.options.secrets ?? []), ...secretNamesOf(data.secrets)]);
    const fileVars = this.varLayer(this.ctx, data.vars, ['vars']);
    const scope: Scope = { interpolator: new Interpolator([this.commandLine, fileVars], this.options.env, this.budget, this.secretNames) };
    const timeoutMs = this.duration(data.timeout, ['timeout'], 'timeout') ?? this.options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.protocol = data.protocol === 'lmtp' ? 'lmtp' : 'smtp';
    const target = normalizeTarget(this.ctx, data.target, scope);
    const tls = normalizeTls(this.ctx, data.tls, scope, this.options.ca ?? [], writtenUsesDane(data.cases));
    const proxy = normalizeProxy(this.ctx, data.proxy, target);
    const mailboxes = normalizeMailboxes(this.ctx, data.mailboxes, scope);
    this.mailboxNames = new Set(isRecord(data.mailboxes) ? Object.keys(data.mailboxes) : []);
    const cases = Array.isArray(data.cases) ? data.cases : [];
    const firstUse = new Map<string, number>();
    const normalized = cases.flatMap((written, index) => {
      const result = isRecord(written) ? this.case(written as CaseAsWritten, index, fileVars, timeoutMs, tagsOf(data.tags)) : undefined;
      if (result) this.checkUnique(result, firstUse);
      return result ? [result] : [];
    });
    return {
      file,
      name: typeof data.name === 'string' ? data.name : basename(file, extname(file)),
      ...(target ? { target } : {}),
      ...(data.mail_domain === true ? { mailDomain: true } : {}),
      protocol: this.protocol,
      tls,
      ...(proxy ? { proxy } : {}),
      timeoutMs,
      cases: normalized,
      secrets: [...this.ctx.secrets],
      warnings: [...this.ctx.warnings].sort((a, b) => comparePos(a.pos, b.pos)),
      ...(mailboxes ? { mailboxes } : {}),
    };
  }

  private case(written: CaseAsWritten, index: number, fileVars: VarLayer, fileTimeoutMs: number, fileTags: string[]): Case | undefined {
    const path = ['cases', index];
    const caseVars = this.varLayer(this.ctx, written.vars, [...path, 'vars']);
    const layers = [this.commandLine, caseVars, fileVars];
    const interpolator = new Interpolator(layers, this.options.env, this.budget, this.secretNames);
    const timeoutMs = this.duration(written.timeout, [...path, 'timeout'], 'timeout') ?? fileTimeoutMs;
    const writtenSteps: unknown[] = Array.isArray(written.steps) ? written.steps : [];
    const sources = this.options.includes.steps(writtenSteps, [...path, 'steps'], this.ctx.positions).filter((source) => isRecord(source.written));
    const places = this.stepPlaces(sources, layers);
    const captures = captureScopes(this.capturePlan(sources, places));
    const steps = sources.map((source, stepIndex) => {
      const { ctx, interpolator: stepInterpolator } = places[stepIndex]!;
      const scope = { interpolator: stepInterpolator, captures: captures[stepIndex]! };
      return this.step(source.written as Record<string, unknown>, source.path, scope, timeoutMs, ctx, stepIndex);
    });
    this.warnMissingEhlo(steps);
    const when = written.when === undefined ? undefined : normalizeCondition(this.ctx, written.when, [...path, 'when'], 'case');
    if (typeof written.name !== 'string') return undefined;
    // Shown as written, with the expansions of secret variables masked where they stand.
    const name = this.ctx.expandShown({ interpolator }, written.name, [...path, 'name'], { label: 'case name' }) ?? written.name;
    const pos = this.ctx.at(path);
    const withDefaults = [...layers, ...new Set(sources.flatMap((source) => source.via.map((file) => this.includeLayer(file))))];
    const vars = this.resolvedVars(withDefaults, new Interpolator(withDefaults, this.options.env, this.budget, this.secretNames), pos);
    const tags = [...new Set([...fileTags, ...tagsOf(written.tags)])];
    return { index, name, pos, tags, ...(when ? { when } : {}), vars, steps };
  }

  private checkUnique(normalized: Case, firstUse: Map<string, number>): void {
    const pos = this.ctx.at(['cases', normalized.index, 'name']);
    const first = firstUse.get(normalized.name);
    if (first === undefined) {
      firstUse.set(normalized.name, pos.line);
      return;
    }
    this.ctx.error(pos, `duplicate case name "${normalized.name}" (first used on line ${first}): case names must be unique`);
  }

  /**
   * The context (the file it is written in) and the variables of each step: an included step
   * also sees the defaults of the files it is included through, the outermost winning.
   */
  private stepPlaces(sources: StepSource[], layers: VarLayer[]): StepPlace[] {
    const byChain = new Map<string, Interpolator>();
    return sources.map(({ positions, via }) => {
      const chain = via.map((file) => file.positions.file).join('\n');
      let interpolator = byChain.get(chain);
      if (!interpolator) {
        interpolator = new Interpolator([...layers, ...via.map((file) => this.includeLayer(file))], this.options.env, this.budget, this.secretNames);
        byChain.set(chain, interpolator);
      }
      return { ctx: this.contextFor(positions), interpolator };
    });
  }

  private contextFor(positions: PositionFinder): NormalizeContext {
    let ctx = this.contexts.get(positions);
    if (!ctx) this.contexts.set(positions, (ctx = this.ctx.forFile(positions)));
    return ctx;
  }

  private includeLayer(file: IncludedFile): VarLayer {
    let layer = this.includeLayers.get(file);
    if (!layer) this.includeLayers.set(file, (layer = this.varLayer(this.contextFor(file.positions), file.data.vars, ['vars'])));
    return layer;
  }

  /** The names each step captures, with where it is; a name that is already a variable is an error. */
  private capturePlan(sources: StepSource[], places: StepPlace[]): CapturePlan {
    return sources.map(({ written, path }, index) => {
      const { ctx, interpolator } = places[index]!;
      const capture = isRecord(written) && isRecord(written['capture']) ? written['capture'] : {};
      const names = Object.keys(capture);
      for (const name of names.filter((name) => interpolator.defines(name))) {
        ctx.error(
          ctx.keyAt([...path, 'capture'], name),
          `capture "${name}" has the name of a variable: a captured value cannot replace a variable, choose another name`,
        );
      }
      return { names, pos: ctx.at(path) };
    });
  }

  /** Every variable of the case whose value resolves, command line first; values from the environment become secrets. */
  private resolvedVars(layers: VarLayer[], interpolator: Interpolator, pos: SourcePos): Record<string, string> {
    const vars: Record<string, string> = {};
    const names = new Set(layers.flatMap((layer) => [...layer.keys()]));
    for (const name of names) {
      const expansion = interpolator.expand(`\${${name}}`, pos);
      if (expansion.issues.length > 0) continue;
      vars[name] = expansion.text;
      for (const secret of expansion.secrets) this.ctx.secret(secret);
    }
    return vars;
  }

  private step(written: Record<string, unknown>, path: DataPath, scope: Scope, caseTimeoutMs: number, ctx: NormalizeContext, index: number): Step {
    const input: StepInput = { ctx, scope, written, path, mailboxes: this.mailboxNames };
    const key = this.actionKey(ctx, written, path);
    const action = normalizeAction(input, key) ?? { type: 'read' };
    const expect = this.stepExpectation(input, key);
    const expectEach = this.expectEach(input, key, expect?.text);
    this.checkPlacement(input, key);
    const capabilities = normalizeCapabilities(ctx, written['capabilities'], [...path, 'capabilities']);
    if (capabilities) this.warnCapabilitiesOff(ctx, action, path);
    const capture = normalizeCapture(ctx, written['capture'], [...path, 'capture']);
    const tls = normalizeTlsAssertions(ctx, scope, written['tls'], [...path, 'tls']);
    const withinMs = this.duration(written['within'], [...path, 'within'], 'within', ctx);
    const when = written['when'] === undefined ? undefined : normalizeCondition(ctx, written['when'], [...path, 'when'], 'step');
    return {
      index,
      pos: ctx.at(path),
      ...(typeof written['name'] === 'string' ? { name: written['name'] } : {}),
      action,
      ...(expect ? { expect } : {}),
      ...(expectEach ? { expectEach } : {}),
      ...(capabilities ? { capabilities } : {}),
      ...(tls ? { tls } : {}),
      ...(capture && capture.length > 0 ? { capture } : {}),
      ...(withinMs === undefined ? {} : { withinMs }),
      ...(when ? { when } : {}),
      // Delivery takes longer than a reply: a mailbox step waits at least a minute unless it says otherwise.
      timeoutMs: this.duration(written['timeout'], [...path, 'timeout'], 'timeout', ctx) ?? (key === 'mailbox' ? Math.max(MAILBOX_TIMEOUT_MS, caseTimeoutMs) : caseTimeoutMs),
    };
  }

  /** The one action key of a step (undefined: a plain read); a second one is an error at the later key. */
  private actionKey(ctx: NormalizeContext, written: Record<string, unknown>, path: DataPath): ActionKey | undefined {
    const keys = presentKeys(written, ACTION_KEYS).sort((a, b) => comparePos(ctx.keyAt(path, a), ctx.keyAt(path, b)));
    const [first, ...others] = keys;
    for (const other of others) ctx.error(ctx.keyAt(path, other), `a step cannot have both "${first}" and "${other}"`);
    const known = Object.keys(written).every((key) => key in stepKeys);
    if (first === undefined && known && presentKeys(written, CHECK_KEYS).length === 0) {
      ctx.error(ctx.at(path), NOTHING_TO_DO);
    }
    return first;
  }

  private stepExpectation(input: StepInput, key: ActionKey | undefined): ReplyExpectation | undefined {
    const { ctx, scope, written, path } = input;
    if (key === 'pipeline') {
      for (const check of presentKeys(written, ['expect', 'text'])) {
        ctx.error(ctx.keyAt(path, check), `a pipeline step has no "${check}" of its own: give each command its own`);
      }
      return undefined;
    }
    const found = expectation(ctx, scope, written, path);
    if (key !== 'starttls' || written['expect'] !== undefined) return found;
    return { anyOf: [{ code: '220' }], ...(found?.text ? { text: found.text } : {}) };
  }

  /** LMTP: one expectation per accepted recipient for the replies after the message. */
  private expectEach({ ctx, scope, written, path }: StepInput, key: ActionKey | undefined, text?: TextPattern): ReplyExpectation[] | undefined {
    const list = written['expect_each'];
    if (list === undefined) return undefined;
    const at = ctx.keyAt(path, 'expect_each');
    if (key !== 'data') {
      ctx.error(at, 'expect_each goes only on a data step: it checks the replies to the message');
    } else if (this.protocol !== 'lmtp') {
      ctx.error(at, 'expect_each is for LMTP (protocol: lmtp): an SMTP server sends one reply to the message');
    } else if (written['expect'] !== undefined) {
      ctx.error(ctx.laterKey(path, ['expect', 'expect_each']), 'a step cannot have both "expect" and "expect_each"');
    } else if (Array.isArray(list)) {
      return list.map((item, index) => ({ anyOf: alternatives(ctx, scope, item, [...path, 'expect_each', index]), ...(text ? { text } : {}) }));
    }
    return undefined;
  }

  /** Keys that make sense only with some actions. */
  private checkPlacement({ ctx, written, path }: StepInput, key: ActionKey | undefined): void {
    if (written['bdat'] !== undefined && key !== 'data') {
      ctx.error(ctx.keyAt(path, 'bdat'), 'bdat goes only on a data step: it sends the message in BDAT chunks');
    }
    if (key === 'mailbox') {
      for (const check of presentKeys(written, CHECK_KEYS)) {
        ctx.error(ctx.keyAt(path, check), `a mailbox step reads no reply from the SMTP server, so "${check}" has nothing to check: its checks go inside "mailbox:"`);
      }
    }
    if (key !== undefined && isDnsCheckKey(key)) {
      for (const check of presentKeys(written, CHECK_KEYS)) {
        ctx.error(ctx.keyAt(path, check), `a ${key} step reads no reply from the SMTP server, so "${check}" has nothing to check: the step passes or fails on what it finds`);
      }
    }
    if (key === 'raw' && written['expect'] === undefined && written['text'] === undefined) {
      for (const check of presentKeys(written, ['capture', 'capabilities', 'within'])) {
        ctx.error(ctx.keyAt(path, check), `a raw step without "expect" or "text" reads no reply, so "${check}" has nothing to check`);
      }
    }
  }

  private warnCapabilitiesOff(ctx: NormalizeContext, action: StepAction, path: DataPath): void {
    if (action.type === 'send' && GREETINGS.has(verbOf(action.line))) return;
    ctx.warn(
      ctx.keyAt(path, 'capabilities'),
      'capabilities are checked on an EHLO or LHLO reply, and this step does not send EHLO or LHLO',
    );
  }

  /** After STARTTLS the session starts over (RFC 3207 §4.2): a later step should greet again. */
  private warnMissingEhlo(steps: Step[]): void {
    steps.forEach((step, index) => {
      if (step.action.type !== 'starttls') return;
      if (steps.slice(index + 1).some((later) => greetsAgain(later.action))) return;
      this.ctx.warn(step.pos, NO_EHLO_AFTER_STARTTLS);
    });
  }

  private duration(written: unknown, path: DataPath, label: string, ctx = this.ctx): number | undefined {
    if (typeof written !== 'string') return undefined;
    const ms = parseDuration(written);
    if (ms === undefined) return undefined; // the schema reports it
    const problem = durationRangeProblem(ms);
    if (problem) ctx.error(ctx.at(path), `${label} ${problem}`);
    return ms;
  }

  private varLayer(ctx: NormalizeContext, written: unknown, path: DataPath): VarLayer {
    const layer = new Map<string, VarDefinition>();
    if (!isRecord(written)) return layer;
    for (const [name, value] of Object.entries(written)) {
      const usable = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
      // Values the schema rejected stand in as empty, so their uses add no second complaint.
      layer.set(name, { value: usable ? String(value) : '', pos: ctx.at([...path, name]) });
    }
    return layer;
  }
}

interface StepPlace {
  ctx: NormalizeContext;
  interpolator: Interpolator;
}

/** Whether an action starts the session over: EHLO, LHLO or HELO, sent alone, pipelined or raw. */
function greetsAgain(action: StepAction): boolean {
  const greeting = (verb: string) => GREETINGS.has(verb) || verb === 'HELO';
  switch (action.type) {
    case 'send':
      return greeting(verbOf(action.line));
    case 'pipeline':
      return action.commands.some((command) => greeting(verbOf(command.line)));
    case 'raw':
      return /(?:^|\n)\s*(?:EHLO|LHLO|HELO)\b/i.test(new TextDecoder('latin1').decode(action.bytes));
    default:
      return false;
  }
}

/** Tags as written (the schema has checked them), or none. */
/** The names the file declares secret; the schema reports anything else. */
function secretNamesOf(written: unknown): string[] {
  return Array.isArray(written) ? written.filter((name): name is string => typeof name === 'string') : [];
}

function tagsOf(written: unknown): string[] {
  return Array.isArray(written) ? written.filter((tag): tag is string => typeof tag === 'string') : [];
}
