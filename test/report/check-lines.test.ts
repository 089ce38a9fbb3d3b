import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckOutcome } from '../../src/engine/results.js';
import { checkLines, checkWarnings, shortHex } from '../../src/report/check-lines.js';
import { TLSA_DATA, daneFail, dnsblFail, fcrdnsError, fcrdnsPass, mtaStsWarn, tlsRptPass } from './fixtures/check-run.js';
import { at, step } from './fixtures/run.js';

const danePass: CheckOutcome = {
  check: 'dane',
  verdict: 'pass',
  reasons: [],
  facts: {
    host: 'mx.example.test',
    port: 25,
    recordName: '_25._tcp.mx.example.test',
    authenticated: true,
    records: [
      { usage: 3, selector: 1, matchingType: 1, data: TLSA_DATA, usable: true, matchedDepth: 0 },
      { usage: 2, selector: 0, matchingType: 1, data: 'ff'.repeat(32), usable: true, matchedDepth: 1, rejected: 'the server certificate does not name mx.example.test, as DANE-TA requires' },
    ],
    chainLength: 2,
    matched: true,
  },
};

describe('checkLines: a DNS check step in words', () => {
  test('fcrdns: the address, its PTR name, the forward lookup, and the name the greeting gave', () => {
    assert.deepEqual(checkLines(fcrdnsPass), [
      'fcrdns: pass',
      'address 192.0.2.1 → PTR mx.example.test → A 192.0.2.1 (confirmed)',
      'greeting names mx.example.test',
    ]);
  });

  test('fcrdns: a name that does not resolve back, and a greeting that names none of the confirmed names', () => {
    const outcome: CheckOutcome = {
      check: 'fcrdns',
      verdict: 'fail',
      reasons: ['the greeting name other.test ESMTP is none of the confirmed PTR names (mx.example.test)'],
      facts: {
        address: '2001:db8::1',
        ptrNames: ['mx.example.test', 'stale.example.test'],
        forward: [
          { name: 'mx.example.test', addresses: ['2001:db8::1'] },
          { name: 'stale.example.test', addresses: [], failure: 'nxdomain' },
        ],
        confirmedNames: ['mx.example.test'],
        greetingName: 'other.test ESMTP',
      },
    };
    assert.deepEqual(checkLines(outcome), [
      'fcrdns: fail',
      'the greeting name other.test ESMTP is none of the confirmed PTR names (mx.example.test)',
      'address 2001:db8::1 → PTR mx.example.test → AAAA 2001:db8::1 (confirmed)',
      'address 2001:db8::1 → PTR stale.example.test → AAAA none (nxdomain) (not confirmed)',
      'greeting "other.test ESMTP" names none of the confirmed names',
    ]);
  });

  test('an error says what the check was doing and why it stopped, and claims no facts it did not find', () => {
    assert.deepEqual(checkLines(fcrdnsError), ['fcrdns: error (ptr: timeout)', 'the PTR lookup of 192.0.2.2 failed: no answer from 127.0.0.1:5353 within 5 s']);
  });

  test('dane: each record, whether the answer was authenticated, and what it matched; hex cut to 16 digits unless asked whole', () => {
    assert.deepEqual(checkLines(danePass), [
      'dane: pass',
      'TLSA _25._tcp.mx.example.test (DNSSEC-authenticated): 3 1 1 0123456789abcdef… matched the server certificate (depth 0)',
      'TLSA _25._tcp.mx.example.test (DNSSEC-authenticated): 2 0 1 ffffffffffffffff… matched a certificate above the server certificate (depth 1), rejected: the server certificate does not name mx.example.test, as DANE-TA requires',
    ]);
    assert.deepEqual(checkLines(daneFail).slice(2), [
      'TLSA _25._tcp.mx.example.test (NOT authenticated): 1 1 1 ab12 unusable: usage 1 (PKIX, not for SMTP)',
      'TLSA _25._tcp.mx.example.test (NOT authenticated): 3 1 1 0123456789abcdef… matched no certificate of the chain (2 certificates)',
    ]);
    assert.ok(checkLines(daneFail, { hex: 'whole' })[3]!.includes(` ${TLSA_DATA} `));
    assert.equal(shortHex('0123456789abcdef'), '0123456789abcdef');
    assert.equal(shortHex('0123456789abcdef0'), '0123456789abcdef…');
  });

  test('dane: no TLSA record at all', () => {
    const none: CheckOutcome = { ...daneFail, reasons: ['_25._tcp.mx.example.test has no TLSA record (nxdomain, authenticated denial)'], facts: { ...daneFail.facts, records: [], authenticated: true } } as CheckOutcome;
    assert.equal(checkLines(none).at(-1), 'TLSA _25._tcp.mx.example.test (DNSSEC-authenticated): no record');
  });

  test('mta-sts: the record id, the policy with its mode and max_age, the pattern each MX host matched', () => {
    assert.deepEqual(checkLines(mtaStsWarn), [
      'mta-sts: warn',
      'max_age is 3600 seconds, under a day',
      'record id=20260101T000000',
      'policy https://mta-sts.example.test/.well-known/mta-sts.txt (192.0.2.80) mode enforce, max_age 3600, mx *.example.test',
      'mx mx.example.test matches *.example.test',
      'mx mx-b.example.test matches *.example.test',
    ]);
    const unmatched: CheckOutcome = {
      ...mtaStsWarn,
      verdict: 'fail',
      reasons: ['the MX host other.test matches no mx pattern of the policy (*.example.test)'],
      facts: { ...mtaStsWarn.facts, mx: [{ host: 'other.test' }] },
    } as CheckOutcome;
    assert.equal(checkLines(unmatched).at(-1), 'mx other.test matches no pattern');
  });

  test('tls-rpt: the reporting addresses, or the records found when none could be read', () => {
    assert.deepEqual(checkLines(tlsRptPass), ['tls-rpt: pass', '_smtp._tls.example.test: rua mailto:tlsrpt@example.test']);
    const malformed: CheckOutcome = { ...tlsRptPass, verdict: 'fail', reasons: ['the TLS-RPT record has 0 rua fields where exactly one is needed'], facts: { ...tlsRptPass.facts, rua: [], records: ['v=TLSRPTv1;'] } } as CheckOutcome;
    assert.deepEqual(checkLines(malformed).slice(2), ['_smtp._tls.example.test: "v=TLSRPTv1;"']);
  });

  test('dnsbl: listed with the return code and reason, not listed, no usable answer', () => {
    assert.deepEqual(checkLines(dnsblFail).slice(3), [
      'address 192.0.2.1',
      'zen.example.test: listed (127.0.0.2): spam source',
      'clean.example.test: not listed',
      'slow.example.test: no usable answer (timeout)',
    ]);
  });

  test('the warnings of a case are the reasons of its checks whose verdict is warn, and of no other', () => {
    const steps = [fcrdnsPass, mtaStsWarn, daneFail].map((check, i) => step(i, at('x.yaml', i + 1, 1), 'check', { check }));
    assert.deepEqual(checkWarnings({ steps }), ['mta-sts: max_age is 3600 seconds, under a day']);
  });
});
