import { createInterface } from 'node:readline';
import { startSink, type SinkOptions } from './sink-server.js';

/**
 * The sink in a process of its own, so it neither shares the client's event loop nor counts
 * in its memory. Usage: node sink-process.js '<SinkOptions as JSON>'; prints {"port":N},
 * then serves until its stdin closes. Each line "window" on stdin is answered with one line:
 * the sink's SinkWindow as JSON.
 */

const sink = await startSink(JSON.parse(process.argv[2] ?? '{}') as SinkOptions);
process.stdout.write(`${JSON.stringify({ port: sink.port })}\n`);
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === 'window') process.stdout.write(`${JSON.stringify(sink.window())}\n`);
});
lines.on('close', () => void sink.close().then(() => process.exit(0)));
