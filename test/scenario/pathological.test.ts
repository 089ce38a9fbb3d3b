import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { suggest } from '../../src/scenario/schema-messages.js';
import { GENEROUS_MS } from '../helpers/deadlines.js';
import { inlineProblems } from './issues.js';

// GENEROUS_MS is far more than these cases need: a quadratic path, or a stack overflow, shows here first.

function timed<T>(run: () => T): { result: T; ms: number } {
  const start = performance.now();
  const result = run();
  return { result, ms: performance.now() - start };
}

describe('problems in pathological files are reported in full, quickly', () => {
  test('20,000 unknown keys in one step: each once, in order', () => {
    const count = 20_000;
    const keys = Array.from({ length: count }, (_, i) => `      k${i}: 1`);
    const source = ['cases:', '  - name: a', '    steps:', '    - send: NOOP', ...keys, ''].join('\n');
    const { result, ms } = timed(() => inlineProblems(source));
    assert.equal(result.length, count);
    assert.equal(result[0], '5:7: unknown key "k0" in a step');
    assert.equal(result.at(-1), `${count + 4}:7: unknown key "k${count - 1}" in a step`);
    assert.ok(ms < GENEROUS_MS, `took ${Math.round(ms)} ms`);
  });

  test('2,000 steps with an unknown key each: grouped by step, in order', () => {
    const count = 2_000;
    const steps = Array.from({ length: count }, (_, i) => `      - { send: NOOP, x${i}: 1 }`);
    const source = ['cases:', '  - name: a', '    steps:', ...steps, ''].join('\n');
    const result = inlineProblems(source);
    assert.equal(result.length, count);
    assert.equal(result[1], '5:23: unknown key "x1" in a step');
    assert.equal(result.at(-1), `${count + 3}:23: unknown key "x${count - 1}" in a step`);
  });

  test('a 1 MB key is reported, without a suggestion', () => {
    const key = 'e'.repeat(1024 * 1024);
    const source = `cases:\n  - name: a\n    steps:\n      - { send: NOOP, ${key}: 1 }\n`;
    const { result, ms } = timed(() => inlineProblems(source));
    // Long messages are shortened in the middle when problems are collected.
    assert.equal(result.length, 1);
    assert.match(result[0]!, /^4:23: unknown key "e+…e+" in a step$/);
    assert.ok(ms < GENEROUS_MS, `took ${Math.round(ms)} ms`);
  });

  test('150,000 undefined variables in one text are all reported (no stack overflow)', () => {
    const count = 150_000;
    const text = Array.from({ length: count }, (_, i) => `\${v${i}}`).join('');
    const result = inlineProblems(`cases:\n  - name: a\n    steps:\n      - { send: "${text}" }\n`);
    assert.equal(result.length, count);
    assert.equal(result.at(-1), `4:17: undefined variable "v${count - 1}"`);
  });

  test('suggestions skip only keys that cannot be near: too long, or too different in length', () => {
    assert.equal(suggest(`expect${'t'.repeat(59)}`, 'step'), undefined);
    assert.equal(suggest('expec', 'step'), 'expect');
    assert.equal(suggest('EXPECTTT', 'step'), 'expect');
    assert.equal(suggest('expecttt', 'step'), 'expect');
    assert.equal(suggest('expectttt', 'step'), undefined);
    assert.equal(suggest('sned', 'step'), 'send');
  });
});
