import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { editDistance } from '../../src/scenario/edit-distance.js';

/** The whole table, as the definition reads: the three-row version must agree with it. */
function fullTableDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i]![j] = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) rows[i]![j] = Math.min(rows[i]![j]!, rows[i - 2]![j - 2]! + 1);
    }
  }
  return rows[a.length]![b.length]!;
}

/** A small deterministic generator: the same strings on every run. */
function words(count: number): string[] {
  let state = 7;
  const next = () => (state = (state * 1103515245 + 12345) % 2147483648);
  return Array.from({ length: count }, () => Array.from({ length: next() % 9 }, () => 'abc'[next() % 3]).join(''));
}

describe('editDistance', () => {
  test('swaps, insertions, deletions and substitutions', () => {
    assert.equal(editDistance('sned', 'send'), 1);
    assert.equal(editDistance('ab', 'ba'), 1);
    assert.equal(editDistance('ca', 'abc'), 3);
    assert.equal(editDistance('abc', ''), 3);
    assert.equal(editDistance('', ''), 0);
  });

  test('agrees with the full table on many short strings', () => {
    const list = words(60);
    for (const a of list) {
      for (const b of list) assert.equal(editDistance(a, b), fullTableDistance(a, b), `"${a}" and "${b}"`);
    }
  });
});
