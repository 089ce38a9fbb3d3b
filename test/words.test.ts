import { test } from 'node:test';
import assert from 'node:assert/strict';
import { orList, plural } from '../src/words.js';

test('orList joins items as a phrase: none, one, two, several', () => {
  assert.equal(orList([]), '');
  assert.equal(orList(['250']), '250');
  assert.equal(orList(['250', '251']), '250 or 251');
  assert.equal(orList(['a', 'b', 'c']), 'a, b or c');
});

test('plural counts a noun, with an s or the plural it is given', () => {
  assert.equal(plural(1, 'line'), '1 line');
  assert.equal(plural(0, 'line'), '0 lines');
  assert.equal(plural(3, 'more line'), '3 more lines');
  assert.equal(plural(2, 'more reply', 'more replies'), '2 more replies');
  assert.equal(plural(1, 'more reply', 'more replies'), '1 more reply');
});
