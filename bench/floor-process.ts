import { floorPool, type FloorOptions } from './floor-client.js';

/**
 * The floor client as a whole process, the counterpart of one `smtpspec run`:
 * node floor-process.js '{"port":N,"sessions":N,"concurrency":N,"message":{"text":"…"}|{"file":"…"}}'.
 * Exits 0 when every session went as expected, 1 (with the first error on stderr) when not.
 */

interface FloorJob {
  port: number;
  sessions: number;
  concurrency: number;
  message: FloorOptions['message'];
}

const job = JSON.parse(process.argv[2] ?? '{}') as FloorJob;
const options: FloorOptions = { host: '127.0.0.1', port: job.port, from: 'bench@bench.invalid', to: 'user@example.test', message: job.message, timeoutMs: 120_000 };
const outcome = await floorPool(options, job.sessions, job.concurrency);
if (outcome.failed > 0) process.stderr.write(`${outcome.failed} floor sessions failed, e.g. ${outcome.firstError ?? '?'}\n`);
process.exitCode = outcome.failed > 0 ? 1 : 0;
