import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, ms, ratio, type Row } from './measure.js';
import { startSinkProcess } from './processes.js';
import { FROM, TO } from './fixtures.js';

/**
 * One-off commands as a mail administrator types them: `smtpspec --version` and `smtpspec send --help`
 * against `node -e 0`, whole processes, interleaved; then one transaction with `smtpspec send` against the
 * bench's sink, beside the same transaction with swaks when swaks is installed (it is a Perl program: a
 * machine with Node.js alone has none, and the comparison is then said to be skipped, not made up).
 */

const BIN = fileURLToPath(new URL('../bin/smtpspec.cjs', import.meta.url));
const RUNS = 20;
const TRANSACTIONS = 7;
const log = (text: string): void => void process.stdout.write(`  ${text}\n`);

/** Wall time of one process; throws when it does not exit 0. */
function timed(command: string, args: string[]): number {
  const started = performance.now();
  const result = spawnSync(command, args, { stdio: 'ignore', timeout: 20_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${String(result.status ?? result.signal)}`);
  return performance.now() - started;
}

function hasSwaks(): boolean {
  return spawnSync('swaks', ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

export async function oneoff(): Promise<Row> {
  const bare: number[] = [];
  const version: number[] = [];
  const help: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    // Interleaved, the first alternating, so a busy moment on the machine weighs on all alike.
    if (run % 2 === 0) bare.push(timed(process.execPath, ['-e', '0']));
    version.push(timed(process.execPath, [BIN, '--version']));
    help.push(timed(process.execPath, [BIN, 'send', '--help']));
    if (run % 2 === 1) bare.push(timed(process.execPath, ['-e', '0']));
  }
  const floor = median(bare);
  const versionRatio = median(version) / floor;
  const helpRatio = median(help) / floor;
  log(`node -e 0: median ${ms(floor)}; smtpspec --version: ${ms(median(version))} (${ratio(versionRatio)}); smtpspec send --help: ${ms(median(help))} (${ratio(helpRatio)})`);
  const transaction = await oneTransaction();
  return {
    name: 'one-off start-up: --version / send --help',
    measured: `${ratio(versionRatio)} / ${ratio(helpRatio)} node -e 0 (${ms(floor)})${transaction}`,
    target: '≤ 1.50× node -e 0 each',
    pass: versionRatio <= 1.5 && helpRatio <= 1.5,
  };
}

/** One transaction with `smtpspec send` (and swaks, when there is one) against the sink: shown, not judged. */
async function oneTransaction(): Promise<string> {
  const sink = await startSinkProcess();
  try {
    const server = `127.0.0.1:${sink.port}`;
    const send: number[] = [];
    const swaks: number[] = [];
    const withSwaks = hasSwaks();
    for (let run = 0; run < TRANSACTIONS; run++) {
      send.push(timed(process.execPath, [BIN, 'send', '--server', server, '--from', FROM, '--to', TO, '--body', 'A short message.']));
      if (withSwaks) swaks.push(timed('swaks', ['--server', server, '--from', FROM, '--to', TO, '--body', 'A short message.']));
    }
    const line = `smtpspec send, one transaction: median ${ms(median(send))}`;
    if (!withSwaks) {
      log(`${line}; swaks is not installed here, so it is not compared`);
      return `; send ${ms(median(send))} (no swaks to compare)`;
    }
    log(`${line}; swaks: median ${ms(median(swaks))} (${ratio(median(send) / median(swaks))})`);
    return `; send ${ms(median(send))} vs swaks ${ms(median(swaks))}`;
  } finally {
    await sink.stop();
  }
}
