import { EXIT, type CliIO } from './io.js';
import type { ServeCommand } from './types.js';
import { mkdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
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

/** The folder given with --mail-root, made if missing (absolute); a folder that cannot be made is unusable input. */
async function mailRootOf(command: ServeCommand): Promise<string | undefined> {
  if (command.mailRoot === undefined) return undefined;
  const dir = resolve(command.mailRoot);
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    if (!isSystemError(error)) throw error;
    const reason = error.code === 'EEXIST' || error.code === 'ENOTDIR' ? 'it is not a folder' : `${error.code}`;
    throw new InputError(`--mail-root ${command.mailRoot}: cannot deliver mail there: ${reason}`);
  }
  return dir;
}

export async function serveCommand(command: ServeCommand, io: CliIO): Promise<number> {
  const domain = (command.domain ?? EMBEDDED_DOMAIN).toLowerCase();
  const mailRoot = await mailRootOf(command);
  const write = (line: string) => io.stdout.write(`[${clock()}] ${line}\n`);
  const server = await startEmbeddedServer({
    host: command.host,
    port: command.port,
    domain,
    ...(mailRoot === undefined ? { temporaryMailRoot: true } : { mailRoot }),
    onEvent: (event) => {
      for (const line of describeEvent(event, domain).split('\n')) write(line);
    },
  }).catch((error: unknown) => {
    if (!isSystemError(error)) throw error;
    const reason = error.code === 'EADDRINUSE' ? 'the address is already in use' : error.message;
    throw new InputError(`cannot listen on ${command.host}:${command.port}: ${reason}`);
  });
  const kept = mailRoot === undefined ? ' (a temporary folder, removed when serve stops; --mail-root DIR keeps the mail)' : '';
  write(`mail is delivered to Maildirs under ${join(server.mailRoot ?? '', '<local part>')}${sep}${kept}; mail to bounce-…@${domain} fails after the 250`);
  await (io.untilStopped ?? new Promise<never>(() => {}));
  write('stopping');
  await server.close();
  return EXIT.interrupted;
}
