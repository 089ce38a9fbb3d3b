import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { formatIssue, ScenarioError, UsageError } from '../../src/errors.js';
import { isManifestFile, loadManifest, parseManifest } from '../../src/manifest/manifest.js';
import { manifestSchemaPath } from '../../src/manifest/schema.js';
import { loadTargetScenarios } from '../../src/engine/plan-manifest.js';
import { parseScenario } from '../../src/scenario/load.js';
import { sourcePath } from '../helpers/paths.js';

const fixture = (name: string) => sourcePath('test/manifest/fixtures', name);

/** The issues of an inline manifest, as `file:line:col: message` lines; certificate files it names need not exist. */
function problems(source: string): string[] {
  try {
    parseManifest(source, 'fleet.yaml', { missingFiles: new Set() });
  } catch (error) {
    assert.ok(error instanceof ScenarioError, String(error));
    return error.issues.map(formatIssue);
  }
  return assert.fail('parsed without errors');
}

describe('parseManifest: a valid manifest', () => {
  test('defaults are merged, scenario paths are relative to the working folder, names default to the host or domain', async () => {
    const manifest = await loadManifest(fixture('fleet.yaml'));
    const file = fixture('fleet.yaml');
    const defaultTls = { verify: true, ca: [sourcePath('test/manifest/fixtures/certs/ca.pem')], servername: 'mx.example.com' };
    const common = {
      tags: [],
      port: 25,
      timeoutMs: 10_000,
      tls: defaultTls,
      vars: { rcpt: 'postmaster@example.com', size: '1024' },
      scenarios: ['test/manifest/fixtures/scenarios/basic.yaml', 'test/manifest/fixtures/checks'],
    };
    assert.deepEqual(manifest, {
      file,
      dnsServer: { host: '127.0.0.1', port: 5353 },
      targets: [
        {
          name: 'mx1',
          pos: { file, line: 10, col: 5 },
          tags: ['eu', 'primary'],
          host: 'mx1.example.com',
          port: 2525,
          mx: 'primary',
          timeoutMs: 5_000,
          tls: {
            ...defaultTls,
            servername: 'mx1.example.com',
            cert: sourcePath('test/manifest/fixtures/certs/client.pem'),
            key: sourcePath('test/manifest/fixtures/certs/client-key.pem'),
          },
          vars: { rcpt: 'abuse@example.com', size: '1024' },
          scenarios: ['test/manifest/fixtures/checks/tls.yaml'],
        },
        { ...common, name: 'example.org', pos: { file, line: 18, col: 5 }, domain: 'example.org', mx: 'primary' },
        { ...common, name: 'example.net', pos: { file, line: 19, col: 5 }, domain: 'example.net', mx: 'all' },
      ],
    });
  });

  test('the minimum: one target; no dns_server, no timeout, mx all, empty tls and vars', () => {
    const manifest = parseManifest('scenarios: [a.yaml]\ntargets: [{ host: "::1" }]\n', 'sub/fleet.yaml');
    assert.deepEqual(manifest.targets.map(({ pos: _pos, ...target }) => target), [
      { name: '::1', tags: [], host: '::1', port: 25, mx: 'all', tls: {}, vars: {}, scenarios: [join('sub', 'a.yaml')] },
    ]);
    assert.equal(manifest.dnsServer, undefined);
  });

  test('dns_server without a port uses 53; an IPv6 one is written in brackets', () => {
    const parse = (server: string) => parseManifest(`dns_server: "${server}"\nscenarios: [a.yaml]\ntargets: [{ domain: example.org }]\n`, 'm.yaml').dnsServer;
    assert.deepEqual(parse('192.0.2.53'), { host: '192.0.2.53', port: 53 });
    assert.deepEqual(parse('[::1]:5353'), { host: '::1', port: 5353 });
  });
});

