import { EXIT, printWarnings, type CliIO } from './io.js';
import type { ListCommand } from './types.js';
import type { WorkItem } from '../engine/run.js';
import { isMxPlaceholder, manifestPathOf, planWork, selectWork, targetLabel } from './plan.js';
import { printMissing } from './lenient-env.js';
import { groupBy } from '../group-by.js';
import { plural } from '../words.js';

/**
 * `smtpspec list`: the files, cases and tags a run would have, after --grep, --tag and
 * --target, without connecting or looking anything up. For a manifest: target by target.
 */

function caseLine(item: WorkItem, indent: string): string {
  const tags = item.kase.tags.length > 0 ? `  [${item.kase.tags.join(', ')}]` : '';
  const when = item.kase.when ? `  (only when ${item.kase.when.written})` : '';
  return `${indent}${item.kase.name}${tags}${when}`;
}

function fileLines(items: WorkItem[]): string[] {
  const lines: string[] = [];
  for (const [, group] of groupBy(items, (item) => `${item.scenario.file}\u0000${targetLabel(item.target)}`)) {
    const first = group[0]!;
    lines.push(`${first.scenario.file}  (${targetLabel(first.target)})`);
    for (const item of group) lines.push(caseLine(item, '  '));
  }
  const files = new Set(items.map((item) => item.scenario.file)).size;
  lines.push(`${plural(items.length, 'case')} in ${plural(files, 'file')}`);
  return lines;
}

function manifestLines(path: string, items: WorkItem[]): string[] {
  const byTarget = groupBy(items, (item) => targetLabel(item.target));
  const files = new Set(items.map((item) => item.scenario.file)).size;
  const lines = [`${path}: ${plural(byTarget.size, 'target')} × ${plural(files, 'file')}`];
  let perMx = 0;
  for (const [label, group] of byTarget) {
    lines.push(label);
    if (isMxPlaceholder(group[0]!.target)) perMx += group.length;
    for (const [file, cases] of groupBy(group, (item) => item.scenario.file)) {
      lines.push(`  ${file}`);
      for (const item of cases) lines.push(caseLine(item, '    '));
    }
  }
  const note = perMx > 0 ? ` (${perMx} of them once for each MX host found at run time)` : '';
  lines.push(`${plural(items.length, 'work item')}${note}`);
  return lines;
}

export async function listCommand(command: ListCommand, io: CliIO): Promise<number> {
  const missing = new Set<string>();
  const missingFiles = new Set<string>();
  const manifest = manifestPathOf(command.paths);
  const planned = await planWork(command, io, { preview: true, requireTarget: false, lenientEnv: missing, missingFiles });
  printWarnings(planned.scenarios, io);
  const items = await selectWork(planned.items, command);
  const lines = manifest ? manifestLines(manifest, items) : fileLines(items);
  io.stdout.write(`${lines.join('\n')}\n`);
  printMissing(io, missing, missingFiles);
  return EXIT.passed;
}
