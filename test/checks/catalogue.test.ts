import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { checksDir, listChecks, nearestName, resolveChecks, summaryOf } from '../../src/checks/catalogue.js';
import { checksCommand, formatChecks } from '../../src/commands/checks.js';
import { UsageError } from '../../src/errors.js';
import { loadScenarios } from '../../src/scenario/load.js';
import type { Step } from '../../src/scenario/types.js';
import { sourcePath } from '../helpers/paths.js';
import { capture } from '../helpers/capture.js';

const DIR = sourcePath('scenarios/checks');
const files = readdirSync(DIR).filter((name) => name.endsWith('.yaml')).sort();

/** The check sends EHLO or HELO with the helo variable. */
function sendsGreeting(text: string): boolean {
  return /send: (EHLO|HELO) \$\{helo\}/.test(text);
}

describe('the check catalogue', () => {
  test('finds scenarios/checks in the package and lists every file there by its base name', () => {
    assert.equal(checksDir(), join(sourcePath(), 'scenarios', 'checks'));
    assert.ok(files.length >= 9, files.join(', '));
    assert.deepEqual(listChecks().map((check) => `${check.name}.yaml`), files);
  });

  test('every check has a one-line description as its summary', () => {
    for (const check of listChecks()) {
      assert.ok(check.summary.length > 10, `${check.name} has a description`);
      assert.ok(check.summary.length <= 100, `${check.name}'s summary fits on a line`);
    }
  });

  test('every check starts with the schema line and a header saying what, why, variables and how to run it', () => {
    for (const file of files) {
      const text = readFileSync(join(DIR, file), 'utf8');
      const lines = text.split('\n');
      assert.equal(lines[0], '# yaml-language-server: $schema=../../schema/scenario.schema.json', file);
      assert.equal(lines[1], '#', file);
      assert.match(lines[2] ?? '', /^# \S/, file);
      const header = lines.slice(0, lines.findIndex((line) => !line.startsWith('#'))).join('\n');
      assert.match(header, /RFC \d+/, `${file} says why`);
      // A check that greets lists helo; one that asks only DNS may have no variables, and says so.
      if (sendsGreeting(text)) assert.match(header, /# Variables \(set with --var name=value\):\n(#   .*\n)*#   helo +the name smtpspec introduces itself with/, `${file} lists its variables`);
      else assert.match(header, /# Variables \(set with --var name=value\):\n#   \S|# Variables: none\./, `${file} lists its variables`);
      assert.ok(header.includes(`# Run it: smtpspec run --check ${basename(file, '.yaml')} --target `), `${file} says how to run it`);
    }
  });

  test('every check validates without warnings, has no target of its own, and ends each case with QUIT', async () => {
    // QUIT is its own step, or the end of raw bytes (pipelined after a message) whose 221 the last step reads.
    const endsWithQuit = (steps: Step[]): boolean => {
      const [before, last] = steps.slice(-2).map((step) => step.action);
      if (last?.type === 'send') return last.line === 'QUIT';
      return last?.type === 'read' && before?.type === 'raw' && Buffer.from(before.bytes).toString('latin1').endsWith('\r\nQUIT\r\n');
    };
    const scenarios = await loadScenarios([DIR]);
    assert.equal(scenarios.length, files.length);
    // A case of DNS check steps only (mta_sts, tls_rpt) opens no session, so it has no QUIT.
    const sessionless = (steps: Step[]): boolean => steps.every((step) => step.action.type === 'dns');
    for (const scenario of scenarios) {
      // dane turns certificate verification off on purpose (DANE authenticates the certificate): no warning for it either.
      assert.deepEqual(scenario.warnings, [], scenario.file);
      assert.equal(scenario.target, undefined, `${scenario.file} runs only against --target`);
      const greets = sendsGreeting(readFileSync(scenario.file, 'utf8'));
      assert.ok(scenario.cases.every((kase) => !greets || kase.vars['helo'] === 'smtpspec.invalid'), `${scenario.file} defaults helo`);
      for (const kase of scenario.cases) assert.ok(sessionless(kase.steps) || endsWithQuit(kase.steps), `${scenario.file}: ${kase.name}`);
    }
  });

  test('every check has tests here against a passing and a failing server', () => {
    const here = sourcePath('test/checks');
    const tests = readdirSync(here).filter((name) => name.endsWith('.test.ts')).map((name) => readFileSync(join(here, name), 'utf8')).join('\n');
    for (const file of files) {
      const name = basename(file, '.yaml');
      assert.ok(tests.includes(`describe('check ${name}', `), `tests for ${file}`);
      assert.ok(tests.includes(`runCheck('${name}', `), `${file} is run`);
    }
  });

  test('resolves names to paths in the order given, each once, with or without .yaml', () => {
    assert.deepEqual(resolveChecks(['starttls', 'greeting.yaml', 'starttls']), [join(DIR, 'starttls.yaml'), join(DIR, 'greeting.yaml')]);
    assert.deepEqual(resolveChecks([]), []);
  });

  test('an unknown name is a usage error naming it, with the likely intended check', () => {
    const refused = (names: string[], message: string) =>
      assert.throws(() => resolveChecks(names), (error: unknown) => error instanceof UsageError && error.message === message);
    refused(['greeting', 'open-rely'], 'unknown check "open-rely" (did you mean "open-relay"? "smtpspec checks" lists them all)');
    refused(['relay'], 'unknown check "relay" (did you mean "open-relay"? "smtpspec checks" lists them all)');
    refused(['dkim'], 'unknown check "dkim" ("smtpspec checks" lists them all)');
  });

  test('suggests only names close enough to be a typo', () => {
    assert.equal(nearestName('STARTTLS', ['starttls', 'greeting']), 'starttls');
    assert.equal(nearestName('smugling', ['smuggling']), 'smuggling');
    assert.equal(nearestName('tls', ['starttls', 'auth-after-tls']), undefined, 'a fragment of two names is ambiguous');
    assert.equal(nearestName('xyz', ['starttls']), undefined);
  });

  test('a summary is the description folded to one line, or empty', () => {
    assert.equal(summaryOf('description: >\n  two\n  lines\ncases: []\n'), 'two lines');
    assert.equal(summaryOf('name: x\n'), '');
    assert.equal(summaryOf(': : [\n'), '');
  });
});

describe('smtpspec checks', () => {
  test('prints one line per check, names padded to one column, and exits 0', async () => {
    const c = capture();
    const code = await checksCommand(c.io);
    assert.equal(code, 0);
    const lines = c.stdout().trimEnd().split('\n');
    assert.equal(lines.length, files.length);
    const column = Math.max(...files.map((file) => basename(file, '.yaml').length)) + 2;
    for (const [index, line] of lines.entries()) {
      const check = listChecks()[index]!;
      assert.equal(line, `${check.name.padEnd(column)}${check.summary}`);
    }
  });

  test('formats a check without a summary without trailing spaces', () => {
    assert.equal(formatChecks([{ name: 'a', path: '/a.yaml', summary: '' }, { name: 'bcd', path: '/b.yaml', summary: 'x' }]), 'a\nbcd  x\n');
  });
});

describe('the embedded server', () => {
  test('passes every ready-made check (the opt-in case is skipped, and so are the checks of a mail domain, saying why)', async () => {
    const { main } = await import('../../src/cli.js');
    const c = capture({ NO_COLOR: '1' });
    const code = await main(['run', ...files.flatMap((file) => ['--check', basename(file, '.yaml')]), '--embedded', '--reporter', 'tap'], c.io);
    const out = c.stdout();
    assert.equal(code, 0, out + c.stderr());
    assert.doesNotMatch(out, /^not ok /m);
    assert.match(out, /# SKIP/);
    // The DNS checks name a mail domain, which the embedded server is not: dns-checks.test.ts runs them on a test zone.
    const domainChecks = files.filter((file) => /^mail_domain: true$/m.test(readFileSync(join(DIR, file), 'utf8')));
    assert.ok(domainChecks.length >= 5, domainChecks.join(', '));
    const skipped = out.split('\n').filter((line) => /# SKIP .*checks a mail domain, and the embedded server has none: give the domain as --target/.test(line));
    const domainCases = (await loadScenarios(domainChecks.map((file) => join(DIR, file)))).reduce((sum, scenario) => sum + scenario.cases.length, 0);
    assert.equal(skipped.length, domainCases, out);
  });
});
