import { EXIT, printWarnings, type CliIO } from './io.js';
import type { ListCommand } from './types.js';
import { planWork, type WorkItem } from '../engine/plan.js';
import { formatTarget } from '../engine/target-label.js';
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

/** Each target's label, made once however many items share the target. */
function labeller(): (target: WorkItem['target']) => string {
  const labels = new Map<WorkItem['target'], string>();
  return (target) => {
    let label = labels.get(target);
    if (label === undefined) labels.set(target, (label = formatTarget(target)));
    return label;
  };
}

function fileLines(items: WorkItem[]): string[] {
  const lines: string[] = [];
  const label = labeller();
  for (const [, group] of groupBy(items, (item) => `${item.scenario.file}\u0000${label(item.target)}`)) {
    const first = group[0]!;
    lines.push(`${first.scenario.file}  (${label(first.target)})`);
    for (const item of group) lines.push(caseLine(item, '  '));
  }
  const files = new Set(items.map((item) => item.scenario.file)).size;
  lines.push(`${plural(items.length, 'case')} in ${plural(files, 'file')}`);
  return lines;
}

function manifestLines(path: string, items: WorkItem[]): string[] {
  const label = labeller();
  const byTarget = groupBy(items, (item) => label(item.target));
  const files = new Set(items.map((item) => item.scenario.file)).size;
  const lines = [`${path}: ${plural(byTarget.size, 'target')} × ${plural(files, 'file')}`];
  let perMx = 0;
  for (const [label, group] of byTarget) {
    lines.push(label);
    const target = group[0]!.target;
    if (target.kind === 'placeholder' && target.stands === 'mx') perMx += group.length;
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
  const plan = await planWork({
    ...command,
    env: io.env,
    preview: true,
    requireTarget: false,
    lenientEnv: missing,
    missingFiles,
    onLoaded: (scenarios) => printWarnings(scenarios, io),
  });
  const lines = plan.manifest ? manifestLines(plan.manifest, plan.items) : fileLines(plan.items);
  io.stdout.write(`${lines.join('\n')}\n`);
  printMissing(io, missing, missingFiles);
  return EXIT.passed;
}
