import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HtmlReporter, renderHtml } from '../../src/report/html.js';
import { mergeResults } from '../../src/report/merge.js';
import { fileSink, memorySink } from '../../src/report/sink.js';
import { countResults } from '../../src/engine/results.js';
import type { CaseResult, RunResult } from '../../src/engine/results.js';
import { runResult } from './fixtures/run.js';
import { HOSTILE_BANNER, htmlRun } from './fixtures/html-run.js';
import { replay } from './fixtures/replay.js';
import { checkRun, mtaStsCase } from './fixtures/check-run.js';

const html = renderHtml(htmlRun);

/** The text between the first `open` and the next `close` after it. */
function between(text: string, open: string, close: string): string {
  const start = text.indexOf(open);
  assert.ok(start >= 0, `has ${open}`);
  const end = text.indexOf(close, start);
  assert.ok(end > start, `has ${close} after ${open}`);
  return text.slice(start, end + close.length);
}

interface MatrixRow {
  name: string;
  cells: string[];
}

/** The matrix as row names with the status class of each cell, in column order. */
function matrixOf(page: string): { targets: string[]; rows: MatrixRow[] } {
  const table = between(page, '<table class="matrix">', '</table>');
  const head = between(table, '<thead>', '</thead>');
  const targets = [...head.matchAll(/<th scope="col">([^<]*)<\/th>/g)].map((m) => m[1]!).slice(1);
  const rows = [...table.matchAll(/<tr class="(?:ok|problem)"><th scope="row">(.*?)<\/th>(.*?)<\/tr>/g)].map((m) => ({
    name: m[1]!,
    cells: [...m[2]!.matchAll(/<td class="cell ([a-z]+)"/g)].map((c) => c[1]!),
  }));
  return { targets, rows };
}

/** The `<details>` of the case with this id. */
function detailsOf(page: string, anchor: string): string {
  return between(page, `<details class="case" id="${anchor}"`, '</details>');
}

