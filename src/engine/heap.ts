/**
 * One full garbage collection between planning and the sessions of a large run.
 *
 * Parsing a large scenario file leaves most of what it made as garbage: the YAML library's
 * syntax tree and document take about 65 bytes of heap per byte of YAML (270 MB for a file of
 * 10,000 cases), of which the plan keeps a few MB. V8 collects the old generation only when it
 * reaches a limit set from its size at the last collection, which during the parse was large:
 * the sessions would then grow the heap on top of the dead parse instead of in its place. One
 * collection before the first session lets them reuse that memory: `npm run bench -- held-open`
 * measures 10,000 sessions of one file at 429 MB peak RSS with it and 630 MB without.
 *
 * Node gives programs no garbage collector call unless started with `--expose-gc`; setting the
 * flag while running exposes `gc` to contexts made after it, so one is made for the call.
 */

/** Plans of at least this many cases come from enough YAML for the collection to pay. */
export const LARGE_PLAN_CASES = 1_000;

/** Runs a full garbage collection; false if this Node.js offers none. */
export function collectGarbage(): boolean {
  process.getBuiltinModule('node:v8').setFlagsFromString('--expose-gc');
  const gc: unknown = process.getBuiltinModule('node:vm').runInNewContext('gc');
  if (typeof gc !== 'function') return false;
  gc();
  return true;
}
