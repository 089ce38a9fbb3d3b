import { BENCHMARKS, memory, retained, sessions, startup, stream, type BenchmarkName } from './benchmarks.js';
import { table, type Row } from './measure.js';

/**
 * `npm run bench [-- name…]`: measures smtpspec against its targets and prints a table.
 * It measures and never gates: the exit code is 0 whatever the figures (2 for unknown names).
 */

const RUN: Record<BenchmarkName, () => Promise<Row>> = { sessions, memory, retained, startup, stream };

function selected(args: string[]): BenchmarkName[] | undefined {
  if (args.length === 0) return [...BENCHMARKS];
  const unknown = args.filter((name) => !BENCHMARKS.includes(name as BenchmarkName));
  if (unknown.length === 0) return args as BenchmarkName[];
  process.stderr.write(`unknown benchmark ${unknown.join(', ')} (choose from ${BENCHMARKS.join(', ')})\n`);
  return undefined;
}

const names = selected(process.argv.slice(2));
if (!names) process.exit(2);
const rows: Row[] = [];
for (const name of names) {
  process.stdout.write(`${name}\n`);
  try {
    rows.push(await RUN[name]());
  } catch (error) {
    process.stdout.write(`  could not measure: ${(error as Error).message}\n`);
    rows.push({ name, measured: 'not measured', target: '', pass: false });
  }
}
process.stdout.write(`\n${table(rows)}\n`);
process.exit(0);
