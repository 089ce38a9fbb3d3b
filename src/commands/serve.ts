import { EXIT, type CliIO } from './io.js';
import type { ServeCommand } from './types.js';
import { InputError, isSystemError } from '../errors.js';
import { EMBEDDED_DOMAIN, EMBEDDED_USER, embeddedCaFile, startEmbeddedServer, type ServerEvent } from '../server/embedded.js';

function clock(): string {
  return new Date().toISOString().slice(11, 19);
}

/** One log line per event: the seed's "check that the recipient really got the mail", made visible. */
export function describeEvent(event: ServerEvent, domain: string): string {
  switch (event.type) {
    case 'listening':
      return [
        `listening on ${event.host}:${event.port}, accepting mail for @${domain} (nobody@${domain} and no-such-…@${domain} do not exist)`,
        `STARTTLS certificate: ${embeddedCaFile()} (trust it with --ca); AUTH after STARTTLS as ${EMBEDDED_USER.username} / ${EMBEDDED_USER.password}`,
      ].join('\n');
    case 'connect':
      return `session ${event.sessionId}: connection from ${event.remote}`;
    case 'message': {
      const m = event.message;
      const subject = m.subject === undefined ? '(no subject)' : JSON.stringify(m.subject);
      return `session ${m.sessionId}: message from <${m.from}> to ${m.to.map((t) => `<${t}>`).join(', ')}, subject ${subject}, ${m.sizeBytes} bytes`;
    }
    case 'delivery':
      if ('failed' in event) return `session ${event.sessionId}: delivery to <${event.recipient}> failed: ${event.failed}`;
      if (event.report) return `session ${event.sessionId}: delivery report (${event.report}) for <${event.recipient}> in ${event.path}`;
      return `session ${event.sessionId}: delivered to <${event.recipient}> in ${event.path}`;
    case 'close':
      return `session ${event.sessionId}: closed`;
  }
}

export async function serveCommand(command: ServeCommand, io: CliIO): Promise<number> {
  const domain = (command.domain ?? EMBEDDED_DOMAIN).toLowerCase();
  const server = await startEmbeddedServer({
    host: command.host,
    port: command.port,
    domain,
    onEvent: (event) => {
      for (const line of describeEvent(event, domain).split('\n')) io.stdout.write(`[${clock()}] ${line}\n`);
    },
  }).catch((error: unknown) => {
    if (!isSystemError(error)) throw error;
    const reason = error.code === 'EADDRINUSE' ? 'the address is already in use' : error.message;
    throw new InputError(`cannot listen on ${command.host}:${command.port}: ${reason}`);
  });
  await (io.untilStopped ?? new Promise<never>(() => {}));
  io.stdout.write(`[${clock()}] stopping\n`);
  await server.close();
  return EXIT.interrupted;
}