function count(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe('renderHtml', () => {
  test('lays out targets as columns and cases as rows, one cell each, coloured and worded by result', () => {
    const { targets, rows } = matrixOf(html);
    assert.deepEqual(targets, ['127.0.0.1:2525', '127.0.0.1:2626', 'mx2.example.test:25']);
    assert.deepEqual(
      rows.map((r) => [r.name, r.cells.join(' ')]),
      [
        ['greeting and EHLO', 'passed none failed'],
        ['unknown recipient is rejected', 'failed none none'],
        ['STARTTLS is offered', 'skipped none none'],
        ['server is unreachable', 'none error none'],
        ['odd \\ names # are &quot;escaped&quot;\\nand one line', 'failed none none'],
        ['STARTTLS upgrades the session', 'none none flaky'],
      ],
    );
    assert.equal(count(html, '<td class="cell '), targets.length * rows.length);
    assert.match(html, /<td class="cell failed"><a href="#case-2" data-case="case-2" aria-label="unknown recipient is rejected @ 127\.0\.0\.1:2525: failed, open details">✗ failed<\/a><\/td>/);
    assert.match(html, /<td class="cell flaky"><a [^>]*>↻ flaky<\/a>/);
  });

  test('groups the rows by scenario file, in the order the files first appear', () => {
    const groups = [...html.matchAll(/<th scope="rowgroup" colspan="4">([^<]*)<span class="file">([^<]*)<\/span>/g)].map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(groups, ['basic scenarios/basic.yaml', 'down scenarios/down.yaml', 'hostile scenarios/hostile.yaml', 'tls scenarios/tls.yaml']);
  });

  test('shows the totals counted from the cases, the start time and the duration', () => {
    const totals = between(html, '<ul class="totals"', '</ul>');
    const numbers = Object.fromEntries([...totals.matchAll(/<li(?: class="(\w+)")?><span class="n">(\d+)<\/span>/g)].map((m) => [m[1] ?? 'cases', Number(m[2])]));
    assert.deepEqual(numbers, { cases: 7, passed: 2, failed: 3, error: 1, skipped: 1, flaky: 1 });
    assert.match(html, /3 targets, started 2025-01-02 03:04:05 UTC, took 2\.35 s/);
    assert.match(html, /<ul class="legend"[^>]*>.*✓ passed.*✗ failed.*! error.*– skipped.*↻ flaky.*· not run/);
  });

  test('details every failure: step, source position, expected, got and the message', () => {
    const failures = between(html, '<h2>Failures (4)</h2>', '<h2>Cases</h2>');
    const rcpt = between(failures, 'unknown recipient is rejected', '</section>');
    assert.match(rcpt, /<dt>step<\/dt><dd>4\. send: RCPT TO:&lt;nobody@example\.test&gt;<\/dd>/);
    assert.match(rcpt, /<dt>at<\/dt><dd><code>scenarios\/basic\.yaml:17:7<\/code><\/dd>/);
    assert.match(rcpt, /<dt>expected<\/dt><dd><code>250<\/code><\/dd>/);
    assert.match(rcpt, /<dt>got<\/dt><dd><pre>550 5\.1\.1 &lt;nobody@example\.test&gt;: Recipient address rejected<\/pre><\/dd>/);
    assert.match(rcpt, /<p class="msg">step 4 \(send: RCPT TO:&lt;nobody@example\.test&gt;\): expected 250, got 550 5\.1\.1/);
    const refused = between(failures, 'server is unreachable', '</section>');
    assert.match(refused, /<dt>cause<\/dt><dd>connection refused<\/dd>/);
    assert.match(refused, /scenarios\/down\.yaml:5:7/);
  });

  test('keeps each case transcript, steps and captures in its details', () => {
    const failed = detailsOf(html, 'case-2');
    assert.match(failed, /<pre class="transcript">/);
    assert.match(failed, /<span class="t-c">\[\+0\.007s\] C: RCPT TO:&lt;nobody@example\.test&gt;<\/span>/);
    assert.match(failed, /<span class="t-s">\[\+0\.012s\] S: 550 5\.1\.1 &lt;nobody@example\.test&gt;: Recipient address rejected<\/span>/);
    assert.match(failed, /<span class="t-note">\[\+0\.015s\] \* closed<\/span>/);
    assert.equal(count(failed, '<tr><td>'), 6, 'a row per step');
    assert.match(failed, /^<details class="case" id="case-2" open /, 'failures start open: links to them work without JavaScript');
    assert.match(detailsOf(html, 'case-1'), /^<details class="case" id="case-1" data-title=/);
    assert.match(detailsOf(html, 'case-3'), /<dt>skipped<\/dt>|No transcript/);
    assert.match(detailsOf(html, 'case-7'), /captured queue = &lt;i&gt;Q1&lt;\/i&gt;/);
  });

  test('shows TLS facts, with a warning when the certificate was not verified', () => {
    const tls = detailsOf(html, 'case-7');
    assert.match(tls, /<dt>protocol<\/dt><dd>TLSv1\.3<\/dd>/);
    assert.match(tls, /<dt>cipher<\/dt><dd>TLS_AES_256_GCM_SHA384<\/dd>/);
    assert.match(tls, /<dt>subject<\/dt><dd>CN=mx2\.example\.test<\/dd>/);
    assert.match(tls, /<dt>issuer<\/dt><dd>CN=&lt;b&gt;Evil CA&lt;\/b&gt;<\/dd>/);
    assert.match(tls, /<dt>valid until<\/dt><dd>2025-01-12T03:04:05\.000Z \(10 days after the run\)<\/dd>/);
    assert.match(tls, /⚠ not verified: self-signed certificate/);
    assert.match(tls, /⚠ TLS certificate verification is off \(verify: false\)/);
    assert.match(tls, /<dt>attempts<\/dt><dd>2<\/dd>/);
    assert.match(tls, /<dt>attempt 1<\/dt><dd>step 1 \(greeting\): connection &lt;reset&gt; \(30 ms\)<\/dd>/);
  });

  test('says whether the certificate chain is complete, when the session says', async () => {
    const { tlsFacts } = await import('../../src/report/html-case.js');
    const facts = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', verified: false, subject: 'CN=mx', issuer: 'CN=ca', validFrom: '2025-01-01T00:00:00.000Z', validTo: '2026-01-01T00:00:00.000Z', fingerprint256: '' };
    assert.match(tlsFacts({ ...facts, chainLength: 1, chainComplete: false }, 0), /<dt>chain<\/dt><dd>chain INCOMPLETE: 1 certificate, an intermediate or the root is missing<\/dd>/);
    assert.match(tlsFacts({ ...facts, chainLength: 3, chainComplete: true }, 0), /<dt>chain<\/dt><dd>chain complete, 3 certificates<\/dd>/);
    assert.doesNotMatch(tlsFacts(facts, 0), /<dt>chain<\/dt>/, 'a session that says nothing of its chain shows no chain line');
  });

  test('escapes every text from servers and files: hostile markup renders as text', () => {
    assert.equal(html.includes(HOSTILE_BANNER), false);
    assert.equal(count(html, '<script'), 1, 'only the report\'s own script');
    assert.doesNotMatch(html, /<img|<b>|<i>|onerror=alert\(1\)>/);
    assert.ok(html.includes('&lt;script&gt;alert(&quot;banner&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;'));
    // Controls, lone surrogates and bidi overrides from the hostile case become visible escapes.
    assert.doesNotMatch(html, /[\x00-\x08\x0B-\x1F\x7F-\x9F\u202E\uFFFE]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    assert.ok(html.includes('\\x1B[31mred') && html.includes('\\u{202E}reversed') && html.includes('end ]]&gt; again'));
  });

  test('refers to nothing outside the file', () => {
    for (const part of ['http:', 'https:', '<link', '<script src', '<iframe', '<img', '@import', 'url(', 'src=', 'srcset', 'action=']) {
      const found = html.toLowerCase().replace(/&lt;img src=x/g, '').includes(part);
      assert.equal(found, false, `no ${part}`);
    }
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!);
    assert.ok(hrefs.length > 0);
    for (const href of hrefs) assert.match(href, /^#case-\d+$/, 'every link points inside the page');
    assert.equal(count(renderHtml(runResult), '//'), 0, 'no protocol-relative reference anywhere');
  });

  test('allows exactly its own style and script by hash, and nothing else', () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
    assert.ok(csp);
    assert.match(csp, /^default-src 'none';/);
    assert.doesNotMatch(csp, /unsafe|\*|http/);
    const hash = (text: string): string => createHash('sha256').update(text).digest('base64');
    assert.ok(csp.includes(`style-src 'sha256-${hash(between(html, '<style>', '</style>').slice(7, -8))}'`));
    assert.ok(csp.includes(`script-src 'sha256-${hash(between(html, '<script>', '</script>').slice(8, -9))}'`));
  });

  test('renders a merged run the same way, and is the same text every time', () => {
    const first = { ...htmlRun, cases: htmlRun.cases.slice(0, 4), counts: countResults(htmlRun.cases.slice(0, 4)) };
    const rest = { ...htmlRun, cases: htmlRun.cases.slice(4), counts: countResults(htmlRun.cases.slice(4)) };
    const merged = renderHtml(mergeResults([rest, first]));
    assert.equal(count(merged, '<td class="cell '), 18);
    assert.equal(renderHtml(htmlRun), html);
    assert.match(renderHtml(htmlRun, { title: 'nightly <fleet>' }), /<title>nightly &lt;fleet&gt;<\/title>/);
  });

  test('says so when nothing failed, and renders an empty run', () => {
    const passedOnly = runResult.cases.slice(0, 1) as CaseResult[];
    assert.match(renderHtml({ ...runResult, cases: passedOnly }), /None: every case that ran passed/);
    const empty = renderHtml({ startedAt: 'not a date', durationMs: 0, cases: [] });
    assert.match(empty, /0 targets, started not a date, took 0 ms/);
    assert.equal(count(empty, '<td class="cell '), 0);
  });
});

describe('HtmlReporter', () => {
  test('writes the page once at the end and closes its sink', async () => {
    const sink = memorySink();
    await replay(new HtmlReporter(sink), htmlRun);
    assert.equal(sink.closed, true);
    assert.equal(sink.text, html);
  });

  test('writes a file through fileSink', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-html-'));
    try {
      const path = join(dir, 'out', 'report.html');
      const run: RunResult = runResult;
      await replay(new HtmlReporter(fileSink(path), { title: 'nightly' }), run);
      const text = await readFile(path, 'utf8');
      assert.ok(text.startsWith('<!DOCTYPE html>'));
      assert.match(text, /<h1>nightly<\/h1>/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('renderHtml with DNS check steps', () => {
  const page = renderHtml(checkRun);

  test('lists the verdict, reasons and facts of each check in the notes of its step', () => {
    const dane = detailsOf(page, 'case-3');
    assert.ok(dane.includes('dane: fail<br>no usable TLSA record at _25._tcp.mx.example.test matches the certificate chain<br>'), dane);
    assert.ok(dane.includes('TLSA _25._tcp.mx.example.test (NOT authenticated): 3 1 1 0123456789abcdef… matched no certificate of the chain (2 certificates)'));
    const dnsbl = detailsOf(page, 'case-6');
    assert.ok(dnsbl.includes('zen.example.test: listed (127.0.0.2): spam source<br>clean.example.test: not listed<br>slow.example.test: no usable answer (timeout)'));
  });

  test('shows the warning of a check in a passed case as a warning, escaped', () => {
    const policy = detailsOf(page, 'case-4');
    assert.ok(policy.includes('<p class="warn">⚠ mta-sts: max_age is 3600 seconds, under a day</p>'), policy);
    const hostile = { ...mtaStsCase, steps: mtaStsCase.steps.map((step) => ({ ...step, check: { ...step.check!, reasons: ['<b>bold</b>'] } })) };
    const escaped = renderHtml({ ...checkRun, cases: [hostile as typeof mtaStsCase] });
    assert.ok(escaped.includes('⚠ mta-sts: &lt;b&gt;bold&lt;/b&gt;'));
    assert.ok(!escaped.includes('<b>bold</b>'));
  });
});
