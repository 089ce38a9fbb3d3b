import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { durationRangeProblem, MAX_TIMEOUT_MS, parseDuration } from '../../src/scenario/duration.js';

describe('parseDuration', () => {
  test('reads milliseconds, seconds and minutes', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('2m'), 120_000);
  });

  test('accepts decimals and rounds to whole milliseconds', () => {
    assert.equal(parseDuration('1.5s'), 1_500);
    assert.equal(parseDuration('0.25m'), 15_000);
    assert.equal(parseDuration('2.4ms'), 2);
  });

  test('returns undefined for anything else', () => {
    for (const text of ['', '30', '30 s', 's', '1h', '-1s', '.5s', '1.s', '1e3ms', '30S', ' 30s']) {
      assert.equal(parseDuration(text), undefined, text);
    }
  });
});

describe('durationRangeProblem', () => {
  test('rejects zero and values a timer cannot hold', () => {
    assert.equal(durationRangeProblem(0), 'must be at least 1ms');
    assert.match(durationRangeProblem(MAX_TIMEOUT_MS + 1) ?? '', /at most 2147483647ms/);
    assert.equal(durationRangeProblem(1), undefined);
    assert.equal(durationRangeProblem(MAX_TIMEOUT_MS), undefined);
  });
});
