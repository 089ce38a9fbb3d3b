import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { posix, sep } from 'node:path';
import { sourcePath } from '../helpers/paths.js';

/**
 * The layers of src/ and the direction of their imports: commands → engine → smtp, reporters
 * implement the engine's events and read its results, smtp/ knows nothing of scenarios or reports.
 * Every kind of import counts: static, `import type`, `export … from` and `import('…')` with a literal.
 */

/** Each file, relative to src/ (`smtp/auth.ts`), → the files in src/ it imports, sorted. */
type Graph = Map<string, string[]>;

/** Tells whether a file, relative to src/, is one of a set. */
type Match = (file: string) => boolean;

interface Rule {
  name: string;
  files: Match;
  forbidden: Match;
}

/** Modules every layer may use; they import nothing from src/ themselves. */
const LEAVES = ['errors.ts', 'words.ts', 'ip.ts', 'group-by.ts', 'package-info.ts', 'yaml-lib.ts', 'tls-facts.ts', 'atomic-file.ts', 'read-file.ts'];

/** `smtp/` is a folder, `cli*.ts` a pattern, anything else a file. */
function under(...patterns: string[]): Match {
  const tests = patterns.map((pattern): Match => {
    if (pattern.endsWith('/')) return (file) => file.startsWith(pattern);
    if (!pattern.includes('*')) return (file) => file === pattern;
    const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.]/g, '\\.')).join('[^/]*')}$`);
    return (file) => regex.test(file);
  });
  return (file) => tests.some((matches) => matches(file));
}

const not = (match: Match): Match => (file) => !match(file);

const RULES: Rule[] = [
  { name: 'smtp/ imports only smtp/ and the shared leaves', files: under('smtp/'), forbidden: not(under('smtp/', ...LEAVES)) },
  { name: 'the shared leaves import nothing from src/', files: under(...LEAVES), forbidden: () => true },
  { name: 'dns/ imports only dns/ and the shared leaves', files: under('dns/'), forbidden: not(under('dns/', ...LEAVES)) },
  {
    name: 'mailbox/ knows nothing of scenarios, the engine or reports: it imports only mailbox/, smtp/ and the shared leaves',
    files: under('mailbox/'),
    forbidden: not(under('mailbox/', 'smtp/', ...LEAVES)),
  },
  {
    name: 'scenario/ does not import engine/, report/, commands/, manifest/, record/ or cli*.ts',
    files: under('scenario/'),
    forbidden: under('engine/', 'report/', 'commands/', 'manifest/', 'record/', 'cli*.ts'),
  },
  {
    name: 'engine/ does not import report/, commands/, record/ or cli*.ts',
    files: under('engine/'),
    forbidden: under('report/', 'commands/', 'record/', 'cli*.ts'),
  },
  {
    name: 'report/ does not import scenario/, smtp/, manifest/, commands/ or cli*.ts',
    files: under('report/'),
    forbidden: under('scenario/', 'smtp/', 'manifest/', 'commands/', 'cli*.ts'),
  },
  {
    name: 'manifest/ does not import engine/, report/, commands/ or cli*.ts',
    files: under('manifest/'),
    forbidden: under('engine/', 'report/', 'commands/', 'cli*.ts'),
  },
  { name: 'only bin.ts imports cli.ts', files: not(under('bin.ts')), forbidden: under('cli.ts') },
];

/**
 * Imports that break a rule and are known, each `file → import`. Delete an entry when its import goes;
 * an entry that no longer matches an import fails the test, so none outlives its reason.
 */
const KNOWN_OFFENDERS: readonly string[] = [];

/** Module specifiers in TypeScript source, in order. */
function specifiersOf(source: string): string[] {
  // `… from '…'` (imports and re-exports), `import '…'` and `import('…')`; not a method such as `Buffer.from('.')`.
  const SPECIFIER = /(?<![\w$.])(?:from|import\s*\(?)\s*(['"])([^'"\n]+)\1/g;
  return [...source.matchAll(SPECIFIER)].map((match) => match[2] as string);
}

/** A relative specifier as the file it names (`../smtp/auth.js` → `smtp/auth.ts`); undefined for packages. */
function resolveSpecifier(file: string, specifier: string): string | undefined {
  if (!/^\.\.?\//.test(specifier)) return undefined;
  return posix.join(posix.dirname(file), specifier).replace(/\.js$/, '.ts');
}

/** The import graph of TypeScript sources given as file → text. */
function graphOf(sources: ReadonlyMap<string, string>): Graph {
  const graph: Graph = new Map();
  for (const [file, text] of sources) {
    const targets = specifiersOf(text).flatMap((specifier) => resolveSpecifier(file, specifier) ?? []);
    graph.set(file, [...new Set(targets)].sort());
  }
  return graph;
}

function readSources(root: string): Map<string, string> {
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.split(sep).join('/'))
    .sort();
  return new Map(files.map((file) => [file, readFileSync(`${root}/${file}`, 'utf8')]));
}

/** `file → import` for each import that breaks the rule. */
function offenders(graph: Graph, rule: Rule): string[] {
  return [...graph].flatMap(([file, targets]) =>
    rule.files(file) ? targets.filter((target) => rule.forbidden(target)).map((target) => `${file} → ${target}`) : [],
  );
}

/** Each cycle found by a depth-first walk, as its files in import order, the first repeated at the end. */
function cyclesOf(graph: Graph): string[][] {
  const cycles: string[][] = [];
  const finished = new Set<string>();
  const path: string[] = [];
  const visit = (file: string): void => {
    path.push(file);
    for (const target of graph.get(file) ?? []) {
      const at = path.indexOf(target);
      if (at >= 0) cycles.push([...path.slice(at), target]);
      else if (!finished.has(target)) visit(target);
    }
    path.pop();
    finished.add(file);
  };
  for (const file of [...graph.keys()].sort()) if (!finished.has(file)) visit(file);
  return cycles;
}

const listed = (lines: string[]): string => lines.map((line) => `\n  ${line}`).join('');

describe('imports in src/', () => {
  const graph = graphOf(readSources(sourcePath('src')));
  const broken = RULES.flatMap((rule) => offenders(graph, rule));

  test('the scan finds the files and their imports', () => {
    assert.ok(graph.size > 100, `only ${graph.size} files found under src/`);
    assert.ok(graph.get('cli.ts')?.includes('commands/run.ts'), 'the lazy import of commands/run.ts by cli.ts was not found');
    const unresolved = [...graph].flatMap(([file, targets]) => targets.filter((t) => !graph.has(t)).map((t) => `${file} → ${t}`));
    assert.deepEqual(unresolved, [], `relative imports that name no .ts file in src/:${listed(unresolved)}`);
  });

  for (const rule of RULES) {
    test(rule.name, () => {
      const found = offenders(graph, rule).filter((edge) => !KNOWN_OFFENDERS.includes(edge));
      assert.deepEqual(found, [], `${rule.name}, but:${listed(found)}`);
    });
  }

  test('every known offender is still an offending import', () => {
    const gone = KNOWN_OFFENDERS.filter((edge) => !broken.includes(edge));
    assert.deepEqual(gone, [], `remove from KNOWN_OFFENDERS:${listed(gone)}`);
  });

  test('no import cycle', () => {
    const cycles = cyclesOf(graph).map((cycle) => cycle.join(' → '));
    assert.deepEqual(cycles, [], `import cycles:${listed(cycles)}`);
  });
});

describe('the import checker', () => {
  test('reads static, type-only, re-exported and dynamic imports', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      'import {\n  c,\n  d,\n} from "./c.js";',
      "export * from './e.js';",
      "export { f } from './f.js';",
      "import './g.js';",
      "const h = await import('./h.js');",
      "import { readFileSync } from 'node:fs';",
      'const dynamic = await import(name);',
      "const dot = Buffer.from('.');",
      "const text = 'imported from' + name;",
    ].join('\n');
    assert.deepEqual(specifiersOf(source), ['./a.js', '../b.js', './c.js', './e.js', './f.js', './g.js', './h.js', 'node:fs']);
    assert.deepEqual(graphOf(new Map([['engine/run.ts', source]])).get('engine/run.ts'), [
      'b.ts',
      'engine/a.ts',
      'engine/c.ts',
      'engine/e.ts',
      'engine/f.ts',
      'engine/g.ts',
      'engine/h.ts',
    ]);
  });

  test('reports a forbidden import and a cycle', () => {
    const graph = graphOf(
      new Map([
        ['smtp/auth.ts', "import type { AuthAction } from '../scenario/types.js';\nimport { words } from '../words.js';"],
        ['scenario/types.ts', "export { load } from './load.js';"],
        ['scenario/load.ts', "import { authenticate } from '../smtp/auth.js';"],
        ['words.ts', ''],
      ]),
    );
    const smtpRule = RULES.find((rule) => rule.name.startsWith('smtp/')) as Rule;
    assert.deepEqual(offenders(graph, smtpRule), ['smtp/auth.ts → scenario/types.ts']);
    assert.deepEqual(cyclesOf(graph), [['scenario/load.ts', 'smtp/auth.ts', 'scenario/types.ts', 'scenario/load.ts']]);
    assert.deepEqual(cyclesOf(new Map([['a.ts', ['b.ts']], ['b.ts', []]])), []);
  });

  test('folders, files and patterns', () => {
    const cli = under('cli*.ts', 'report/');
    assert.deepEqual(
      ['cli.ts', 'cli-options.ts', 'commands/cli.ts', 'report/tap.ts', 'reporter.ts', 'bin.ts'].filter(cli),
      ['cli.ts', 'cli-options.ts', 'report/tap.ts'],
    );
  });
});
