import { describeSpec } from '../smtp/capabilities.js';
import { capabilitySpec } from './conditions.js';
import { isRecord, type NormalizeContext, type Scope } from './context.js';
import { textPattern } from './expectations.js';
import { captureGroupCount, parseRegexLiteral, regexProblem } from './patterns.js';
import type { DataPath } from './positions.js';
import type { CapabilityCheck, CapabilitySpec, Step, TlsAssertions } from './types.js';

/** The checks a step makes beyond the reply code: capabilities, captures, TLS facts. */

export function normalizeCapabilities(ctx: NormalizeContext, written: unknown, path: DataPath): CapabilityCheck | undefined {
  if (!isRecord(written)) return undefined;
  if (written['has'] === undefined && written['lacks'] === undefined) {
    ctx.error(ctx.at(path), 'capabilities needs "has" or "lacks"');
    return undefined;
  }
  const has = specs(ctx, written['has'], [...path, 'has']);
  const lacks = specs(ctx, written['lacks'], [...path, 'lacks']);
  const described = (verb: string, list: CapabilitySpec[]) => list.map((spec) => `${verb} ${describeSpec(spec)}`);
  return { has, lacks, written: [...described('has', has), ...described('lacks', lacks)] };
}

function specs(ctx: NormalizeContext, written: unknown, path: DataPath): CapabilitySpec[] {
  if (!Array.isArray(written)) return [];
  return written.flatMap((text, index) => {
    if (typeof text !== 'string') return [];
    const spec = capabilitySpec(ctx, text, [...path, index]);
    return spec ? [spec] : [];
  });
}

/** Named patterns; each may have at most one group (the value), or none (the whole match). */
export function normalizeCapture(ctx: NormalizeContext, written: unknown, path: DataPath): Step['capture'] {
  if (!isRecord(written)) return undefined;
  return Object.entries(written).flatMap(([name, value]) => {
    const literal = typeof value === 'string' ? parseRegexLiteral(value) : undefined;
    if (!literal || typeof value !== 'string') return []; // the schema reports it
    const pos = ctx.at([...path, name]);
    const problem = regexProblem(literal.source, literal.flags);
    if (problem) {
      ctx.error(pos, `capture ${name}: ${value} ${problem}`);
      return [];
    }
    const groups = captureGroupCount(literal.source, literal.flags);
    if (groups > 1) {
      ctx.error(pos, `capture ${name}: ${value} has ${groups} groups: use one for the value, or none for the whole match, and (?:…) for grouping`);
      return [];
    }
    return [{ name, pattern: { ...literal, written: value } }];
  });
}

/** TLS facts to assert after the step. */
export function normalizeTlsAssertions(ctx: NormalizeContext, scope: Scope, written: unknown, path: DataPath): TlsAssertions | undefined {
  if (!isRecord(written)) return undefined;
  const assertions: TlsAssertions = {};
  const minVersion = written['min_version'];
  if (minVersion === 'TLSv1' || minVersion === 'TLSv1.1' || minVersion === 'TLSv1.2' || minVersion === 'TLSv1.3') {
    assertions.minVersion = minVersion;
  }
  const days = validForDays(ctx, scope, written['valid_for_days'], [...path, 'valid_for_days']);
  if (days !== undefined) assertions.validForDays = days;
  if (typeof written['hostname'] === 'string') {
    const hostname = ctx.expand(scope, written['hostname'], [...path, 'hostname'], { label: 'tls hostname', oneLine: true });
    if (hostname !== undefined) assertions.hostname = hostname;
  }
  for (const key of ['issuer', 'subject'] as const) {
    const text = written[key];
    const pattern = typeof text === 'string' ? textPattern(ctx, scope, text, [...path, key], key) : undefined;
    if (pattern) assertions[key] = pattern;
  }
  return assertions;
}

/** A whole number of days, written as one or as a ${variable} holding one. */
function validForDays(ctx: NormalizeContext, scope: Scope, written: unknown, path: DataPath): number | undefined {
  if (typeof written === 'number') return written;
  // A string without a variable is the schema's to report.
  if (typeof written !== 'string' || !written.includes('${')) return undefined;
  const text = ctx.expand(scope, written, path, { label: 'valid_for_days', oneLine: true });
  if (text === undefined) return undefined;
  if (/^\s*[0-9]{1,6}\s*$/.test(text)) return Number(text);
  ctx.error(ctx.at(path), `valid_for_days must be a whole number of at least 0, got "${text}"`);
  return undefined;
}
