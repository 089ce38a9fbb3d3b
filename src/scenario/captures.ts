import type { SourcePos } from '../errors.js';
import type { CaptureScope } from './context.js';

/** What each step of a case captures (in step order), with where the step is written. */
export type CapturePlan = { names: string[]; pos: SourcePos }[];

/**
 * What the steps of a case capture, as seen from each step. A scope changes only after a step
 * that is the first to capture some name, so the steps in between share one: a case of
 * thousands of steps is not quadratic.
 */
export function captureScopes(plan: CapturePlan): CaptureScope[] {
  const first = new Map<string, { index: number; pos: SourcePos }>();
  plan.forEach(({ names, pos }, index) => {
    for (const name of names) if (!first.has(name)) first.set(name, { index, pos });
  });
  const introduces = (index: number) => plan[index]!.names.some((name) => first.get(name)?.index === index);
  const scopes: CaptureScope[] = [];
  let scope = scopeAt(first, 0);
  for (let index = 0; index < plan.length; index++) {
    if (index > 0 && introduces(index - 1)) scope = scopeAt(first, index);
    scopes.push(scope);
  }
  return scopes;
}

function scopeAt(first: ReadonlyMap<string, { index: number; pos: SourcePos }>, index: number): CaptureScope {
  const earlier = new Set<string>();
  const later = new Map<string, SourcePos>();
  for (const [name, where] of first) {
    if (where.index < index) earlier.add(name);
    else later.set(name, where.pos);
  }
  return { earlier, later };
}
