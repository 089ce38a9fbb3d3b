import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { isIP, isIPv4, isIPv6 } from '../src/ip.js';

const LISTED = [
  '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1::2::3',
  '::ffff:1.2.3.4', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3.4', '1.2.3.4', '01.2.3.4', '256.1.1.1',
  'fe80::1%eth0', 'fe80::1%', '1:2:3:4:5:6:7', ':1::', '1:::2', '::1:', '1.2.3.4::', '::1.2.3.4:5', 'g::1', '12345::',
  '', ':', ':::', '1::1.2.3', 'fe80::1%a b', '::ffff:001.2.3.4', '1:2:3:4:5:6:7:8%z', '1::%z', 'mx.example.com', '[::1]',
];

/** A small seeded generator (mulberry32), so a failure names a reproducible input. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Address-shaped strings: groups of hex digits or numbers joined by ':', '::' and '.'. */
function candidates(count: number): string[] {
  const next = random(2026);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const parts = ['0', '1', 'ff', 'FFFF', '12345', '255', '256', '01', 'g', ''];
  const joins = [':', ':', '::', '.', '.', '%'];
  const octets = ['0', '1', '9', '99', '255', '256', '01', '300'];
  const quad = () => [1, 2, 3, 4].map(() => pick(octets)).join('.');
  return Array.from({ length: count }, () => {
    if (next() < 0.2) return next() < 0.5 ? quad() : `${pick(parts)}::${pick(parts)}:${quad()}`;
    let text = pick(parts);
    const length = Math.floor(next() * 10);
    for (let i = 0; i < length; i++) text += pick(joins) + pick(parts);
    return text;
  });
}

test('isIP answers as node:net does', () => {
  for (const text of [...LISTED, ...candidates(50_000)]) {
    assert.equal(isIP(text), net.isIP(text), JSON.stringify(text));
    assert.equal(isIPv4(text), net.isIPv4(text), JSON.stringify(text));
    assert.equal(isIPv6(text), net.isIPv6(text), JSON.stringify(text));
  }
});

test('the generator reaches both valid and invalid addresses', () => {
  const kinds = new Set(candidates(50_000).map((text) => net.isIP(text)));
  assert.deepEqual([...kinds].sort(), [0, 4, 6]);
});
