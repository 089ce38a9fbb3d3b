import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { test } from 'node:test';
import { collectGarbage } from '../../src/engine/heap.js';

test('collectGarbage frees what nothing references any more, at once', async () => {
  let garbage: object | null = { parse: new Array(100_000).fill('node') };
  const ref = new WeakRef(garbage);
  garbage = null;
  // A WeakRef keeps its target alive until the current turn ends.
  await nextTurn();
  assert.equal(collectGarbage(), true);
  assert.equal(ref.deref(), undefined, 'the dropped object survived the collection');
});

test('collectGarbage leaves what is still referenced', async () => {
  const kept = { plan: ['case'] };
  const ref = new WeakRef(kept);
  await nextTurn();
  collectGarbage();
  assert.equal(ref.deref(), kept);
});
