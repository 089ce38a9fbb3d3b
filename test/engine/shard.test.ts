import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseShard } from '../../src/engine/shard-spec.js';
import { selectShard, shardKey } from '../../src/engine/shard.js';
import { withTargets } from '../../src/engine/plan.js';
import { parseScenario } from '../../src/scenario/load.js';

const keys = Array.from({ length: 100 }, (_, i) => `scenarios/file-${i % 9}.yaml#case ${i}@mx${i % 3}.example.test:25`);
const identity = (key: string) => key;

describe('parseShard', () => {
  test('index/total, 1-based', () => {
    assert.deepEqual(parseShard('2/5'), { index: 2, total: 5 });
    assert.deepEqual(parseShard('1/1'), { index: 1, total: 1 });
    assert.deepEqual(parseShard('5/5'), { index: 5, total: 5 });
    assert.deepEqual(parseShard(' 3 / 4 '), { index: 3, total: 4 });
  });

  test('anything else is undefined', () => {
    for (const text of ['', '2', '0/5', '6/5', '2/0', '-1/5', '1.5/3', 'a/b', '1/2/3', '/5', '2/', '99999999999999999999/99999999999999999999']) {
      assert.equal(parseShard(text), undefined, text);
    }
  });
});

describe('selectShard', () => {
  test('for 1 to 7 shards every item is in exactly one shard, in its original order', () => {
    for (let total = 1; total <= 7; total++) {
      const shards = Array.from({ length: total }, (_, i) => selectShard(keys, { index: i + 1, total }, identity));
      const all = shards.flat();
      assert.equal(all.length, keys.length, `total ${total}`);
      assert.deepEqual(new Set(all), new Set(keys), `total ${total}`);
      for (const shard of shards) assert.deepEqual(shard, keys.filter((k) => shard.includes(k)));
      // Hash modulo: no shard far from its share.
      const share = keys.length / total;
      for (const shard of shards) assert.ok(shard.length >= share / 2 && shard.length <= share * 1.6, `total ${total}: ${shards.map((s) => s.length)}`);
    }
  });

  test('an item’s shard depends only on its key: stable across calls and whatever else is in the list', () => {
    const shard = { index: 2, total: 5 };
    const first = selectShard(keys, shard, identity);
    assert.deepEqual(selectShard(keys, shard, identity), first);
    const reversed = selectShard([...keys].reverse(), shard, identity);
    assert.deepEqual(reversed, [...first].reverse());
    const half = keys.slice(0, 50);
    assert.deepEqual(selectShard(half, shard, identity), first.filter((k) => half.includes(k)));
  });

  test('shardKey names the file, the case and the target', () => {
    const scenario = parseScenario('name: s\ncases:\n  - name: first\n    steps:\n      - expect: 220\n', 'dir/s.yaml', { env: {} });
    const [tcp] = withTargets([scenario], { host: 'MX.example.test', port: 2525 });
    const [unix] = withTargets([scenario], { kind: 'unix', path: '/run/lmtp' });
    assert.equal(shardKey(tcp!), 'dir/s.yaml#first@mx.example.test:2525');
    assert.equal(shardKey(unix!), 'dir/s.yaml#first@unix:/run/lmtp');
  });
});