describe('parseManifest: problems, all collected with their positions', () => {
  test('unknown keys, with a suggestion where one is close', () => {
    assert.deepEqual(problems('scenarios: [a.yaml]\ndefault: {}\ntargets:\n  - hots: mx.example.com\n    host: mx.example.com\n'), [
      'fleet.yaml:2:1: unknown key "default" at the top level (did you mean "defaults"?)',
      'fleet.yaml:4:5: unknown key "hots" in a target (did you mean "host"?)',
    ]);
  });

  test('wrong types and values', () => {
    const source = [
      'scenarios: a.yaml',
      'defaults: { timeout: 10, mx: backup, tls: implicit, vars: { rcpt: [a] } }',
      'targets:',
      '  - host: mx.example.com',
      '    port: 70000',
      '    tags: [eu, "two words", eu]',
      '    tls: { cert: c.pem, verfy: false }',
      '',
    ].join('\n');
    assert.deepEqual(problems(source), [
      'fleet.yaml:1:12: scenarios must be a list of files, folders and patterns',
      'fleet.yaml:2:22: timeout must be a duration such as "500ms", "30s" or "2m"',
      'fleet.yaml:2:30: mx must be "all" or "primary"',
      'fleet.yaml:2:43: tls must be a map such as { verify: true, ca: certs/ca.pem }',
      'fleet.yaml:2:67: variable "rcpt" must be a string, a number or a boolean',
      'fleet.yaml:5:11: port must be a whole number from 1 to 65535',
      'fleet.yaml:6:16: a tag must be text of letters, digits, ".", "_" and "-" (no spaces or commas)',
      'fleet.yaml:6:11: tags must not list the same value twice',
      'fleet.yaml:7:12: "cert" needs "key" beside it: a client certificate and its private key go together',
      'fleet.yaml:7:25: unknown key "verfy" in tls (did you mean "verify"?)',
    ].sort(byPosition));
  });

  test('both host and domain, neither, and bad names', () => {
    const source = [
      'scenarios: [a.yaml]',
      'targets:',
      '  - host: mx.example.com',
      '    domain: example.com',
      '  - name: lonely',
      '  - host: "mx.example.com:25"',
      '  - domain: 192.0.2.1',
      '  - host: mx2.example.com',
      '    mx: primary',
      '',
    ].join('\n');
    assert.deepEqual(problems(source), [
      'fleet.yaml:4:5: a target takes exactly one of "host" and "domain", not both',
      'fleet.yaml:5:5: a target needs "host" (one server) or "domain" (the MX hosts of a mail domain)',
      'fleet.yaml:6:11: host must be a host name or an IP address: write the port under "port"',
      'fleet.yaml:7:13: domain must be a mail domain such as example.org',
      'fleet.yaml:9:5: mx applies only to a domain target',
    ]);
  });

  test('duplicate target names, written or defaulted', () => {
    const source = [
      'scenarios: [a.yaml]',
      'targets:',
      '  - { name: eu, host: mx1.example.com }',
      '  - { name: eu, host: mx2.example.com }',
      '  - domain: example.org',
      '  - domain: example.org',
      '',
    ].join('\n');
    assert.deepEqual(problems(source), [
      'fleet.yaml:4:13: duplicate target name "eu" (first at line 3): give each target a unique name',
      'fleet.yaml:6:13: duplicate target name "example.org" (first at line 5): give each target a unique name',
    ]);
  });

  test('missing targets, an empty list, and a target with no scenarios anywhere', () => {
    assert.deepEqual(problems('scenarios: [a.yaml]\n'), ['fleet.yaml:1:1: missing required key "targets"']);
    assert.deepEqual(problems('scenarios: [a.yaml]\ntargets: []\n'), ['fleet.yaml:2:10: targets must list at least one target']);
    assert.deepEqual(problems('targets:\n  - host: mx.example.com\n  - host: mx2.example.com\n    scenarios: [b.yaml]\n'), [
      'fleet.yaml:2:5: this target has no scenarios: list them under "scenarios" (or ready-made "checks") at the top level or in the target',
    ]);
  });

  test('checks name ready-made checks, added to the scenarios; a target\'s own replace the top-level ones', () => {
    const manifest = parseManifest(
      'scenarios: [a.yaml]\nchecks: [open-relay]\ntargets:\n  - host: mx1.example.com\n  - host: mx2.example.com\n    checks: [greeting, starttls]\n  - host: mx3.example.com\n    scenarios: [b.yaml]\n',
      '/fleet/fleet.yaml',
    );
    const files = manifest.targets.map((target) => target.scenarios.map((path) => path.split(/[\\/]/).slice(-2).join('/')));
    assert.deepEqual(files, [
      ['fleet/a.yaml', 'checks/open-relay.yaml'],
      ['fleet/a.yaml', 'checks/greeting.yaml', 'checks/starttls.yaml'],
      ['fleet/b.yaml', 'checks/open-relay.yaml'],
    ]);
    assert.deepEqual(problems('checks: [greeting, open-rely]\ntargets: [{ host: mx.example.com }]\n'), [
      'fleet.yaml:1:20: unknown check "open-rely" (did you mean "open-relay"? "smtpspec checks" lists them all)',
    ]);
    assert.deepEqual(problems('targets: [{ host: mx.example.com, checks: [Greeting, nonesuch] }]\n'), [
      'fleet.yaml:1:54: unknown check "nonesuch" ("smtpspec checks" lists them all)',
    ]);
  });

  test('patterns are expanded from the manifest\'s folder, even one whose name looks like a pattern', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-manifest-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const base = join(dir, '[prod]');
    for (const file of ['fleet/a.yaml', 'fleet/b.yml', 'fleet/notes.txt', 'fleet/tls/c.yaml', 'other/d.yaml']) {
      await mkdir(join(base, file, '..'), { recursive: true });
      await writeFile(join(base, file), 'cases: []\n');
    }
    const manifest = parseManifest(
      'scenarios: ["fleet/*"]\ntargets:\n  - host: mx1.example.com\n  - host: mx2.example.com\n    scenarios: ["{fleet,other}/**/*.yaml", other/d.yaml]\n',
      join(base, 'fleet.yaml'),
    );
    assert.deepEqual(
      manifest.targets.map((target) => target.scenarios),
      [
        // Files among the matches, and folders to be searched as folder entries are.
        [join(base, 'fleet/a.yaml'), join(base, 'fleet/b.yml'), join(base, 'fleet/tls')],
        [join(base, 'fleet/a.yaml'), join(base, 'fleet/tls/c.yaml'), join(base, 'other/d.yaml'), join(base, 'other/d.yaml')],
      ],
    );
    assert.throws(
      () => parseManifest('scenarios: ["fleet/*.json"]\ntargets:\n  - host: mx1.example.com\n    scenarios: [a.yaml, "nothing/*"]\n', join(base, 'fleet.yaml')),
      (error: unknown) => {
        assert.ok(error instanceof ScenarioError);
        assert.deepEqual(error.issues.map(formatIssue), [`${join(base, 'fleet.yaml')}:4:25: no scenario files (*.yaml, *.yml) match "nothing/*"`]);
        return true;
      },
    );
    // Reported once, at the entry, however many targets use the top-level list.
    assert.deepEqual(problems('scenarios: [a.yaml, "*.nothing"]\ntargets: [{ host: a.example.com }, { host: b.example.com }]\n'), [
      'fleet.yaml:1:21: no scenario files (*.yaml, *.yml) match "*.nothing"',
    ]);
  });

  test('secrets: named at the top level are secret in every target\'s scenarios', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-manifest-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 's.yaml'), 'cases:\n  - name: n\n    steps: [{ send: "XCODE ${env:SIGNUP}" }, { send: "VRFY ${env:WHO}" }]\n');
    const manifest = parseManifest('secrets: [SIGNUP]\nscenarios: [s.yaml]\ntargets: [{ host: mx.example.com }]\n', join(dir, 'fleet.yaml'));
    assert.deepEqual(manifest.targets[0]?.secrets, ['SIGNUP']);
    const [scenario] = await loadTargetScenarios(manifest.targets[0]!, { vars: {}, env: { SIGNUP: 'code-123', WHO: 'bob' }, ca: [] });
    assert.deepEqual(scenario?.secrets, ['code-123'], 'the named one is secret, the other value is not');
  });

  test('a pattern leaves out the manifest itself and files of steps among its matches', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'smtpspec-manifest-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const source = 'scenarios: ["*.yaml"]\ntargets:\n  - host: mx1.example.com\n';
    await writeFile(join(dir, 'fleet.yaml'), source);
    await writeFile(join(dir, 'a.yaml'), 'cases: []\n');
    await writeFile(join(dir, 'prelude.yaml'), 'steps: [{ expect: 220 }]\n');
    const manifest = await loadManifest(join(dir, 'fleet.yaml'));
    assert.deepEqual(manifest.targets[0]?.scenarios, [join(dir, 'a.yaml')]);
  });

  test('certificate files the manifest names must exist, or are only collected where missingFiles is given', () => {
    const source = 'scenarios: [a.yaml]\ndefaults:\n  tls: { ca: [fixtures/certs/ca.pem, nope/ca.pem] }\ntargets:\n  - host: a.example.com\n    tls: { cert: nope/client.pem, key: fixtures/certs }\n  - host: b.example.com\n';
    const file = sourcePath('test/manifest/fleet.yaml');
    assert.throws(
      () => parseManifest(source, file),
      (error: unknown) => {
        assert.ok(error instanceof ScenarioError);
        assert.deepEqual(error.issues.map(formatIssue), [
          `${file}:3:38: CA certificate "nope/ca.pem" does not exist (looked for ${sourcePath('test/manifest/nope/ca.pem')})`,
          `${file}:6:18: client certificate "nope/client.pem" does not exist (looked for ${sourcePath('test/manifest/nope/client.pem')})`,
          `${file}:6:40: client key "fixtures/certs": it is a folder`,
        ]);
        return true;
      },
    );
    const missingFiles = new Set<string>();
    assert.throws(() => parseManifest(source, file, { missingFiles }), /client key "fixtures\/certs": it is a folder/);
    assert.deepEqual([...missingFiles].sort(), [sourcePath('test/manifest/nope/ca.pem'), sourcePath('test/manifest/nope/client.pem')]);
  });

  test('dns_server that is not an IP address, a zero timeout', () => {
    assert.deepEqual(problems('dns_server: ns.example.com\nscenarios: [a.yaml]\ntargets: [{ host: a, timeout: 0ms }]\n'), [
      'fleet.yaml:1:13: dns_server must be an IP address with an optional port, such as "127.0.0.1:5353" or "[::1]:53"',
      'fleet.yaml:3:31: timeout must be at least 1ms',
    ]);
  });

  test('YAML errors and an empty file', () => {
    assert.deepEqual(problems('targets: [a\n'), ['fleet.yaml:2:1: YAML syntax error: flow sequence in block collection must be sufficiently indented and end with a ]']);
    assert.deepEqual(problems(''), ['fleet.yaml:1:1: the file is empty: a manifest needs at least "targets:"']);
    assert.deepEqual(problems('- a\n'), ['fleet.yaml:1:1: a manifest must be a map with at least "targets:"']);
    assert.deepEqual(problems('scenarios: [a.yaml]\ntargets: [mx.example.com]\n'), [
      'fleet.yaml:2:11: a target must be a map such as { host: mx.example.com } or { domain: example.org }',
    ]);
  });

  test('a duplicate key is named at its place, in the words a scenario file gets', () => {
    const source = 'targets: []\ndefaults: {}\ntargets: []\n';
    const expected = 'fleet.yaml:3:1: duplicate key "targets": a key may appear only once in a map';
    assert.deepEqual(problems(source), [expected]);
    assert.throws(
      () => parseScenario(source, 'fleet.yaml'),
      (error: unknown) => {
        assert.ok(error instanceof ScenarioError, String(error));
        assert.deepEqual(error.issues.map(formatIssue), [expected]);
        return true;
      },
    );
  });

  test('a file that cannot be read is a usage error', async () => {
    await assert.rejects(loadManifest(fixture('missing.yaml')), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, /cannot read ".*missing\.yaml": no such file or directory/);
      return true;
    });
  });
});

