import { startSink, type SinkOptions } from './sink-server.js';

/**
 * The sink in a process of its own, so it neither shares the client's event loop nor counts
 * in its memory. Usage: node sink-process.js '<SinkOptions as JSON>'; prints {"port":N},
 * then serves until its stdin closes.
 */

const sink = await startSink(JSON.parse(process.argv[2] ?? '{}') as SinkOptions);
process.stdout.write(`${JSON.stringify({ port: sink.port })}\n`);
process.stdin.resume();
process.stdin.on('close', () => void sink.close().then(() => process.exit(0)));
