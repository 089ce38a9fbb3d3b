import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

/** A metric family as the Prometheus text parser from npm reads it. */
export interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  metrics: { value: string; labels?: Record<string, string> }[];
}

const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

/**
 * Parses with `parse-prometheus-text-format` (which throws on a malformed line), after checking what only
 * OpenMetrics asks for: `# EOF` last and once, every family's TYPE before its samples, a UNIT's name as the
 * family's suffix, each series once, and no blank line.
 */
export function parseOpenMetrics(text: string): ParsedFamily[] {
  assert.ok(text.endsWith('# EOF\n'), 'ends with # EOF');
  const lines = text.slice(0, -1).split('\n');
  assert.equal(lines.filter((line) => line === '# EOF').length, 1);
  const typed = new Set<string>();
  const series = new Set<string>();
  for (const line of lines.slice(0, -1)) {
    assert.notEqual(line, '', 'no blank line');
    const meta = /^# (TYPE|UNIT|HELP) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') typed.add(meta[2]!);
      if (meta[1] === 'UNIT') assert.ok(meta[2]!.endsWith(`_${meta[3]}`), `unit suffix: ${line}`);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    assert.ok(sample, `a sample line: ${line}`);
    const family = sample[1]!.replace(/_total$/, '');
    assert.ok(typed.has(family) || typed.has(sample[1]!), `TYPE before ${line}`);
    assert.ok(!series.has(`${sample[1]}${sample[2] ?? ''}`), `each series once: ${line}`);
    series.add(`${sample[1]}${sample[2] ?? ''}`);
  }
  return mergeCounters(parsePrometheus(text));
}

/**
 * The parser reads the older Prometheus text format, where a counter's TYPE line names its samples (`x_total`);
 * OpenMetrics names the family (`x`) and its samples `x_total`. The parser then has a COUNTER family without
 * samples and an untyped one with them: put them together, as OpenMetrics means them.
 */
function mergeCounters(families: ParsedFamily[]): ParsedFamily[] {
  const byName = new Map(families.map((f) => [f.name, f]));
  return families.flatMap((f) => {
    const counter = f.name.endsWith('_total') ? byName.get(f.name.slice(0, -'_total'.length)) : undefined;
    if (!counter || counter.type !== 'COUNTER' || f.type !== 'UNTYPED') return [f];
    counter.metrics.push(...f.metrics);
    return [];
  });
}

export function family(families: ParsedFamily[], name: string): ParsedFamily {
  const found = families.find((f) => f.name === name);
  assert.ok(found, `family ${name}`);
  return found;
}
