import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Reading a V8 CPU profile (node --cpu-prof): where the samples fell, by module and by function. The command is
 * one bundled file; its modules are told apart by the "// path.js" line the bundler puts before each.
 */

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** For a bundled file: the first line of each module and the module's path, in order. */
async function bundleModules(url: string): Promise<{ line: number; module: string }[]> {
  const text = await readFile(fileURLToPath(url), 'utf8').catch(() => '');
  const starts: { line: number; module: string }[] = [];
  text.split('\n').forEach((line, index) => {
    const match = /^\/\/ ((?:dist\/src|node_modules)\/\S+\.[cm]?js)$/.exec(line);
    if (match) starts.push({ line: index, module: match[1]!.replace(/^dist\//, '').replace(/\.js$/, '.ts') });
  });
  return starts;
}

/** The module a sample belongs to: a source file of the bundle, a node: module, or V8's own entries. */
async function locate(node: ProfileNode, bundles: Map<string, { line: number; module: string }[]>): Promise<string> {
  const { url, lineNumber, functionName } = node.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url;
  if (!url.endsWith('.cjs')) return basename(url);
  let starts = bundles.get(url);
  if (!starts) bundles.set(url, (starts = await bundleModules(url)));
  let found = basename(url);
  for (const start of starts) {
    if (start.line > lineNumber) break;
    found = start.module;
  }
  return found;
}

/** The profile's share of samples by area (module folder) and by function; idle time left out. */
export async function profileSummary(dir: string, top = 8): Promise<string[]> {
  const files = (await readdir(dir)).filter((name) => name.endsWith('.cpuprofile'));
  if (files.length === 0) return ['no CPU profile was written'];
  const { nodes } = JSON.parse(await readFile(join(dir, files[0]!), 'utf8')) as { nodes: ProfileNode[] };
  const bundles = new Map<string, { line: number; module: string }[]>();
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  const add = (map: Map<string, number>, key: string, hits: number): void => void map.set(key, (map.get(key) ?? 0) + hits);
  for (const node of nodes) {
    if (node.callFrame.functionName === '(idle)' || !node.hitCount) continue;
    const module = await locate(node, bundles);
    // node_modules/yaml/dist/parse/lexer.js → node_modules/yaml; src/scenario/load.ts → src/scenario
    const area = module.startsWith('node_modules/') ? module.split('/').slice(0, 2).join('/') : module.includes('/') ? module.slice(0, module.lastIndexOf('/')) : module;
    add(byArea, area, node.hitCount);
    add(byFunction, `${node.callFrame.functionName || '(anonymous)'} [${module}]`, node.hitCount);
    total += node.hitCount;
  }
  const lines = (map: Map<string, number>): string[] =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, hits]) => `${((100 * hits) / total).toFixed(1).padStart(5)}%  ${key}`);
  return ['by area:', ...lines(byArea), 'by function (self time):', ...lines(byFunction)];
}
