import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SaxesParser } from 'saxes';
import { run } from '../helpers/cli.js';
import { GENEROUS } from '../helpers/deadlines.js';
import { projectRoot, sourcePath } from '../helpers/paths.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { blocks, pages, type Block } from './markdown.js';

/**
 * The programs shown in docs/api.md, run as they are written, with node, in a folder where
 * `smtpspec` is this project (node_modules/smtpspec links to it, so `import … from 'smtpspec'`
 * reads the built package through its package.json, as an installed copy would be read).
 */

const CODE = new Set(['js', 'mjs', 'javascript', 'ts', 'typescript']);

/** A program block: its first line names the file, `// NAME.mjs`. */
function programName(block: Block): string | undefined {
  return /^\/\/ ([\w-]+\.mjs)$/.exec(block.lines[0] ?? '')?.[1];
}

const programs = new Map(
  pages()
    .filter((page) => page.path === 'docs/api.md')
    .flatMap(blocks)
    .filter((block) => CODE.has(block.lang))
    .map((block) => [programName(block) ?? `${block.page}:${block.line}`, block.lines.join('\n')] as const),
);

/** The testcases of a JUnit document, with whether each has a <failure> or <error>. */
function testcases(xml: string): { name: string; broken: boolean }[] {
  const found: { name: string; broken: boolean }[] = [];
  const parser = new SaxesParser();
  parser.on('opentag', (tag) => {
    if (tag.name === 'testcase') found.push({ name: String(tag.attributes['name']), broken: false });
    if ((tag.name === 'failure' || tag.name === 'error') && found.length > 0) found.at(-1)!.broken = true;
  });
  parser.write(xml).close();
  return found;
}

describe('docs/api.md', () => {
  test('every program in the documentation is on this page, named, and so run below', () => {
    const elsewhere = pages()
      .filter((page) => page.path !== 'docs/api.md')
      .flatMap(blocks)
      .filter((block) => CODE.has(block.lang));
    assert.deepEqual(elsewhere.map((block) => `${block.page}:${block.line}`), []);
    assert.deepEqual([...programs.keys()].sort(), ['run-embedded.mjs', 'run-fleet.mjs']);
  });

  describe('its programs run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smtpspec-api-docs-'));
    const servers: TestServer[] = [];

    before(() => {
      mkdirSync(join(dir, 'node_modules'));
      // A junction on Windows, where a plain directory link needs rights a test does not have.
      symlinkSync(projectRoot, join(dir, 'node_modules', 'smtpspec'), 'junction');
      for (const [name, text] of programs) writeFileSync(join(dir, name), `${text}\n`);
    });
    after(async () => {
      await Promise.all(servers.map((server) => server.close()));
      rmSync(dir, { recursive: true, force: true });
    });

    test('run-fleet.mjs: a manifest of two servers, every case in the JUnit file', async () => {
      for (let i = 0; i < 2; i++) servers.push(await startTestServer({ name: `mx${i + 1}.test` }));
      // The manifest of the page, here two servers of this test; its scenario sends to ${rcpt}, which the program sets.
      const steps = `      - expect: 220\n      - send: EHLO client.test\n        expect: 250\n      - send: MAIL FROM:<tester@example.com>\n        expect: 250\n      - send: RCPT TO:<\${rcpt}>\n        expect: 250\n      - send: QUIT\n        expect: 221`;
      writeFileSync(join(dir, 'greeting.yaml'), `name: greeting\ntimeout: ${GENEROUS}\ncases:\n  - name: a recipient is accepted\n    steps:\n${steps}\n  - name: the greeting again\n    steps:\n      - expect: 220\n`);
      const targets = servers.map((server, i) => `  - { name: mx${i + 1}, host: 127.0.0.1, port: ${server.port} }`);
      writeFileSync(join(dir, 'fleet.yaml'), `scenarios: [greeting.yaml]\ntargets:\n${targets.join('\n')}\n`);
      const outcome = await run(process.execPath, ['run-fleet.mjs'], { cwd: dir });
      assert.equal(outcome.code, 0, outcome.stderr);
      assert.equal(outcome.stdout, '4 of 4 cases passed\n');
      const cases = testcases(readFileSync(join(dir, 'reports', 'smtp.xml'), 'utf8'));
      assert.equal(cases.length, 4, 'one testcase per (target × case)');
      assert.deepEqual(cases.filter((c) => c.broken), []);
    });

    // The program ends by itself only if the run stopped the server it started.
    test('run-embedded.mjs: a bundled scenario against the embedded server, started and stopped by the run', async () => {
      mkdirSync(join(dir, 'scenarios'), { recursive: true });
      cpSync(sourcePath('scenarios', 'basic-conversation.yaml'), join(dir, 'scenarios', 'basic-conversation.yaml'));
      const outcome = await run(process.execPath, ['run-embedded.mjs'], { cwd: dir });
      assert.equal(outcome.code, 0, `${outcome.stderr}\n${outcome.stdout}`);
      assert.match(outcome.stdout, /scenarios\/basic-conversation\.yaml/);
      assert.match(outcome.stdout, /\b[1-9]\d* passed, 0 failed\b/);
    });
  });
});
