import { listChecks } from '../../src/checks/catalogue.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SaxesParser } from 'saxes';
import { main } from '../../src/cli.js';
import { embeddedCaFile, startEmbeddedServer, type EmbeddedServer } from '../../src/server/embedded.js';
import type { MxTableDocument } from '../../src/report/mx-table.js';
import { startDnsResponder, type DnsResponder } from '../manifest/dns-responder.js';
import { capture } from '../helpers/capture.js';

/**
 * `smtpspec mx` against the embedded server, with names that exist only on a DNS responder started
 * here: example.test has two MX (a name, and 127.0.0.1 written as an MX, for which the server's
 * certificate is valid), implicit.test has none (its own address stands in), missing.test does not exist.
 */
const ZONE = {
  'example.test': { mx: [[20, '127.0.0.1'], [10, 'mx1.example.test']] as [number, string][] },
  'mx1.example.test': { a: ['127.0.0.1'] },
  'implicit.test': { a: ['127.0.0.1'] },
};

describe('smtpspec mx', () => {
  let dir: string;
  let dns: DnsResponder;
  let server: EmbeddedServer;
  const mx = async (...args: string[]) => {
    const c = capture();
    const code = await main(['mx', ...args, '--dns-server', `${dns.host}:${dns.port}`, '--port', String(server.port), '--ca', embeddedCaFile(), '--timeout', '20s'], c.io);
    return { code, stdout: c.stdout(), stderr: c.stderr(), lines: c.stdout().split('\n') };
  };
  const cells = (line: string | undefined): string[] => (line ?? '').trim().split(/\s{2,}/);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smtpspec-mx-'));
    [dns, server] = await Promise.all([startDnsResponder(ZONE), startEmbeddedServer({ temporaryMailRoot: true })]);
  });
  after(async () => {
    await Promise.all([dns.close(), server.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  test('a row per MX host, lowest preference first, with every ready-made check as a column', async () => {
    const { code, lines, stderr } = await mx('example.test', 'implicit.test', '--json', join(dir, 'all.json'));
    assert.equal(code, 1, stderr);
    const header = cells(lines[0]);
    assert.deepEqual(header.slice(0, 7), ['domain', 'pref', 'mx host', 'address', 'greeting', 'starttls', 'cert days']);
    assert.deepEqual(header.slice(7), listChecks().map((check) => check.name));
    assert.ok(header.includes('mta-sts') && header.includes('fcrdns'), 'the DNS checks are columns too');
    const rows = lines.slice(1, 4).map(cells);
    assert.deepEqual(rows.map((row) => row.slice(0, 4)), [
      ['example.test', '10', 'mx1.example.test', '127.0.0.1'],
      ['example.test', '20', '127.0.0.1', '127.0.0.1'],
      ['implicit.test', 'implicit', 'implicit.test', '127.0.0.1'],
    ]);
    // The certificate is valid for 127.0.0.1, not for mx1.example.test: STARTTLS is offered on both, verified on one.
    const starttls = header.indexOf('starttls', 7);
    assert.deepEqual(rows.map((row) => [row[5], row[starttls]]), [['yes', 'FAIL'], ['yes', 'pass'], ['yes', 'FAIL']]);
    assert.match(rows[1]![6]!, /^\d{4,}$/);
    // The dane check does not verify by the WebPKI (the TLSA records would vouch), so its session gets the certificate of mx1 too.
    assert.match(rows[0]![6]!, /^\d{4,}$/);
    assert.match(rows[0]![4]!, /^220 /);
    assert.match(lines.at(-2)!, /passed, [1-9]\d* failed/);
    // The same table as JSON.
    const document = JSON.parse(await readFile(join(dir, 'all.json'), 'utf8')) as MxTableDocument;
    assert.equal(document.format, 'smtpspec-mx');
    assert.deepEqual(document.rows.map((row) => [row.domain, row.preference, row.implicit, row.host, row.address, row.starttls]), [
      ['example.test', 10, undefined, 'mx1.example.test', '127.0.0.1', true],
      ['example.test', 20, undefined, '127.0.0.1', '127.0.0.1', true],
      ['implicit.test', undefined, true, 'implicit.test', '127.0.0.1', true],
    ]);
    assert.ok(document.rows[1]!.certificateDaysLeft! > 1000);
    assert.equal(document.rows[1]!.checks['starttls'], 'pass');
    assert.equal(document.rows[0]!.checks['starttls'], 'FAIL');
    assert.match(document.rows[0]!.greeting!, /^220 /);
  });

  test('--check limits the columns; --junit writes the cases of those checks', async () => {
    const junit = join(dir, 'two.xml');
    const { code, lines, stderr } = await mx('example.test', '--check', 'greeting', '--check', 'starttls', '--junit', junit);
    assert.equal(code, 1, stderr);
    assert.deepEqual(cells(lines[0]).slice(7), ['greeting', 'starttls']);
    assert.deepEqual(lines.slice(1, 3).map((line) => cells(line).slice(7)), [['pass', 'FAIL'], ['pass', 'pass']]);
    // A strict parser: the file is well-formed XML.
    const tags: string[] = [];
    const parser = new SaxesParser();
    parser.on('opentag', (tag) => void tags.push(tag.name));
    parser.write(await readFile(junit, 'utf8')).close();
    // greeting has two cases and starttls one, on each of the two MX hosts; mx1's certificate fails.
    assert.equal(tags.filter((tag) => tag === 'testcase').length, 6);
    assert.equal(tags.filter((tag) => tag === 'failure' || tag === 'error').length, 1);
  });

  test('all checks passing exits 0', async () => {
    const { code, lines, stderr } = await mx('implicit.test', '--check', 'greeting');
    assert.equal(code, 0, stderr);
    assert.deepEqual(cells(lines[1]), ['implicit.test', 'implicit', 'implicit.test', '127.0.0.1', cells(lines[1])[4], 'yes', '-', 'pass']);
  });

  test('a domain that does not exist is one row that says why, and fails the run', async () => {
    const { code, lines, stderr } = await mx('missing.test', '--check', 'greeting');
    assert.equal(code, 1, stderr);
    assert.deepEqual(cells(lines[1]), ['missing.test', '-', 'missing.test', '-', '-', '-', '-', 'error']);
    assert.ok(lines.includes('missing.test: domain missing.test does not exist (NXDOMAIN)'), lines.join('\n'));
  });

  test('unusable input exits 2 before any lookup', async () => {
    const queries = dns.queries.length;
    const unknown = await mx('example.test', '--check', 'greting');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown check "greting" \(did you mean "greeting"\?/);
    const bad = await mx('not a domain');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /mx expects mail domains such as example.com, got "not a domain"/);
    assert.equal(dns.queries.length, queries);
  });
});
