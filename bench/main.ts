import { engineStream, memory, retained, sessions } from './benchmarks.js';
import { bigManifest, commandFile, commandManifest, heldOpen, startup, stream, type BenchContext } from './commands.js';
import { table, type Row } from './measure.js';
import { oneoff } from './oneoff.js';

/**
 * `npm run bench [-- [--profile] name…]`: measures smtpspec against its targets and prints a table.
 * The command as users run it first (whole processes against the floor client), then the in-process engine.
 * `--profile`: where a command's figure misses its target, run it once more under --cpu-prof and print
 * the functions that took the most CPU. It measures and never gates: the exit code is 0 whatever the
 * figures (2 for unknown names).
 */

const RUN = {
  // Start-up first: right after thousands of connections close, the system is still busy with them.
  startup,
  oneoff: () => oneoff(),
  'command-manifest': commandManifest,
  'command-file': commandFile,
  'held-open': heldOpen,
  'big-manifest': bigManifest,
  stream,
  sessions: () => sessions(),
  memory: () => memory(),
  retained: () => retained(),
  'engine-stream': () => engineStream(),
} satisfies Record<string, (context: BenchContext) => Promise<Row>>;

type BenchmarkName = keyof typeof RUN;
const BENCHMARKS = Object.keys(RUN) as BenchmarkName[];

function selected(args: string[]): BenchmarkName[] | undefined {
  if (args.length === 0) return BENCHMARKS;
  const unknown = args.filter((name) => !BENCHMARKS.includes(name as BenchmarkName));
  if (unknown.length === 0) return args as BenchmarkName[];
  process.stderr.write(`unknown benchmark ${unknown.join(', ')} (choose from ${BENCHMARKS.join(', ')}; --profile to profile what misses its target)\n`);
  return undefined;
}

const args = process.argv.slice(2);
const context: BenchContext = { profile: args.includes('--profile') };
const names = selected(args.filter((arg) => arg !== '--profile'));
if (!names) process.exit(2);
const rows: Row[] = [];
for (const name of names) {
  process.stdout.write(`${name}\n`);
  try {
    rows.push(await RUN[name](context));
  } catch (error) {
    process.stdout.write(`  could not measure: ${(error as Error).message}\n`);
    rows.push({ name, measured: 'not measured', target: '', pass: false });
  }
}
process.stdout.write(`\n${table(rows)}\n`);
process.exit(0);