describe('isManifestFile', () => {
  test('a top-level targets: key and no cases: key', () => {
    assert.equal(isManifestFile(fixture('fleet.yaml')), true);
    assert.equal(isManifestFile(fixture('not-a-manifest.yaml')), false);
    assert.equal(isManifestFile('x.yaml', 'name: a\ncases: []\n'), false);
    assert.equal(isManifestFile('x.yaml', 'cases:\n  - name: targets\n'), false);
    assert.equal(isManifestFile('x.yaml', 'targets: [{ host: a }]\n'), true);
    assert.equal(isManifestFile('x.yaml', '- targets\n'), false);
    assert.equal(isManifestFile(fixture('missing.yaml')), false);
  });
});

describe('schema/manifest.schema.json', () => {
  const schema = JSON.parse(readFileSync(manifestSchemaPath(), 'utf8')) as Record<string, unknown>;

  test('compiles in strict mode', () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    assert.equal(typeof ajv.compile(schema), 'function');
  });

  test('every property has a description and an example', () => {
    const missing: string[] = [];
    const walk = (node: unknown, where: string): void => {
      if (typeof node !== 'object' || node === null) return;
      const properties = (node as { properties?: Record<string, Record<string, unknown>> }).properties ?? {};
      for (const [key, property] of Object.entries(properties)) {
        if (typeof property['description'] !== 'string') missing.push(`${where}/${key}: description`);
        if (!Array.isArray(property['examples']) || property['examples'].length === 0) missing.push(`${where}/${key}: examples`);
      }
      for (const [key, child] of Object.entries(node)) walk(child, `${where}/${key}`);
    };
    walk(schema, '#');
    assert.deepEqual(missing, []);
  });
});

function byPosition(a: string, b: string): number {
  const [, la = 0, ca = 0] = /:(\d+):(\d+):/.exec(a)?.map(Number) ?? [];
  const [, lb = 0, cb = 0] = /:(\d+):(\d+):/.exec(b)?.map(Number) ?? [];
  return la - lb || ca - cb;
}
