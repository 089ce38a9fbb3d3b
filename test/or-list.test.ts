import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orList } from '../src/or-list.js';

test('orList joins items as a phrase: none, one, two, several', () => {
  assert.equal(orList([]), '');
  assert.equal(orList(['250']), '250');
  assert.equal(orList(['250', '251']), '250 or 251');
  assert.equal(orList(['a', 'b', 'c']), 'a, b or c');
});
