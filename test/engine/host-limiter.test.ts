import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HostLimiter, WaitingItems } from '../../src/engine/host-limiter.js';

/** Takes items until none can start, acquiring each one's key as the scheduler does. */
function startAll(waiting: WaitingItems, keys: string[], limiter: HostLimiter): number[] {
  const started: number[] = [];
  for (let position = waiting.take((key) => limiter.canAcquire(key)); position !== undefined; position = waiting.take((key) => limiter.canAcquire(key))) {
    limiter.acquire(keys[position]!);
    started.push(position);
  }
  return started;
}

describe('WaitingItems', () => {
  test('takes the earliest item whose host has room, skipping hosts that are full', () => {
    const keys = ['a', 'a', 'a', 'b', 'a', 'c', 'b'];
    const waiting = new WaitingItems(keys);
    const limiter = new HostLimiter(1);
    assert.deepEqual(startAll(waiting, keys, limiter), [0, 3, 5]);
    assert.equal(waiting.size, 4);
    limiter.release('a');
    assert.deepEqual(startAll(waiting, keys, limiter), [1]);
    limiter.release('b');
    limiter.release('c');
    assert.deepEqual(startAll(waiting, keys, limiter), [6]);
    assert.equal(waiting.size, 2);
  });

  test('takeAll returns what is left in order and leaves nothing', () => {
    const keys = ['b', 'a', 'b', 'a', 'c'];
    const waiting = new WaitingItems(keys);
    assert.equal(waiting.take((key) => key === 'a'), 1);
    assert.deepEqual(waiting.takeAll(), [0, 2, 3, 4]);
    assert.equal(waiting.size, 0);
    assert.equal(waiting.take(() => true), undefined);
  });
});
