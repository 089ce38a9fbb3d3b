import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareTlsVersions, daysUntilExpiry } from '../src/tls-facts.js';

test('daysUntilExpiry counts whole days left, negative once expired, NaN for a date it cannot read', () => {
  const validTo = '2025-03-01T00:00:00.000Z';
  assert.equal(daysUntilExpiry(validTo, Date.parse('2025-02-01T00:00:00Z')), 28);
  assert.equal(daysUntilExpiry(validTo, Date.parse('2025-02-01T00:00:01Z')), 27);
  assert.equal(daysUntilExpiry(validTo, Date.parse('2025-03-02T00:00:00Z')), -1);
  assert.ok(Number.isNaN(daysUntilExpiry('', Date.parse('2025-02-01T00:00:00Z'))));
});

test('compareTlsVersions orders protocol names, unknown ones oldest', () => {
  assert.ok(compareTlsVersions('TLSv1.3', 'TLSv1.2') > 0);
  assert.ok(compareTlsVersions('TLSv1', 'TLSv1.1') < 0);
  assert.ok(compareTlsVersions('SSLv3', 'TLSv1') < 0);
  assert.equal(compareTlsVersions('TLSv1.2', 'TLSv1.2'), 0);
  assert.ok(compareTlsVersions('unknown', 'TLSv1') < 0);
});
