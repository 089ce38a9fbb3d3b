import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { parse } from 'yaml';
import { sourcePath } from '../helpers/paths.js';
import { anchors, blocks, links, pages, prose, shownFile, type Page } from './markdown.js';

const all = pages();
const readme = all.find((page) => page.path === 'README.md')!;

/** A link's file, relative to the project root, and its anchor. */
function resolveLink(page: Page, link: string): { path: string; anchor?: string } {
  const [file = '', anchor] = link.split('#');
  const path = file === '' ? page.path : normalize(join(dirname(page.path), file)).split('\\').join('/');
  return anchor === undefined ? { path } : { path, anchor };
}

describe('the README', () => {
  test('is a landing page of at most 15 KB', () => {
    const bytes = Buffer.byteLength(readme.text);
    assert.ok(bytes <= 15_000, `README.md is ${bytes} bytes`);
  });

  test('says what smtpspec is, then how to install it, then the first run', () => {
    const headings = [...prose(readme.text).matchAll(/^## (.+)$/gm)].map((match) => match[1]);
    assert.deepEqual(headings.slice(0, 3), ['Install', 'First run', 'From telnet to a CI test']);
    assert.match(readme.text.slice(0, readme.text.indexOf('## Install')), /```console\n\$ smtpspec run /, 'a console sample comes first');
  });

  test('keeps the quick start commands in sight', () => {
    const shell = blocks(readme)
      .filter((block) => block.lang === 'sh')
      .flatMap((block) => block.lines);
    assert.ok(shell.some((line) => line.startsWith('npm install && npm start')));
    assert.ok(shell.some((line) => line.startsWith('npm test')));
  });

  test('links to every page of docs/', () => {
    const linked = new Set(links(readme.text).map((link) => resolveLink(readme, link).path));
    for (const page of all.filter((p) => p.path.startsWith('docs/'))) assert.ok(linked.has(page.path), `README links to ${page.path}`);
  });
});

describe('the README and docs/', () => {
  test('every link to a heading points at one that exists, on the same page or another', () => {
    let count = 0;
    for (const page of all) {
      for (const link of links(page.text).filter((l) => !/^[a-z]+:/.test(l))) {
        const { path, anchor } = resolveLink(page, link);
        if (anchor === undefined) continue;
        count++;
        const target = all.find((p) => p.path === path);
        assert.ok(target, `${page.path}: ${link} points at a page of the documentation`);
        assert.ok(anchors(target.text).has(anchor), `${page.path}: ${link}: ${path} has a heading #${anchor}`);
      }
    }
    assert.ok(count > 30, `${count} links to headings`);
  });

  test('every link to a file of the project points at one that exists, inside the project', () => {
    let count = 0;
    for (const page of all) {
      for (const link of links(page.text).filter((l) => !/^[a-z]+:/.test(l))) {
        const { path } = resolveLink(page, link);
        count++;
        assert.ok(!relative(sourcePath(), sourcePath(path)).startsWith('..'), `${page.path}: ${link} stays inside the project`);
        assert.ok(existsSync(sourcePath(path)), `${page.path}: ${link} (${path}) exists`);
      }
    }
    assert.ok(count > 40, `${count} links`);
  });

  test('every YAML block is YAML (a key may come twice where a block shows alternatives)', () => {
    const yamlBlocks = all.flatMap(blocks).filter((block) => block.lang === 'yaml');
    assert.ok(yamlBlocks.length > 20);
    for (const block of yamlBlocks) {
      assert.doesNotThrow(() => parse(block.lines.join('\n'), { uniqueKeys: false }), `${block.page}:${block.line}`);
    }
  });

  test('a file shown on several pages is the same on each', () => {
    const shown = new Map<string, { page: string; text: string }>();
    for (const block of all.flatMap(blocks)) {
      const name = shownFile(block);
      if (name === undefined) continue;
      const text = block.lines.join('\n');
      const earlier = shown.get(name);
      if (earlier) assert.equal(text, earlier.text, `${name} on ${block.page}:${block.line} is the one on ${earlier.page}`);
      else shown.set(name, { page: `${block.page}:${block.line}`, text });
    }
    assert.ok(shown.has('fleet.yaml'), [...shown.keys()].join(', '));
  });

  test('a block quoted from a file of the project is still in that file', () => {
    const quotes = all.flatMap(blocks).filter((block) => /^<!-- quoted from \S+ -->$/.test(block.before));
    assert.ok(quotes.length > 0);
    for (const block of quotes) {
      const file = /^<!-- quoted from (\S+) -->$/.exec(block.before)![1]!;
      const text = readFileSync(sourcePath(file), 'utf8');
      assert.ok(text.includes(`${block.lines.join('\n')}\n`), `${block.page}:${block.line} is a part of ${file} as it is now`);
    }
  });

  test('name no paths of the machine they were written on', () => {
    for (const page of all) assert.doesNotMatch(page.text, /\/(?:work|tmp|home)\/|node_modules\/\.bin|C:\\/, page.path);
  });
});
