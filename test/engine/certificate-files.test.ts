import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, ScenarioError, formatIssue } from '../../src/errors.js';
import { planAndRun } from '../../src/engine/run.js';
import { planWork } from '../../src/engine/plan.js';
import type { CaseResult } from '../../src/engine/results.js';
import { bin, run } from '../helpers/cli.js';
import { testCertificates, type TestCertificates } from '../helpers/certs.js';
import { GENEROUS, GENEROUS_MS } from '../helpers/deadlines.js';
import { serverTls } from '../helpers/server-tls.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/**
 * CA certificates, client certificates and keys are read once, before the first session: the
 * second STARTTLS of a run verifies with what was read even when the file is gone by then, or was
 * a pipe. A file that holds no certificate (or no key) is refused before anything connects.
 */

let dir: string;
let certs: TestCertificates;
let server: TestServer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'smtpspec-certfiles-'));
  certs = await testCertificates();
  server = await startTestServer({ name: 'mx.test', ...serverTls(certs.server) });
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Two cases that each upgrade with STARTTLS and verify the certificate; `tls` is the file's TLS block, if any. */
function twoUpgrades(tls: string | undefined): string {
  const kase = (name: string) => `  - name: ${name}\n    steps:\n      - expect: 220\n      - send: EHLO client.test\n        expect: 250\n      - starttls: true\n      - send: QUIT\n        expect: 221\n`;
  return `target: 127.0.0.1:${server.port}\ntimeout: ${GENEROUS}\n${tls === undefined ? '' : `tls: ${tls}\n`}cases:\n${kase('first')}${kase('second')}`;
}

/** Runs `file` one case at a time; the CA file is removed as soon as the first case's result arrives. */
async function runRemovingAfterFirst(file: string, ca: string, flagCa: string[]): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  const result = await planAndRun(
    { paths: [file], env: {}, ca: flagCa },
    {
      concurrency: 1,
      reporter: {
        onCaseEnd: (caseResult) => {
          if (results.length === 0) unlinkSync(ca);
          results.push(caseResult);
        },
      },
    },
  );
  assert.equal(result.cases.length, 2);
  return results;
}

describe('certificate files are read once, before the first session', () => {
  test('a CA file named in the scenario and removed after the first case still verifies the second', { timeout: GENEROUS_MS * 2 }, async () => {
    const ca = join(dir, 'scenario-ca.pem');
    copyFileSync(certs.ca.certPath, ca);
    const file = join(dir, 'scenario-ca.yaml');
    writeFileSync(file, twoUpgrades(`{ ca: ${JSON.stringify(ca)}, servername: localhost }`));
    const results = await runRemovingAfterFirst(file, ca, []);
    assert.deepEqual(
      results.map((r) => [r.caseName, r.status, r.failure?.message, r.tls?.verified]),
      [
        ['first', 'passed', undefined, true],
        ['second', 'passed', undefined, true],
      ],
    );
  });

  test('a --ca file removed after the first case still verifies the second', { timeout: GENEROUS_MS * 2 }, async () => {
    const ca = join(dir, 'flag-ca.pem');
    copyFileSync(certs.ca.certPath, ca);
    const file = join(dir, 'flag-ca.yaml');
    writeFileSync(file, twoUpgrades('{ servername: localhost }'));
    const results = await runRemovingAfterFirst(file, ca, [ca]);
    assert.deepEqual(
      results.map((r) => [r.caseName, r.status, r.failure?.message, r.tls?.verified]),
      [
        ['first', 'passed', undefined, true],
        ['second', 'passed', undefined, true],
      ],
    );
  });

  test('--ca <(cat ca.pem): the pipe is read once and serves every STARTTLS of the run', { timeout: GENEROUS_MS * 2 }, async () => {
    const file = join(dir, 'pipe-ca.yaml');
    writeFileSync(file, twoUpgrades('{ servername: localhost }'));
    const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
    const command = `${quote(process.execPath)} ${quote(bin)} run ${quote(file)} --reporter tap --ca <(cat ${quote(certs.ca.certPath)})`;
    const result = await run('bash', ['-c', command]);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /^ok 1 - .*first/m);
    assert.match(result.stdout, /^ok 2 - .*second/m);
  });
});

describe('a certificate file without a certificate is refused before anything connects', () => {
  let notPem: string;
  before(() => {
    notPem = join(dir, 'notes.txt');
    writeFileSync(notPem, 'not a certificate\n');
    mkdirSync(join(dir, 'a-folder'), { recursive: true });
  });

  test('--ca: a file with no PEM certificate, a folder', async () => {
    const file = join(dir, 'plain.yaml');
    writeFileSync(file, twoUpgrades(undefined));
    await assert.rejects(planWork({ paths: [file], env: {}, ca: [notPem] }), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.message, `--ca ${notPem}: it holds no PEM certificate`);
      return true;
    });
    await assert.rejects(planWork({ paths: [file], env: {}, ca: [join(dir, 'a-folder')] }), {
      name: 'InputError',
      message: `--ca ${join(dir, 'a-folder')}: it is a folder`,
    });
  });

  test('in the scenario: a CA file and a client certificate with no PEM certificate, a key file with no PEM key, each at its position', async () => {
    const file = join(dir, 'bad-tls.yaml');
    const tls = `{ ca: ${JSON.stringify(notPem)}, cert: ${JSON.stringify(notPem)}, key: ${JSON.stringify(certs.client.certPath)} }`;
    writeFileSync(file, twoUpgrades(tls));
    await assert.rejects(planWork({ paths: [file], env: {} }), (error: unknown) => {
      assert.ok(error instanceof ScenarioError);
      const lines = error.issues.map(formatIssue);
      assert.equal(lines.length, 3, lines.join('\n'));
      assert.match(lines[0]!, new RegExp(`^${file}:3:\\d+: CA certificate ".*notes\\.txt": it holds no PEM certificate$`));
      assert.match(lines[1]!, new RegExp(`^${file}:3:\\d+: client certificate ".*notes\\.txt": it holds no PEM certificate$`));
      assert.match(lines[2]!, new RegExp(`^${file}:3:\\d+: client key ".*client\\.crt": it holds no PEM private key$`));
      return true;
    });
  });
});
