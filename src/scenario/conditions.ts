import { describeSpec, parseCapabilitySpec } from '../smtp/capabilities.js';
import { conditionKeys } from './as-written.js';
import { isRecord, presentKeys, type NormalizeContext } from './context.js';
import { comparePos, type DataPath } from './positions.js';
import type { CapabilitySpec, Condition } from './types.js';

const TESTS = ['capability', 'var', 'not'] as const;

const CASE_CAPABILITY =
  'a case-level condition cannot test capabilities: they are known only after EHLO; put it on a step';

/** A `when:` condition; at case level only variable conditions are allowed. */
export function normalizeCondition(
  ctx: NormalizeContext,
  written: unknown,
  path: DataPath,
  level: 'case' | 'step',
): Condition | undefined {
  if (!isRecord(written)) return undefined; // the schema reports it
  const tests = presentKeys(written, TESTS).sort((a, b) => comparePos(ctx.keyAt(path, a), ctx.keyAt(path, b)));
  if (tests.length > 1) {
    ctx.error(ctx.keyAt(path, tests[1]!), `a condition cannot have both "${tests[0]}" and "${tests[1]}"`);
    return undefined;
  }
  if (written['equals'] !== undefined && tests[0] !== 'var') {
    ctx.error(ctx.keyAt(path, 'equals'), '"equals" goes only with "var"');
  }
  switch (tests[0]) {
    case 'capability':
      return capabilityCondition(ctx, written['capability'], path, level);
    case 'var':
      return varCondition(written['var'], written['equals']);
    case 'not': {
      const inner = normalizeCondition(ctx, written['not'], [...path, 'not'], level);
      return inner ? { not: inner, written: `not ${inner.written}` } : undefined;
    }
    default:
      if (Object.keys(written).every((key) => key in conditionKeys)) {
        ctx.error(ctx.at(path), 'a condition needs "capability", "var" or "not"');
      }
      return undefined;
  }
}

function capabilityCondition(ctx: NormalizeContext, written: unknown, path: DataPath, level: 'case' | 'step'): Condition | undefined {
  if (level === 'case') {
    ctx.error(ctx.keyAt(path, 'capability'), CASE_CAPABILITY);
    return undefined;
  }
  if (typeof written !== 'string') return undefined;
  const capability = capabilitySpec(ctx, written, [...path, 'capability']);
  return capability ? { capability, written: `capability ${describeSpec(capability)}` } : undefined;
}

function varCondition(name: unknown, equals: unknown): Condition | undefined {
  if (typeof name !== 'string') return undefined;
  if (equals === undefined || !['string', 'number', 'boolean'].includes(typeof equals)) return { var: name, written: `var ${name}` };
  const value = String(equals);
  return { var: name, equals: value, written: `var ${name} = ${value}` };
}

/** A capability spec, or undefined with the problem recorded at path. */
export function capabilitySpec(ctx: NormalizeContext, written: string, path: DataPath): CapabilitySpec | undefined {
  const parsed = parseCapabilitySpec(written);
  if ('error' in parsed) {
    ctx.error(ctx.at(path), `capability "${written}" is not valid: ${parsed.error}`);
    return undefined;
  }
  return parsed;
}
